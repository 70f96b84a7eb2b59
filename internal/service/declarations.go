package service

// DeclarationsTx is what the declarations use cases read and write in a unit of work.
type DeclarationsTx interface{}
