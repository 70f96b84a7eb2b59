-- The holders declaration to the Caisse des Dépôts (HOLDERS-DECLARATION). A
-- declaration file is a flux made to be uploaded to the Caisse: it keeps each of its
-- records as it was sent (the JSON of the record), so that its XML can be written
-- again word for word, and what the Caisse's receipt said of each. An award that went
-- into a file has a row in award_declarations, its current state; an award without
-- one is not declared yet. Awards themselves are the valid certificates of current
-- award decisions, read where they are.

-- +goose Up
CREATE TABLE declaration_files (
    id                  CHAR(36)     NOT NULL PRIMARY KEY,
    created_at          DATETIME     NOT NULL,
    awarded_to          DATE         NOT NULL,
    client_id           VARCHAR(8)   NOT NULL,
    contract_id         VARCHAR(20)  NOT NULL,
    records             INTEGER      NOT NULL,
    accepted            INTEGER      NOT NULL,
    rejected            INTEGER      NOT NULL,
    receipt_imported_at DATETIME     NULL,
    processing_id       VARCHAR(100) NULL
);

CREATE TABLE declaration_records (
    file_id      CHAR(36)      NOT NULL,
    ordinal      INTEGER       NOT NULL,
    decision_id  CHAR(36)      NOT NULL,
    id_technique VARCHAR(255)  NOT NULL,
    record       TEXT          NOT NULL,
    state        VARCHAR(20)   NOT NULL,
    message      VARCHAR(2000) NULL,
    PRIMARY KEY (file_id, ordinal),
    UNIQUE (file_id, id_technique),
    UNIQUE (file_id, decision_id),
    FOREIGN KEY (file_id) REFERENCES declaration_files (id),
    FOREIGN KEY (decision_id) REFERENCES decisions (id)
);

CREATE TABLE award_declarations (
    decision_id CHAR(36)      NOT NULL PRIMARY KEY,
    file_id     CHAR(36)      NOT NULL,
    state       VARCHAR(20)   NOT NULL,
    message     VARCHAR(2000) NULL,
    updated_at  DATETIME      NOT NULL,
    FOREIGN KEY (decision_id) REFERENCES decisions (id),
    FOREIGN KEY (file_id) REFERENCES declaration_files (id)
);
CREATE INDEX award_declarations_file ON award_declarations (file_id, state);

-- +goose Down
DROP TABLE award_declarations;
DROP TABLE declaration_records;
DROP TABLE declaration_files;
