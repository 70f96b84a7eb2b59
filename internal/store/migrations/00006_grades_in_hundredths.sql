-- Grades are integers of hundredths of a point, as the contract reads them: a
-- DECIMAL column rounds what it is given (9.999999999 became 10.00 on MariaDB and
-- stayed 9.999999999 on SQLite), an integer has nothing to round.

-- +goose Up
ALTER TABLE evaluations ADD COLUMN grade_hundredths INTEGER NULL;
ALTER TABLE evaluations ADD COLUMN dossier_grade_hundredths INTEGER NULL;
ALTER TABLE evaluations ADD COLUMN defence_grade_hundredths INTEGER NULL;
UPDATE evaluations SET grade_hundredths = ROUND(grade * 100), dossier_grade_hundredths = ROUND(dossier_grade * 100),
    defence_grade_hundredths = ROUND(defence_grade * 100);
ALTER TABLE evaluations DROP COLUMN grade;
ALTER TABLE evaluations DROP COLUMN dossier_grade;
ALTER TABLE evaluations DROP COLUMN defence_grade;

-- +goose Down
ALTER TABLE evaluations ADD COLUMN grade DECIMAL(6, 2) NULL;
ALTER TABLE evaluations ADD COLUMN dossier_grade DECIMAL(6, 2) NULL;
ALTER TABLE evaluations ADD COLUMN defence_grade DECIMAL(6, 2) NULL;
UPDATE evaluations SET grade = grade_hundredths / 100.0, dossier_grade = dossier_grade_hundredths / 100.0,
    defence_grade = defence_grade_hundredths / 100.0;
ALTER TABLE evaluations DROP COLUMN grade_hundredths;
ALTER TABLE evaluations DROP COLUMN dossier_grade_hundredths;
ALTER TABLE evaluations DROP COLUMN defence_grade_hundredths;
