package store

// accountModels are the row structs of the accounts.
var accountModels = []any{}
