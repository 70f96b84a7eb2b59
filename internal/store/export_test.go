package store

// Models exposes the row structs to the schema test.
var Models = models
