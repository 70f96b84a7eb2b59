-- Registration periods become resources of their own, corrected in place under
-- If-Match: each carries a version and when it last changed. The periods recorded so
-- far start at version 1, unchanged since they were recorded. The columns are added
-- with a constant default, the only kind SQLite adds to a table that has rows; the
-- service always writes both. The certifications' versions move on, since their
-- referential now shows each period's version.

-- +goose Up
ALTER TABLE registration_periods ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE registration_periods ADD COLUMN updated_at DATETIME NOT NULL DEFAULT '1970-01-01 00:00:00';
UPDATE registration_periods SET updated_at = created_at;
UPDATE certifications SET version = version + 1;

-- +goose Down
ALTER TABLE registration_periods DROP COLUMN updated_at;
ALTER TABLE registration_periods DROP COLUMN version;
UPDATE certifications SET version = version + 1;
