package store

import (
	"database/sql"
	"reflect"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
)

func (t *tx) Evaluations(f service.EvaluationFilter) ([]certification.Evaluation, error) {
	q := t.db.Model(&evaluationRow{})
	if f.CandidateID != "" {
		q = q.Where("candidate_id = ?", f.CandidateID)
	}
	if f.CandidateSiteID != "" {
		q = q.Where("candidate_id IN (?)", t.db.Model(&candidateRow{}).Select("id").Where("training_site_id = ?", f.CandidateSiteID))
	}
	if f.MemberID != "" {
		q = q.Where("candidate_id IN (?)", t.candidatesOfMember(f.MemberID))
	}
	if f.JurySessionID != "" {
		q = q.Where("jury_session_id = ?", f.JurySessionID)
	}
	if f.Component != "" {
		q = q.Where("component = ?", f.Component)
	}
	if f.TrainingSiteID != "" {
		q = q.Where("training_site_id = ?", f.TrainingSiteID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.From != nil {
		q = q.Where("scheduled_at >= ?", *f.From)
	}
	if f.Before != nil {
		q = q.Where("scheduled_at < ?", *f.Before)
	}
	var rows []evaluationRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	return evaluationsFromRows(rows), nil
}

// personSittingRow is a sitting and the route of the registration it belongs to.
// PersonSittings reads the sittings of every registration of a person, with each
// one's route. A transcript is made of them: the statement goes to the connection
// (or the transaction) directly, and the rows are scanned by hand (see
// findCandidates).
func (t *tx) PersonSittings(personKey string) ([]certification.PersonSitting, error) {
	st := t.db.Statement
	rows, err := st.ConnPool.QueryContext(st.Context, personSittings, personKey)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// Every row is scanned into the same destinations (Scan sets each of them) and
	// copied out of them: a transcript reads several rows, and the destinations of
	// each, allocated again, with the statement's text built again, were 7% of
	// what it allocated under load before a28b934 (a heap profile).
	var (
		r     evaluationRow
		route string
	)
	dest := scanEvaluation(&r, &route)
	out := make([]certification.PersonSitting, 0, 4) // a registration's four components, most often
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, certification.PersonSitting{Evaluation: evaluationFromRow(r), Route: certification.RouteID(route)})
	}
	return out, rows.Err()
}

// personSittings is PersonSittings' statement.
var personSittings = "SELECT " + qualifiedEvaluationColumns + ", candidates.route FROM evaluations" +
	" JOIN candidates ON candidates.id = evaluations.candidate_id WHERE candidates.person_key = ?" +
	" ORDER BY evaluations.scheduled_at, evaluations.id"

// evaluationColumns are evaluationRow's columns, in the order scanEvaluation reads
// them (a test holds the two to the model).
const evaluationColumns = "id, candidate_id, certification_code, component, training_site_id, jury_session_id, scheduled_at, ends_at, " +
	"status, grade_hundredths, dossier_grade_hundredths, defence_grade_hundredths, result_recorded_at, result_corrected, " +
	"validated_on, validated_by, cancelled_at, cancellation_reason, version, created_at, updated_at"

// qualifiedEvaluationColumns are evaluationColumns named with their table.
var qualifiedEvaluationColumns = "evaluations." + strings.ReplaceAll(evaluationColumns, ", ", ", evaluations.")

// scanEvaluation lists where each of evaluationColumns goes, then the extra
// destinations of the columns a statement reads after them.
func scanEvaluation(r *evaluationRow, extra ...any) []any {
	return append(append(make([]any, 0, 21+len(extra)), &r.ID, &r.CandidateID, &r.CertificationCode, &r.Component, &r.TrainingSiteID, &r.JurySessionID, &r.ScheduledAt, &r.EndsAt,
		&r.Status, &r.GradeHundredths, &r.DossierGradeHundredths, &r.DefenceGradeHundredths, &r.ResultRecordedAt, &r.ResultCorrected,
		&r.ValidatedOn, &r.ValidatedBy, &r.CancelledAt, &r.CancellationReason, &r.Version, &r.CreatedAt, &r.UpdatedAt), extra...)
}

func (t *tx) PersonRegistrations(personKey string) ([]string, error) {
	var ids []string
	err := t.db.Model(&candidateRow{}).Where("person_key = ?", personKey).Order("id").Pluck("id", &ids).Error
	return ids, err
}

func (t *tx) SessionDefences(sessionID string) ([]certification.Evaluation, error) {
	var rows []evaluationRow
	if err := t.db.Where("jury_session_id = ?", sessionID).Order("scheduled_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	return evaluationsFromRows(rows), nil
}

func (t *tx) Evaluation(id string) (certification.Evaluation, error) {
	var r evaluationRow
	if err := t.db.Take(&r, "id = ?", id).Error; err != nil {
		return certification.Evaluation{}, notFound(err, "evaluation %s", id)
	}
	return evaluationFromRow(r), nil
}

func (t *tx) LockEvaluation(id string) (certification.Evaluation, error) {
	var r evaluationRow
	if err := t.forUpdate().Take(&r, "id = ?", id).Error; err != nil {
		return certification.Evaluation{}, notFound(err, "evaluation %s", id)
	}
	return evaluationFromRow(r), nil
}

func (t *tx) InsertEvaluation(e certification.Evaluation) error {
	row := evaluationToRow(e)
	return t.db.Create(&row).Error
}

func (t *tx) UpdateEvaluation(e certification.Evaluation) error {
	row := evaluationToRow(e)
	return t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error
}

func evaluationsFromRows(rows []evaluationRow) []certification.Evaluation {
	out := make([]certification.Evaluation, len(rows))
	for i, r := range rows {
		out[i] = evaluationFromRow(r)
	}
	return out
}

func evaluationFromRow(r evaluationRow) certification.Evaluation {
	return certification.Evaluation{
		ID: r.ID, CandidateID: r.CandidateID, CertificationCode: r.CertificationCode, Component: r.Component, TrainingSiteID: r.TrainingSiteID,
		JurySessionID: deref(r.JurySessionID), ScheduledAt: r.ScheduledAt.UTC(), EndsAt: utcPtr(r.EndsAt), Status: certification.SittingStatus(r.Status), Grade: gradeFrom(r.GradeHundredths),
		DossierGrade: gradeFrom(r.DossierGradeHundredths), DefenceGrade: gradeFrom(r.DefenceGradeHundredths), ResultRecordedAt: utcPtr(r.ResultRecordedAt), ResultCorrected: r.ResultCorrected,
		ValidatedOn: dayPtr(r.ValidatedOn), ValidatedBy: deref(r.ValidatedBy), CancelledAt: utcPtr(r.CancelledAt), CancellationReason: deref(r.CancellationReason),
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func evaluationToRow(e certification.Evaluation) evaluationRow {
	return evaluationRow{
		ID: e.ID, CandidateID: e.CandidateID, CertificationCode: e.CertificationCode, Component: e.Component, TrainingSiteID: e.TrainingSiteID,
		JurySessionID: nilIfEmpty(e.JurySessionID), ScheduledAt: e.ScheduledAt, EndsAt: e.EndsAt, Status: string(e.Status), GradeHundredths: gradeTo(e.Grade),
		DossierGradeHundredths: gradeTo(e.DossierGrade), DefenceGradeHundredths: gradeTo(e.DefenceGrade),
		ResultRecordedAt: e.ResultRecordedAt, ResultCorrected: e.ResultCorrected, ValidatedOn: e.ValidatedOn, ValidatedBy: nilIfEmpty(e.ValidatedBy),
		CancelledAt: e.CancelledAt, CancellationReason: nilIfEmpty(e.CancellationReason),
		Version: e.Version, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

func gradeFrom(v *int64) *certification.Hundredths {
	if v == nil {
		return nil
	}
	h := certification.Hundredths(*v)
	return &h
}

func gradeTo(h *certification.Hundredths) *int64 {
	if h == nil {
		return nil
	}
	v := int64(*h)
	return &v
}

// CandidateSittings reads a candidate, their certification's version and the
// sittings of the person they are (as PersonSittings does, by the person key the
// candidate row holds), in one snapshot without a transaction of the caller's.
// On MySQL that is one statement, whose rows are one snapshot. On SQLite the
// candidate and the sittings are read apart, in a read transaction when t is not
// one already: the pure-Go driver pays more for the one statement's wide rows
// (the candidate's columns on each) than for a second statement and a
// transaction, whose snapshot costs nothing more in WAL mode.
func (t *tx) CandidateSittings(id string) (certification.Candidate, []certification.PersonSitting, error) {
	if t.store.dialect == SQLite {
		return t.candidateSittingsApart(id)
	}
	st := t.db.Statement
	rows, err := st.ConnPool.QueryContext(st.Context, candidateSittings, id)
	if err != nil {
		return certification.Candidate{}, nil, err
	}
	defer rows.Close()
	// Every row is scanned into the same destinations (Scan sets each of them),
	// as PersonSittings does. The NOT NULL times are NULL on the row of a
	// registration without a sitting: they are read through a nullable time.
	type nullable struct {
		to   *time.Time
		from *sql.Null[time.Time]
	}
	var (
		c       candidateRow
		version sql.NullInt64
		r       evaluationRow
		route   string
		times   []nullable
		found   bool
	)
	out := make([]certification.PersonSitting, 0, 4)
	dests := scanCandidate(&c, &version)
	evaluation := scanEvaluation(&r, &route)
	for i, d := range evaluation {
		if p, ok := d.(*time.Time); ok {
			n := &sql.Null[time.Time]{}
			evaluation[i] = n
			times = append(times, nullable{p, n})
		}
	}
	dests = append(dests, evaluation...)
	for rows.Next() {
		if err := rows.Scan(dests...); err != nil {
			return certification.Candidate{}, nil, err
		}
		for _, tm := range times {
			*tm.to = tm.from.V
		}
		found = true
		if r.ID != "" { // a registration of the person without a sitting
			out = append(out, certification.PersonSitting{Evaluation: evaluationFromRow(r), Route: certification.RouteID(route)})
		}
	}
	if err := rows.Err(); err != nil {
		return certification.Candidate{}, nil, err
	}
	if !found {
		return certification.Candidate{}, nil, certification.NotFoundf("candidate %s", id)
	}
	if version.Valid {
		t.sawReferential(c.CertificationCode, int(version.Int64))
	}
	return candidateFromRow(c), out, nil
}

func (t *tx) candidateSittingsApart(id string) (c certification.Candidate, out []certification.PersonSitting, err error) {
	read := func(t *tx) error {
		if c, err = t.Candidate(id); err != nil {
			return err
		}
		out, err = t.PersonSittings(service.PersonKey(c))
		return err
	}
	if t.snapshot {
		return c, out, read(t)
	}
	err = t.store.snapshot(t.db.Statement.Context, func(in service.Tx) error {
		err := read(in.(*tx))
		for code, v := range in.(*tx).referentials {
			t.sawReferential(code, v)
		}
		return err
	})
	return c, out, err
}

// candidateSittings is the statement of CandidateSittings: one row per sitting of
// the person, or per registration of theirs without one (its evaluation columns
// then empty: the NOT NULL ones read as empty text or 0, the times as NULL), each with
// the candidate's columns; in the order of PersonSittings.
var candidateSittings = func() string {
	var cols []string
	for c := range strings.SplitSeq(candidateColumns, ", ") {
		cols = append(cols, "c."+c)
	}
	cols = append(cols, "(SELECT version FROM certifications WHERE certifications.code = c.certification_code)")
	fields := reflect.TypeFor[evaluationRow]()
	for i, c := range strings.Split(evaluationColumns, ", ") {
		// A time stays a plain column: on SQLite, an expression loses the
		// column's type, and the driver reads it as text.
		switch f := fields.Field(i).Type; {
		case f.Kind() == reflect.Pointer || f == reflect.TypeFor[time.Time]():
			cols = append(cols, "e."+c)
		case f.Kind() == reflect.String:
			cols = append(cols, "COALESCE(e."+c+", '')")
		default:
			cols = append(cols, "COALESCE(e."+c+", 0)")
		}
	}
	cols = append(cols, "o.route")
	return "SELECT " + strings.Join(cols, ", ") + " FROM candidates c" +
		" JOIN candidates o ON o.person_key = c.person_key" +
		" LEFT JOIN evaluations e ON e.candidate_id = o.id" +
		" WHERE c.id = ? ORDER BY e.scheduled_at, e.id"
}()
