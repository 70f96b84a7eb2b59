-- An Idempotency-Key's claim lasts as long as its request may: a claim left "in
-- progress" by a process that died is abandoned once its lease ends, and the key
-- is claimed again by the client's retry instead of answering 409 for a day.

-- +goose Up
ALTER TABLE idempotency_keys ADD COLUMN lease_until DATETIME NULL;
UPDATE idempotency_keys SET lease_until = created_at;

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN lease_until;
