-- Candidates. identity_key is the normalised (birth name, first name, birth date,
-- certification) of a candidate who has not withdrawn: its unique index makes a
-- duplicate registration fail even between two concurrent requests. search_name
-- holds the names lower-cased and without accents, for the name search.

-- +goose Up
CREATE TABLE candidates (
    id                      CHAR(36)      NOT NULL PRIMARY KEY,
    certification_code      VARCHAR(20)   NOT NULL,
    route                   VARCHAR(40)   NOT NULL,
    training_site_id        CHAR(36)      NULL,
    enrolled_on             DATE          NOT NULL,
    first_name              VARCHAR(100)  NOT NULL,
    birth_name              VARCHAR(100)  NOT NULL,
    usage_name              VARCHAR(100)  NULL,
    sex                     CHAR(1)       NOT NULL,
    birth_date              DATE          NOT NULL,
    birth_insee_code        VARCHAR(5)    NULL,
    birth_postal_code       VARCHAR(10)   NULL,
    birth_place_name        VARCHAR(100)  NOT NULL,
    birth_country_code      CHAR(2)       NOT NULL,
    email                   VARCHAR(254)  NOT NULL,
    phone                   VARCHAR(30)   NULL,
    line1                   VARCHAR(200)  NOT NULL,
    line2                   VARCHAR(200)  NULL,
    postal_code             VARCHAR(10)   NOT NULL,
    city                    VARCHAR(100)  NOT NULL,
    country_code            CHAR(2)       NOT NULL,
    status                  VARCHAR(30)   NOT NULL,
    vae_admissibility       VARCHAR(20)   NULL,
    vae_decided_on          DATE          NULL,
    withdrawn_on            DATE          NULL,
    withdrawal_reason       VARCHAR(1000) NULL,
    identity_key            VARCHAR(255)  NULL,
    search_name             VARCHAR(400)  NOT NULL,
    version                 INTEGER       NOT NULL,
    created_at              DATETIME      NOT NULL,
    updated_at              DATETIME      NOT NULL,
    UNIQUE (identity_key),
    FOREIGN KEY (certification_code) REFERENCES certifications (code),
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id)
);
CREATE INDEX candidates_site ON candidates (training_site_id, id);
CREATE INDEX candidates_enrolled_on ON candidates (enrolled_on);
CREATE INDEX candidates_status ON candidates (status);

-- +goose Down
DROP TABLE candidates;
