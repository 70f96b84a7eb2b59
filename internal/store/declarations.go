package store

// declarationModels are the row structs of the declarations.
var declarationModels = []any{}
