package store

// resultModels are the row structs of the results.
var resultModels = []any{}
