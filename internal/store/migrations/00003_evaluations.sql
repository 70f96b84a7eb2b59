-- Evaluations: one sitting of a component by a candidate, at a certification site,
-- and its result. validated_on is set when a jury validates the result; from then on
-- the component counts as acquired (for the certification's validity).

-- +goose Up
CREATE TABLE evaluations (
    id                  CHAR(36)      NOT NULL PRIMARY KEY,
    candidate_id        CHAR(36)      NOT NULL,
    certification_code  VARCHAR(20)   NOT NULL,
    component           VARCHAR(10)   NOT NULL,
    site_id             CHAR(36)      NOT NULL,
    scheduled_at        DATETIME      NOT NULL,
    status              VARCHAR(20)   NOT NULL,
    grade               DECIMAL(6, 2) NULL,
    dossier_grade       DECIMAL(6, 2) NULL,
    defence_grade       DECIMAL(6, 2) NULL,
    result_recorded_at  DATETIME      NULL,
    result_corrected    BOOLEAN       NOT NULL,
    validated_on        DATE          NULL,
    cancelled_at        DATETIME      NULL,
    cancellation_reason VARCHAR(1000) NULL,
    version             INTEGER       NOT NULL,
    created_at          DATETIME      NOT NULL,
    updated_at          DATETIME      NOT NULL,
    FOREIGN KEY (candidate_id) REFERENCES candidates (id),
    FOREIGN KEY (certification_code, component) REFERENCES certification_components (certification_code, id),
    FOREIGN KEY (site_id) REFERENCES training_sites (id)
);
CREATE INDEX evaluations_candidate ON evaluations (candidate_id, component);
CREATE INDEX evaluations_site ON evaluations (site_id, scheduled_at);
CREATE INDEX evaluations_scheduled_at ON evaluations (scheduled_at);

-- +goose Down
DROP TABLE evaluations;
