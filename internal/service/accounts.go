package service

// AccountsTx is what the accounts use cases read and write in a unit of work.
type AccountsTx interface{}
