-- Rate-limit counts, in the database so that every instance of the service counts
-- the same attempts: per client address on the token endpoint and on certificate
-- verification, per account for failed logins. A count lives until its window ends.

-- +goose Up
CREATE TABLE rate_limit_counts (
    limit_key    VARCHAR(250) NOT NULL,
    window_start DATETIME     NOT NULL,
    hits         INTEGER      NOT NULL,
    expires_at   DATETIME     NOT NULL,
    PRIMARY KEY (limit_key, window_start)
);
CREATE INDEX rate_limit_counts_expires_at ON rate_limit_counts (expires_at);

-- +goose Down
DROP TABLE rate_limit_counts;
