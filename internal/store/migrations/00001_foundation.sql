-- The foundation: the certification referential of RNCP26206 as its RNCP sheet gives
-- it, training sites, accounts, idempotency keys and the audit trail.
-- This SQL runs unchanged on MySQL/MariaDB and SQLite: keep to types and syntax both
-- accept (no ENGINE clauses, no AUTO_INCREMENT, DATETIME without precision).

-- +goose Up
CREATE TABLE certifications (
    code                        VARCHAR(20)  NOT NULL PRIMARY KEY,
    title                       VARCHAR(300) NOT NULL,
    certifier                   VARCHAR(300) NOT NULL,
    signatory                   VARCHAR(300) NOT NULL,
    level_1969                  VARCHAR(10)  NOT NULL,
    level_eqf                   INTEGER      NOT NULL,
    summary                     TEXT         NOT NULL,
    jury_size                   INTEGER      NOT NULL,
    jury_pedagogical_directors  INTEGER      NOT NULL,
    jury_professionals          INTEGER      NOT NULL,
    jury_description_fr         VARCHAR(300) NOT NULL,
    jury_description_en         VARCHAR(300) NOT NULL,
    validity_years              INTEGER      NULL,
    version                     INTEGER      NOT NULL,
    created_at                  DATETIME     NOT NULL,
    updated_at                  DATETIME     NOT NULL
);

CREATE TABLE certification_classifications (
    certification_code VARCHAR(20)  NOT NULL,
    kind               VARCHAR(10)  NOT NULL,
    code               VARCHAR(20)  NOT NULL,
    label              VARCHAR(300) NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, kind, code),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE certification_functions (
    certification_code VARCHAR(20)  NOT NULL,
    id                 VARCHAR(20)  NOT NULL,
    title_fr           VARCHAR(300) NOT NULL,
    title_en           VARCHAR(300) NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, id),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE certification_activities (
    certification_code VARCHAR(20)  NOT NULL,
    function_id        VARCHAR(20)  NOT NULL,
    id                 VARCHAR(20)  NOT NULL,
    title_fr           VARCHAR(300) NOT NULL,
    title_en           VARCHAR(300) NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, id),
    FOREIGN KEY (certification_code, function_id) REFERENCES certification_functions (certification_code, id)
);

CREATE TABLE certification_capacities (
    certification_code VARCHAR(20)  NOT NULL,
    id                 VARCHAR(20)  NOT NULL,
    statement_fr       VARCHAR(500) NOT NULL,
    statement_en       VARCHAR(500) NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, id),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE certification_components (
    certification_code VARCHAR(20)   NOT NULL,
    id                 VARCHAR(10)   NOT NULL,
    title_fr           VARCHAR(500)  NOT NULL,
    title_en           VARCHAR(500)  NOT NULL,
    form               VARCHAR(30)   NOT NULL,
    scale_min          DECIMAL(5, 2) NOT NULL,
    scale_max          DECIMAL(5, 2) NOT NULL,
    pass_mark          DECIMAL(5, 2) NOT NULL,
    combination        VARCHAR(20)   NULL,
    ordinal            INTEGER       NOT NULL,
    PRIMARY KEY (certification_code, id),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE certification_component_parts (
    certification_code VARCHAR(20)  NOT NULL,
    component_id       VARCHAR(10)  NOT NULL,
    id                 VARCHAR(20)  NOT NULL,
    title_fr           VARCHAR(300) NOT NULL,
    title_en           VARCHAR(300) NOT NULL,
    duration_minutes   INTEGER      NULL,
    before_jury        BOOLEAN      NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, component_id, id),
    FOREIGN KEY (certification_code, component_id) REFERENCES certification_components (certification_code, id)
);

CREATE TABLE certification_routes (
    certification_code VARCHAR(20)  NOT NULL,
    id                 VARCHAR(40)  NOT NULL,
    label_fr           VARCHAR(300) NOT NULL,
    label_en           VARCHAR(300) NOT NULL,
    is_open            BOOLEAN      NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, id),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE certification_excluded_territories (
    certification_code VARCHAR(20)  NOT NULL,
    code               VARCHAR(10)  NOT NULL,
    name_fr            VARCHAR(100) NOT NULL,
    name_en            VARCHAR(100) NOT NULL,
    postal_code_prefix VARCHAR(10)  NOT NULL,
    ordinal            INTEGER      NOT NULL,
    PRIMARY KEY (certification_code, code),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE registration_periods (
    id                 CHAR(36)      NOT NULL PRIMARY KEY,
    certification_code VARCHAR(20)   NOT NULL,
    legal_act          VARCHAR(1000) NOT NULL,
    effective_from     DATE          NOT NULL,
    effective_until    DATE          NOT NULL,
    created_at         DATETIME      NOT NULL,
    UNIQUE (certification_code, effective_from, effective_until),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);

CREATE TABLE training_sites (
    id               CHAR(36)     NOT NULL PRIMARY KEY,
    name             VARCHAR(200) NOT NULL,
    line1            VARCHAR(200) NOT NULL,
    line2            VARCHAR(200) NULL,
    postal_code      VARCHAR(10)  NOT NULL,
    city             VARCHAR(100) NOT NULL,
    country_code     CHAR(2)      NOT NULL,
    is_preparation   BOOLEAN      NOT NULL,
    is_certification BOOLEAN      NOT NULL,
    active           BOOLEAN      NOT NULL,
    version          INTEGER      NOT NULL,
    created_at       DATETIME     NOT NULL,
    updated_at       DATETIME     NOT NULL
);
CREATE INDEX training_sites_city ON training_sites (city);

CREATE TABLE training_site_certifications (
    training_site_id   CHAR(36)    NOT NULL,
    certification_code VARCHAR(20) NOT NULL,
    PRIMARY KEY (training_site_id, certification_code),
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id),
    FOREIGN KEY (certification_code) REFERENCES certifications (code)
);
CREATE INDEX training_site_certifications_code ON training_site_certifications (certification_code);

CREATE TABLE users (
    id               CHAR(36)     NOT NULL PRIMARY KEY,
    email            VARCHAR(254) NOT NULL UNIQUE,
    password_hash    VARCHAR(100) NOT NULL,
    role             VARCHAR(20)  NOT NULL,
    training_site_id CHAR(36)     NULL,
    jury_member_id   CHAR(36)     NULL,
    candidate_id     CHAR(36)     NULL,
    active           BOOLEAN      NOT NULL,
    version          INTEGER      NOT NULL,
    created_at       DATETIME     NOT NULL,
    updated_at       DATETIME     NOT NULL,
    FOREIGN KEY (training_site_id) REFERENCES training_sites (id)
);
CREATE INDEX users_role ON users (role);

CREATE TABLE idempotency_keys (
    principal_id  VARCHAR(100) NOT NULL,
    idem_key      VARCHAR(100) NOT NULL,
    method        VARCHAR(10)  NOT NULL,
    path          VARCHAR(300) NOT NULL,
    request_hash  CHAR(64)     NOT NULL,
    status_code   INTEGER      NOT NULL,
    content_type  VARCHAR(100) NOT NULL,
    location      VARCHAR(300) NOT NULL,
    etag          VARCHAR(100) NOT NULL,
    response_body MEDIUMTEXT   NOT NULL,
    created_at    DATETIME     NOT NULL,
    PRIMARY KEY (principal_id, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE TABLE audit_events (
    id            CHAR(36)     NOT NULL PRIMARY KEY,
    occurred_at   DATETIME     NOT NULL,
    actor_id      VARCHAR(100) NULL,
    actor_role    VARCHAR(50)  NOT NULL,
    action        VARCHAR(50)  NOT NULL,
    resource_type VARCHAR(50)  NOT NULL,
    resource_id   VARCHAR(100) NOT NULL,
    changes       TEXT         NOT NULL,
    request_id    VARCHAR(100) NOT NULL
);
CREATE INDEX audit_events_resource ON audit_events (resource_type, resource_id);
CREATE INDEX audit_events_actor ON audit_events (actor_id);

-- The referential of RNCP26206, from its RNCP sheet.
INSERT INTO certifications (code, title, certifier, signatory, level_1969, level_eqf, summary,
    jury_size, jury_pedagogical_directors, jury_professionals, jury_description_fr, jury_description_en,
    validity_years, version, created_at, updated_at)
VALUES ('RNCP26206', 'Community manager', 'AP Formation', 'Directeur', 'II', 6,
    'Le community manager développe et assure la présence de la marque ou de l''entité sur les différentes plates-formes web. Son objectif principal est de fédérer les internautes autour de pôles d''intérêts communs (marque, produits, valeurs...) de renforcer leurs engagements. Il anime et informe la communauté (réseaux sociaux, blogs, forums, wiki...) en produisant des contenus très divers : articles, vidéos, images, concours, sondage, etc. En dernier lieu il propose des axes d''améliorations technique et fonctionnelle de la plateforme.',
    5, 1, 4, '5 personnes : le Directeur Pédagogique et 4 professionnels', '5 persons: the Directeur Pédagogique and 4 professionals',
    5, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

INSERT INTO certification_classifications (certification_code, kind, code, label, ordinal) VALUES
    ('RNCP26206', 'nsf', '320m', 'Spécialités plurivalentes de la communication et de l''information', 1),
    ('RNCP26206', 'rome', 'E1101', 'Animation de site multimédia', 1),
    ('RNCP26206', 'sector', 'B2B', 'Business to business : fournisseurs, clients et partenaires (fonction sales/marketing)', 1),
    ('RNCP26206', 'sector', 'B2C', 'Business to consumer : les clients d''une même entreprise (fonction marketing ou commerciale)', 2),
    ('RNCP26206', 'sector', 'B2E', 'Business to employee : les employés d''une même organisation (fonction ressources humaines)', 3);

INSERT INTO certification_functions (certification_code, id, title_fr, title_en, ordinal) VALUES
    ('RNCP26206', 'F1', 'Planification d''une stratégie de communication social média', 'Planning a social-media communication strategy', 1),
    ('RNCP26206', 'F2', 'Organisation d''un processus de veille', 'Organising a monitoring process', 2),
    ('RNCP26206', 'F3', 'Animation de la communication via les médias sociaux', 'Running communication through social media', 3),
    ('RNCP26206', 'F4', 'Évaluation et amélioration de l''action de community management', 'Evaluating and improving community-management action', 4);

INSERT INTO certification_activities (certification_code, function_id, id, title_fr, title_en, ordinal) VALUES
    ('RNCP26206', 'F1', 'F1.A1', 'Définition de la mission', 'Defining the mission', 1),
    ('RNCP26206', 'F1', 'F1.A2', 'Conception et structuration d''un plan de communication Internet', 'Designing and structuring an Internet communication plan', 2),
    ('RNCP26206', 'F1', 'F1.A3', 'Planification de mise en œuvre', 'Planning its implementation', 3),
    ('RNCP26206', 'F2', 'F2.A1', 'Organisation de la veille', 'Organising monitoring', 1),
    ('RNCP26206', 'F2', 'F2.A2', 'Gestion de la veille', 'Managing monitoring', 2),
    ('RNCP26206', 'F2', 'F2.A3', 'Gestion de l''e-réputation', 'Managing e-reputation', 3),
    ('RNCP26206', 'F3', 'F3.A1', 'Travail sur les médias sociaux', 'Working on social media', 1),
    ('RNCP26206', 'F3', 'F3.A2', 'Conception et réalisation de messages spécifiques à Internet', 'Designing and producing Internet-specific messages', 2),
    ('RNCP26206', 'F3', 'F3.A3', 'Solutionner des problèmes', 'Solving problems', 3),
    ('RNCP26206', 'F3', 'F3.A4', 'Gestion des canaux', 'Managing channels', 4),
    ('RNCP26206', 'F4', 'F4.A1', 'Mesure et évaluation', 'Measuring and evaluating', 1),
    ('RNCP26206', 'F4', 'F4.A2', 'Amélioration du processus et du suivi webmarketing', 'Improving the web-marketing process and follow-up', 2),
    ('RNCP26206', 'F4', 'F4.A3', 'Gestion de la qualité', 'Quality management', 3);

INSERT INTO certification_capacities (certification_code, id, statement_fr, statement_en, ordinal) VALUES
    ('RNCP26206', 'CAP-01', 'Expliciter les valeurs et le territoire d''une marque.', 'Make explicit a brand''s values and territory.', 1),
    ('RNCP26206', 'CAP-02', 'Identifier les canaux appropriés de création de valeur.', 'Identify the right value-creating channels.', 2),
    ('RNCP26206', 'CAP-03', 'Proposer un plan de communication.', 'Propose a communication plan.', 3),
    ('RNCP26206', 'CAP-04', 'Comprendre et appliquer les principes de la gestion de projets.', 'Understand and apply project-management principles.', 4),
    ('RNCP26206', 'CAP-05', 'Contrôler les sources d''information.', 'Check information sources.', 5),
    ('RNCP26206', 'CAP-06', 'Améliorer son image de marque.', 'Improve one''s brand image.', 6),
    ('RNCP26206', 'CAP-07', 'Construire un résumé analytique.', 'Build an analytical summary.', 7),
    ('RNCP26206', 'CAP-08', 'Mettre en œuvre les règles de net étiquette.', 'Apply netiquette rules.', 8),
    ('RNCP26206', 'CAP-09', 'Se conformer aux normes du web et utiliser l''ensemble de la chaîne graphique.', 'Comply with web standards and use the whole graphic chain.', 9),
    ('RNCP26206', 'CAP-10', 'Administrer le contenu d''un site web et déployer un espace sur une plate-forme de réseau social.', 'Administer a website''s content and deploy a space on a social network platform.', 10),
    ('RNCP26206', 'CAP-11', 'Définir une politique de réponses adaptées aux besoins des différentes catégories d''utilisateurs.', 'Define a response policy fitted to each category of users.', 11),
    ('RNCP26206', 'CAP-12', 'Analyser les comportements des participants à une activité collective, leurs intérêts et leurs motivations.', 'Analyse the behaviour, interests and motivations of participants in a collective activity.', 12),
    ('RNCP26206', 'CAP-13', 'Exploiter des résultats compilés pour vérifier l''atteinte des objectifs.', 'Use compiled results to check that objectives are met.', 13),
    ('RNCP26206', 'CAP-14', 'Choisir les fournisseurs, les produits et les services en évaluant le rendement, le coût, l''opportunité et la qualité.', 'Choose suppliers, products and services by weighing yield, cost, opportunity and quality.', 14);

INSERT INTO certification_components (certification_code, id, title_fr, title_en, form, scale_min, scale_max, pass_mark, combination, ordinal) VALUES
    ('RNCP26206', 'E1', 'À partir d''un cas pratique, décrire un projet de communication et de développement de notoriété d''un site web', 'From a practical case, describe a communication and notoriety-development project for a website', 'practical_case', 0, 20, 10, NULL, 1),
    ('RNCP26206', 'E2', 'Cas pratique autour d''une mission de communication dans laquelle un plan stratégique et opérationnel est fourni', 'A practical case around a communication mission for which a strategic and operational plan is provided', 'practical_case', 0, 20, 10, NULL, 2),
    ('RNCP26206', 'E3', 'À partir d''un cas pratique de site internet existant, réaliser tout le projet de communication', 'From a practical case of an existing website, carry out the whole communication project', 'practical_case', 0, 20, 10, NULL, 3),
    ('RNCP26206', 'E4', 'Épreuve de synthèse : rapport de préconisations à partir d''outils chiffrés, puis soutenance orale devant le jury', 'Synthesis: a recommendations report from tools that trace results in figures, then an oral defence before the jury', 'dossier_and_defence', 0, 20, 10, 'mean', 4);

INSERT INTO certification_component_parts (certification_code, component_id, id, title_fr, title_en, duration_minutes, before_jury, ordinal) VALUES
    ('RNCP26206', 'E4', 'dossier', 'Rédaction d''un dossier : rapport de préconisations', 'Written dossier: a recommendations report', NULL, FALSE, 1),
    ('RNCP26206', 'E4', 'defence', 'Soutenance orale devant les jurys', 'Oral defence before the jury', 45, TRUE, 2);

INSERT INTO certification_routes (certification_code, id, label_fr, label_en, is_open, ordinal) VALUES
    ('RNCP26206', 'initial_training', 'Après un parcours de formation sous statut d''élève ou d''étudiant', 'After a course as a pupil or student', TRUE, 1),
    ('RNCP26206', 'apprenticeship', 'En contrat d''apprentissage', 'Apprenticeship contract', FALSE, 2),
    ('RNCP26206', 'continuing_education', 'Après un parcours de formation continue', 'After continuing vocational training', TRUE, 3),
    ('RNCP26206', 'professionalisation_contract', 'En contrat de professionnalisation', 'Professionalisation contract', TRUE, 4),
    ('RNCP26206', 'individual_application', 'Par candidature individuelle', 'Individual application', TRUE, 5),
    ('RNCP26206', 'vae', 'Par expérience (dispositif VAE prévu en 2014)', 'Validation of prior experience (VAE), provided since 2014', TRUE, 6);

INSERT INTO certification_excluded_territories (certification_code, code, name_fr, name_en, postal_code_prefix, ordinal) VALUES
    ('RNCP26206', 'NC', 'Nouvelle-Calédonie', 'New Caledonia', '988', 1),
    ('RNCP26206', 'PF', 'Polynésie française', 'French Polynesia', '987', 2);

INSERT INTO registration_periods (id, certification_code, legal_act, effective_from, effective_until, created_at) VALUES
    ('00000000-0000-7000-8000-00000000a001', 'RNCP26206', 'Arrêté du 26 mai 2016 publié au Journal Officiel du 7 juin 2016 : enregistrement pour trois ans, au niveau II', '2013-01-29', '2019-06-07', CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-00000000a002', 'RNCP26206', 'Arrêté du 27 décembre 2018 publié au Journal Officiel du 4 janvier 2019 : enregistrement pour un an', '2019-01-04', '2020-01-04', CURRENT_TIMESTAMP);

INSERT INTO training_sites (id, name, line1, line2, postal_code, city, country_code, is_preparation, is_certification, active, version, created_at, updated_at) VALUES
    ('00000000-0000-7000-8000-00000000b001', 'AP Formation', '14 rue Pierre Bayle', NULL, '31100', 'Toulouse', 'FR', TRUE, TRUE, TRUE, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-00000000b002', 'AP Formation', 'rue Nicolas Louis Vauquelin', NULL, '31100', 'Toulouse', 'FR', TRUE, FALSE, TRUE, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    ('00000000-0000-7000-8000-00000000b003', 'Gréa Montpellier Littoral', '717 avenue Jean Mermoz', NULL, '34060', 'Montpellier Cedex 02', 'FR', TRUE, FALSE, TRUE, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

INSERT INTO training_site_certifications (training_site_id, certification_code) VALUES
    ('00000000-0000-7000-8000-00000000b001', 'RNCP26206'),
    ('00000000-0000-7000-8000-00000000b002', 'RNCP26206'),
    ('00000000-0000-7000-8000-00000000b003', 'RNCP26206');

-- +goose Down
DROP TABLE audit_events;
DROP TABLE idempotency_keys;
DROP TABLE users;
DROP TABLE training_site_certifications;
DROP TABLE training_sites;
DROP TABLE registration_periods;
DROP TABLE certification_excluded_territories;
DROP TABLE certification_routes;
DROP TABLE certification_component_parts;
DROP TABLE certification_components;
DROP TABLE certification_capacities;
DROP TABLE certification_activities;
DROP TABLE certification_functions;
DROP TABLE certification_classifications;
DROP TABLE certifications;
