-- Accounts for partners and for people on the move: partner applications and their
-- hashed secrets (client credentials), refresh tokens (opaque, hashed, rotated on
-- use, in families that are revoked whole), the one-time password reset an
-- administrator issues, and, on each account, the instant before which its access
-- tokens stopped working (a password changed or reset, a deactivation).
-- Hashes are SHA-256 in hex: what they hash are random strings of 256 bits, which no
-- one guesses, so a slow hash would add nothing.

-- +goose Up
CREATE TABLE api_clients (
    id                CHAR(36)     NOT NULL PRIMARY KEY,
    client_id         VARCHAR(100) NOT NULL UNIQUE,
    name              VARCHAR(200) NOT NULL,
    scopes            VARCHAR(200) NOT NULL,
    training_site_id  CHAR(36)     NULL,
    secret_hash       CHAR(64)     NOT NULL,
    active            BOOLEAN      NOT NULL,
    revoked_at        DATETIME     NULL,
    secret_rotated_at DATETIME     NOT NULL,
    version           INTEGER      NOT NULL,
    created_at        DATETIME     NOT NULL,
    updated_at        DATETIME     NOT NULL,
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id)
);

CREATE TABLE refresh_tokens (
    id         CHAR(36) NOT NULL PRIMARY KEY,
    family_id  CHAR(36) NOT NULL,
    user_id    CHAR(36) NOT NULL,
    token_hash CHAR(64) NOT NULL UNIQUE,
    issued_at  DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME NULL,
    revoked_at DATETIME NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, revoked_at);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- One reset at a time per account: a new one replaces the previous.
CREATE TABLE password_resets (
    user_id    CHAR(36) NOT NULL PRIMARY KEY,
    token_hash CHAR(64) NOT NULL UNIQUE,
    expires_at DATETIME NOT NULL,
    created_at DATETIME NOT NULL,
    FOREIGN KEY (user_id) REFERENCES users (id)
);

ALTER TABLE users ADD COLUMN sessions_valid_after DATETIME NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN sessions_valid_after;
DROP TABLE password_resets;
DROP TABLE refresh_tokens;
DROP TABLE api_clients;
