-- Juries to certificates: jury members and their declared links, jury sessions and
-- their members' signatures, defences (E4 sittings booked in a session's slot),
-- decisions and the components they validate, certificates. Also the rows of
-- RULES.md that changed: a route may open on a date and keep its acquisitions for
-- good (VAE), the award grace period, the experience a VAE admissibility relied on,
-- and a registration superseded by the person's next one (CARRY-OVER).
-- Indexes on columns this migration adds to existing tables are in 00005: dropping
-- an index is not written alike on both databases.

-- +goose Up
ALTER TABLE certifications ADD COLUMN award_grace_months INTEGER NOT NULL DEFAULT 12;
ALTER TABLE certification_routes ADD COLUMN opens_on DATE NULL;
ALTER TABLE certification_routes ADD COLUMN permanent_acquisitions BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE certification_routes SET opens_on = '2014-01-01', permanent_acquisitions = TRUE
    WHERE certification_code = 'RNCP26206' AND id = 'vae';
UPDATE certifications SET version = version + 1;

ALTER TABLE candidates ADD COLUMN vae_experience_months INTEGER NULL;
ALTER TABLE candidates ADD COLUMN vae_required_months INTEGER NULL;
ALTER TABLE candidates ADD COLUMN superseded_by CHAR(36) NULL;
ALTER TABLE candidates ADD COLUMN certificate_number VARCHAR(40) NULL;

CREATE TABLE jury_members (
    id           CHAR(36)     NOT NULL PRIMARY KEY,
    full_name    VARCHAR(200) NOT NULL,
    role         VARCHAR(30)  NOT NULL,
    organisation VARCHAR(200) NOT NULL,
    email        VARCHAR(254) NOT NULL,
    phone        VARCHAR(30)  NULL,
    active       BOOLEAN      NOT NULL,
    version      INTEGER      NOT NULL,
    created_at   DATETIME     NOT NULL,
    updated_at   DATETIME     NOT NULL
);

CREATE TABLE jury_member_links (
    jury_member_id   CHAR(36)    NOT NULL,
    ordinal          INTEGER     NOT NULL,
    kind             VARCHAR(20) NOT NULL,
    candidate_id     CHAR(36)    NULL,
    training_site_id CHAR(36)    NULL,
    PRIMARY KEY (jury_member_id, ordinal),
    FOREIGN KEY (jury_member_id) REFERENCES jury_members (id),
    FOREIGN KEY (candidate_id) REFERENCES candidates (id),
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id)
);

CREATE TABLE jury_sessions (
    id                      CHAR(36)    NOT NULL PRIMARY KEY,
    certification_code      VARCHAR(20) NOT NULL,
    training_site_id        CHAR(36)    NOT NULL,
    held_on                 DATE        NOT NULL,
    status                  VARCHAR(20) NOT NULL,
    deliberation_started_at DATETIME    NULL,
    closed_at               DATETIME    NULL,
    version                 INTEGER     NOT NULL,
    created_at              DATETIME    NOT NULL,
    updated_at              DATETIME    NOT NULL,
    FOREIGN KEY (certification_code) REFERENCES certifications (code),
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id)
);
CREATE INDEX jury_sessions_held_on ON jury_sessions (held_on);

CREATE TABLE jury_session_members (
    jury_session_id CHAR(36) NOT NULL,
    jury_member_id  CHAR(36) NOT NULL,
    ordinal         INTEGER  NOT NULL,
    signed_at       DATETIME NULL,
    PRIMARY KEY (jury_session_id, jury_member_id),
    FOREIGN KEY (jury_session_id) REFERENCES jury_sessions (id),
    FOREIGN KEY (jury_member_id) REFERENCES jury_members (id)
);
CREATE INDEX jury_session_members_member ON jury_session_members (jury_member_id);

ALTER TABLE evaluations RENAME COLUMN site_id TO training_site_id;
ALTER TABLE evaluations ADD COLUMN jury_session_id CHAR(36) NULL;
ALTER TABLE evaluations ADD COLUMN ends_at DATETIME NULL;
ALTER TABLE evaluations ADD COLUMN validated_by CHAR(36) NULL;

CREATE TABLE decisions (
    id              CHAR(36)      NOT NULL PRIMARY KEY,
    jury_session_id CHAR(36)      NOT NULL,
    candidate_id    CHAR(36)      NOT NULL,
    outcome         VARCHAR(20)   NOT NULL,
    reason          VARCHAR(2000) NOT NULL,
    revision        INTEGER       NOT NULL,
    corrects_id     CHAR(36)      NULL,
    superseded_by   CHAR(36)      NULL,
    decided_at      DATETIME      NOT NULL,
    decided_by      VARCHAR(100)  NOT NULL,
    published_at    DATETIME      NULL,
    UNIQUE (jury_session_id, candidate_id, revision),
    FOREIGN KEY (jury_session_id) REFERENCES jury_sessions (id),
    FOREIGN KEY (candidate_id) REFERENCES candidates (id)
);
CREATE INDEX decisions_candidate ON decisions (candidate_id, published_at);

CREATE TABLE decision_components (
    decision_id   CHAR(36)    NOT NULL,
    component     VARCHAR(10) NOT NULL,
    evaluation_id CHAR(36)    NOT NULL,
    acquired_on   DATE        NOT NULL,
    valid_until   DATE        NULL,
    validated_now BOOLEAN     NOT NULL,
    ordinal       INTEGER     NOT NULL,
    PRIMARY KEY (decision_id, component),
    FOREIGN KEY (decision_id) REFERENCES decisions (id),
    FOREIGN KEY (evaluation_id) REFERENCES evaluations (id)
);

CREATE TABLE certificates (
    number             VARCHAR(40)   NOT NULL PRIMARY KEY,
    kind               VARCHAR(20)   NOT NULL,
    decision_id        CHAR(36)      NOT NULL UNIQUE,
    candidate_id       CHAR(36)      NOT NULL,
    certification_code VARCHAR(20)   NOT NULL,
    holder_name        VARCHAR(400)  NOT NULL,
    awarded_on         DATE          NOT NULL,
    issued_at          DATETIME      NOT NULL,
    status             VARCHAR(20)   NOT NULL,
    revoked_at         DATETIME      NULL,
    revocation_reason  VARCHAR(1000) NULL,
    version            INTEGER       NOT NULL,
    FOREIGN KEY (decision_id) REFERENCES decisions (id),
    FOREIGN KEY (candidate_id) REFERENCES candidates (id),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);
CREATE INDEX certificates_candidate ON certificates (candidate_id);

-- +goose Down
DROP TABLE certificates;
DROP TABLE decision_components;
DROP TABLE decisions;
ALTER TABLE evaluations DROP COLUMN validated_by;
ALTER TABLE evaluations DROP COLUMN ends_at;
ALTER TABLE evaluations DROP COLUMN jury_session_id;
ALTER TABLE evaluations RENAME COLUMN training_site_id TO site_id;
DROP TABLE jury_session_members;
DROP TABLE jury_sessions;
DROP TABLE jury_member_links;
DROP TABLE jury_members;
ALTER TABLE candidates DROP COLUMN certificate_number;
ALTER TABLE candidates DROP COLUMN superseded_by;
ALTER TABLE candidates DROP COLUMN vae_required_months;
ALTER TABLE candidates DROP COLUMN vae_experience_months;
ALTER TABLE certification_routes DROP COLUMN permanent_acquisitions;
ALTER TABLE certification_routes DROP COLUMN opens_on;
ALTER TABLE certifications DROP COLUMN award_grace_months;
