-- The results feed and its webhooks. Each published decision and each revoked
-- certificate is an entry of result_events, numbered from result_event_counter: the
-- transaction that publishes locks the counter's row until it commits, so entries
-- are numbered in the order their transactions commit, without gaps, and a reader
-- that resumes after entry n never misses one committed later with a smaller
-- number. recorded_at never goes back from one entry to the next (the counter keeps
-- the latest), so that updated_since is a place in the sequence.
-- Subscriptions belong to partner applications; each event they receive is a
-- delivery (the outbox row, written with the entry), tried until a 2xx answer or
-- the last retry, every attempt kept.
-- Certificates are listed in the order of the entries that published them.

-- +goose Up
CREATE TABLE result_event_counter (
    id               INTEGER  NOT NULL PRIMARY KEY,
    last_sequence    BIGINT   NOT NULL,
    last_recorded_at DATETIME NULL
);
INSERT INTO result_event_counter (id, last_sequence, last_recorded_at) VALUES (1, 0, NULL);

CREATE TABLE result_events (
    sequence           BIGINT       NOT NULL PRIMARY KEY,
    type               VARCHAR(30)  NOT NULL,
    recorded_at        DATETIME     NOT NULL,
    certification_code VARCHAR(20)  NOT NULL,
    decision_id        CHAR(36)     NOT NULL,
    jury_session_id    CHAR(36)     NOT NULL,
    held_on            DATE         NOT NULL,
    outcome            VARCHAR(20)  NOT NULL,
    corrects_id        CHAR(36)     NULL,
    candidate_id       CHAR(36)     NOT NULL,
    first_name         VARCHAR(100) NOT NULL,
    birth_name         VARCHAR(100) NOT NULL,
    usage_name         VARCHAR(100) NULL,
    training_site_id   CHAR(36)     NULL,
    route              VARCHAR(40)  NOT NULL,
    certificate_number VARCHAR(40)  NULL,
    certificate_status VARCHAR(20)  NULL,
    FOREIGN KEY (decision_id) REFERENCES decisions (id),
    FOREIGN KEY (candidate_id) REFERENCES candidates (id)
);
CREATE INDEX result_events_certification ON result_events (certification_code, sequence);
CREATE INDEX result_events_site ON result_events (training_site_id, sequence);
CREATE INDEX result_events_recorded_at ON result_events (recorded_at);
CREATE INDEX result_events_decision ON result_events (decision_id);

-- The decisions published and the certificates revoked before the feed existed, in
-- the order they happened, as the service records them: at one instant, the
-- revocation of a corrected decision's certificate before the correction, and the
-- decisions of a session in the order of their candidates.
INSERT INTO result_events (sequence, type, recorded_at, certification_code, decision_id, jury_session_id, held_on, outcome,
    corrects_id, candidate_id, first_name, birth_name, usage_name, training_site_id, route, certificate_number, certificate_status)
SELECT ROW_NUMBER() OVER (ORDER BY x.at, x.kind, d.candidate_id, x.decision_id), x.type, x.at, s.certification_code, x.decision_id, s.id,
    s.held_on, d.outcome, d.corrects_id, c.id, c.first_name, c.birth_name, c.usage_name, c.training_site_id, c.route,
    x.certificate_number, x.certificate_status
FROM (
    SELECT d.published_at AS at, 1 AS kind, 'result_published' AS type, d.id AS decision_id, cert.number AS certificate_number,
        CASE WHEN cert.number IS NULL THEN NULL ELSE 'valid' END AS certificate_status
    FROM decisions d LEFT JOIN certificates cert ON cert.decision_id = d.id
    WHERE d.published_at IS NOT NULL
    UNION ALL
    SELECT cert.revoked_at, 0, 'certificate_revoked', cert.decision_id, cert.number, 'revoked'
    FROM certificates cert
    WHERE cert.status = 'revoked' AND cert.revoked_at IS NOT NULL
) x
JOIN decisions d ON d.id = x.decision_id
JOIN jury_sessions s ON s.id = d.jury_session_id
JOIN candidates c ON c.id = d.candidate_id;
UPDATE result_event_counter SET last_sequence = (SELECT COUNT(*) FROM result_events),
    last_recorded_at = (SELECT MAX(recorded_at) FROM result_events);

CREATE TABLE webhook_subscriptions (
    id               CHAR(36)      NOT NULL PRIMARY KEY,
    client_id        CHAR(36)      NOT NULL,
    training_site_id CHAR(36)      NULL,
    url              VARCHAR(2000) NOT NULL,
    url_hash         CHAR(64)      NOT NULL,
    events           VARCHAR(200)  NOT NULL,
    secret           VARCHAR(200)  NOT NULL,
    active           BOOLEAN       NOT NULL,
    version          INTEGER       NOT NULL,
    created_at       DATETIME      NOT NULL,
    updated_at       DATETIME      NOT NULL,
    UNIQUE (client_id, url_hash),
    FOREIGN KEY (client_id) REFERENCES api_clients (id),
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id)
);

CREATE TABLE webhook_deliveries (
    id              CHAR(36)     NOT NULL PRIMARY KEY,
    subscription_id CHAR(36)     NOT NULL,
    sequence        BIGINT       NOT NULL,
    event_type      VARCHAR(40)  NOT NULL,
    status          VARCHAR(20)  NOT NULL,
    attempts        INTEGER      NOT NULL,
    next_attempt_at DATETIME     NULL,
    lease_owner     VARCHAR(100) NULL,
    lease_until     DATETIME     NULL,
    created_at      DATETIME     NOT NULL,
    delivered_at    DATETIME     NULL,
    FOREIGN KEY (subscription_id) REFERENCES webhook_subscriptions (id),
    FOREIGN KEY (sequence) REFERENCES result_events (sequence)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id);

CREATE TABLE webhook_attempts (
    delivery_id  CHAR(36)     NOT NULL,
    attempt      INTEGER      NOT NULL,
    attempted_at DATETIME     NOT NULL,
    status_code  INTEGER      NULL,
    error        VARCHAR(500) NULL,
    duration_ms  INTEGER      NOT NULL,
    PRIMARY KEY (delivery_id, attempt),
    FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id)
);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
DROP TABLE result_events;
DROP TABLE result_event_counter;
