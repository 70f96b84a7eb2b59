package store

import "context"

// Models exposes the row structs to the schema test.
var Models = models

// MigrateUpTo applies the migrations up to version v, for the tests of a migration
// on a database that holds data.
func (s *Store) MigrateUpTo(ctx context.Context, v int64) error {
	p, err := s.migrator()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, v)
	return err
}
