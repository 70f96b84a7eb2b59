package service

// ResultsTx is what the results use cases read and write in a unit of work.
type ResultsTx interface{}
