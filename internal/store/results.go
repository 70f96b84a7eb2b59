package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/webhook"
	"gorm.io/gorm"
)

// resultModels are the row structs of the results.
var resultModels = []any{&resultEventCounterRow{}, &resultEventRow{}, &webhookSubscriptionRow{}, &webhookDeliveryRow{}, &webhookAttemptRow{}}

// resultEventCounterRow is the one row the feed's sequence is taken from.
type resultEventCounterRow struct {
	ID             int `gorm:"primaryKey;autoIncrement:false"`
	LastSequence   int64
	LastRecordedAt *time.Time
}

func (resultEventCounterRow) TableName() string { return "result_event_counter" }

type resultEventRow struct {
	Sequence          int64 `gorm:"primaryKey;autoIncrement:false"`
	Type              string
	RecordedAt        time.Time
	CertificationCode string
	DecisionID        string
	JurySessionID     string
	HeldOn            time.Time
	Outcome           string
	CorrectsID        *string
	CandidateID       string
	FirstName         string
	BirthName         string
	UsageName         *string
	TrainingSiteID    *string
	Route             string
	CertificateNumber *string
	CertificateStatus *string
}

func (resultEventRow) TableName() string { return "result_events" }

type webhookSubscriptionRow struct {
	ID             string `gorm:"primaryKey"`
	ClientID       string
	TrainingSiteID *string
	URL            string `gorm:"column:url"`
	URLHash        string `gorm:"column:url_hash"`
	Events         string // separated by spaces
	Secret         string
	Active         bool
	Version        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (webhookSubscriptionRow) TableName() string { return "webhook_subscriptions" }

type webhookDeliveryRow struct {
	ID             string `gorm:"primaryKey"`
	SubscriptionID string
	Sequence       int64
	EventType      string
	Status         string
	Attempts       int
	NextAttemptAt  *time.Time
	LeaseOwner     *string
	LeaseUntil     *time.Time
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

func (webhookDeliveryRow) TableName() string { return "webhook_deliveries" }

type webhookAttemptRow struct {
	DeliveryID  string `gorm:"primaryKey"`
	Attempt     int    `gorm:"primaryKey;autoIncrement:false"`
	AttemptedAt time.Time
	StatusCode  *int
	Error       *string
	DurationMS  int `gorm:"column:duration_ms"`
}

func (webhookAttemptRow) TableName() string { return "webhook_attempts" }

func (t *tx) AppendResultEntries(entries []certification.ResultEntry) ([]certification.ResultEntry, error) {
	if len(entries) == 0 {
		return entries, nil
	}
	var c resultEventCounterRow
	if err := t.forUpdate().Take(&c, "id = ?", 1).Error; err != nil {
		return nil, err
	}
	out := make([]certification.ResultEntry, len(entries))
	rows := make([]resultEventRow, len(entries))
	for i, e := range entries {
		e.Sequence = c.LastSequence + 1
		e.RecordedAt = e.RecordedAt.UTC().Truncate(time.Second)
		if c.LastRecordedAt != nil && e.RecordedAt.Before(*c.LastRecordedAt) {
			e.RecordedAt = c.LastRecordedAt.UTC()
		}
		c.LastSequence, c.LastRecordedAt = e.Sequence, &e.RecordedAt
		out[i], rows[i] = e, resultEventToRow(e)
	}
	if err := t.db.Model(&resultEventCounterRow{}).Where("id = ?", 1).
		Updates(map[string]any{"last_sequence": c.LastSequence, "last_recorded_at": c.LastRecordedAt}).Error; err != nil {
		return nil, err
	}
	return out, t.db.Create(&rows).Error
}

func (t *tx) ResultEntries(f service.ResultFilter) ([]certification.ResultEntry, error) {
	rows, err := findResultEvents(t.resultPage(f), f.Limit+1, nil)
	if err != nil {
		return nil, err
	}
	return t.entriesFromRows(rows)
}

func (t *tx) resultPage(f service.ResultFilter) *gorm.DB {
	q := t.db.Model(&resultEventRow{}).Where("sequence > ?", f.After)
	if f.CertificationCode != "" {
		q = q.Where("certification_code = ?", f.CertificationCode)
	}
	if f.TrainingSiteID != "" {
		q = q.Where("training_site_id = ?", f.TrainingSiteID)
	}
	return q.Order("sequence").Limit(f.Limit + 1)
}

func (t *tx) ResultPage(f service.ResultFilter) ([]certification.ResultEntry, int64, error) {
	var last sql.NullInt64
	rows, err := findResultEvents(t.resultPage(f), f.Limit+1, &last)
	if err != nil {
		return nil, 0, err
	}
	entries, err := t.entriesFromRows(rows)
	return entries, last.Int64, err
}

func (t *tx) ResultEntriesAt(sequences []int64) ([]certification.ResultEntry, error) {
	if len(sequences) == 0 {
		return []certification.ResultEntry{}, nil
	}
	rows, err := findResultEvents(t.db.Model(&resultEventRow{}).Where("sequence IN ?", sequences).Order("sequence"), len(sequences), nil)
	if err != nil {
		return nil, err
	}
	return t.entriesFromRows(rows)
}

// resultEventColumns are resultEventRow's columns, in the order scanResultEvent
// reads them (a test holds the two to the model).
const resultEventColumns = "sequence, type, recorded_at, certification_code, decision_id, jury_session_id, held_on, outcome, " +
	"corrects_id, candidate_id, first_name, birth_name, usage_name, training_site_id, route, certificate_number, certificate_status"

// scanResultEvent lists where each of resultEventColumns goes, then the extra
// destinations of the columns a statement reads after them.
func scanResultEvent(r *resultEventRow, extra ...any) []any {
	return append(append(make([]any, 0, 17+len(extra)), &r.Sequence, &r.Type, &r.RecordedAt, &r.CertificationCode, &r.DecisionID,
		&r.JurySessionID, &r.HeldOn, &r.Outcome, &r.CorrectsID, &r.CandidateID, &r.FirstName, &r.BirthName, &r.UsageName,
		&r.TrainingSiteID, &r.Route, &r.CertificateNumber, &r.CertificateStatus), extra...)
}

// findResultEvents runs a query of at most n entries of the feed and scans its
// rows by hand, as findCandidates does: the feed is what partners read most, and
// a page of 20 allocates 209 KB on SQLite so, where GORM's reflective scan
// allocated 264 KB before a28b934 (BenchmarkDataset). With last, each row also
// reads the feed's last sequence, in the same snapshot.
func findResultEvents(q *gorm.DB, n int, last *sql.NullInt64) ([]resultEventRow, error) {
	var r resultEventRow
	columns, dest := resultEventColumns, scanResultEvent(&r)
	if last != nil {
		columns, dest = columns+", (SELECT MAX(sequence) FROM result_events)", scanResultEvent(&r, last)
	}
	rows, err := q.Select(columns).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]resultEventRow, 0, n)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (t *tx) LastResultSequence() (int64, error) {
	var last *int64
	err := t.db.Model(&resultEventRow{}).Select("MAX(sequence)").Scan(&last).Error
	if err != nil || last == nil {
		return 0, err
	}
	return *last, nil
}

func (t *tx) FirstResultSince(at time.Time) (int64, bool, error) {
	var first *int64
	err := t.db.Model(&resultEventRow{}).Select("MIN(sequence)").Where("recorded_at >= ?", at.UTC()).Scan(&first).Error
	if err != nil || first == nil {
		return 0, false, err
	}
	return *first, true, nil
}

// entriesFromRows reads entries with the components of their decisions, which a
// decision never changes once made.
func (t *tx) entriesFromRows(rows []resultEventRow) ([]certification.ResultEntry, error) {
	out := make([]certification.ResultEntry, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, 0, len(rows))
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.DecisionID] {
			seen[r.DecisionID] = true
			ids = append(ids, r.DecisionID)
		}
	}
	comps, err := t.db.Model(&decisionComponentRow{}).Select("decision_id, component, evaluation_id, acquired_on, valid_until, validated_now").
		Where("decision_id IN ?", ids).Order("decision_id, ordinal").Rows()
	if err != nil {
		return nil, err
	}
	defer comps.Close()
	byDecision := make(map[string][]certification.DecidedComponent, len(ids))
	var c decisionComponentRow
	dest := []any{&c.DecisionID, &c.Component, &c.EvaluationID, &c.AcquiredOn, &c.ValidUntil, &c.ValidatedNow}
	for comps.Next() {
		if err := comps.Scan(dest...); err != nil {
			return nil, err
		}
		byDecision[c.DecisionID] = append(byDecision[c.DecisionID], decidedFromRow(c))
	}
	if err := comps.Err(); err != nil {
		return nil, err
	}
	for i, r := range rows {
		out[i] = certification.ResultEntry{Sequence: r.Sequence, Type: certification.ResultEntryType(r.Type), RecordedAt: r.RecordedAt.UTC(),
			CertificationCode: r.CertificationCode, DecisionID: r.DecisionID, JurySessionID: r.JurySessionID,
			HeldOn: certification.Day(r.HeldOn), Outcome: certification.Outcome(r.Outcome), Components: byDecision[r.DecisionID],
			CorrectsID: deref(r.CorrectsID), CertificateNumber: deref(r.CertificateNumber),
			CertificateStatus: certification.CertificateStatus(deref(r.CertificateStatus)),
			Candidate: certification.ResultCandidate{ID: r.CandidateID, FirstName: r.FirstName, BirthName: r.BirthName,
				UsageName: deref(r.UsageName), TrainingSiteID: deref(r.TrainingSiteID), Route: certification.RouteID(r.Route)}}
	}
	return out, nil
}

func resultEventToRow(e certification.ResultEntry) resultEventRow {
	return resultEventRow{Sequence: e.Sequence, Type: string(e.Type), RecordedAt: e.RecordedAt, CertificationCode: e.CertificationCode,
		DecisionID: e.DecisionID, JurySessionID: e.JurySessionID, HeldOn: e.HeldOn, Outcome: string(e.Outcome),
		CorrectsID: nilIfEmpty(e.CorrectsID), CandidateID: e.Candidate.ID, FirstName: e.Candidate.FirstName,
		BirthName: e.Candidate.BirthName, UsageName: nilIfEmpty(e.Candidate.UsageName), TrainingSiteID: nilIfEmpty(e.Candidate.TrainingSiteID),
		Route: string(e.Candidate.Route), CertificateNumber: nilIfEmpty(e.CertificateNumber),
		CertificateStatus: nilIfEmpty(string(e.CertificateStatus))}
}

func (t *tx) IssuedCertificates(f service.CertificateFilter) ([]service.IssuedCertificate, error) {
	q := t.db.Table("result_events e").Select("e.sequence, e.certificate_number").
		Where("e.type = ? AND e.certificate_number IS NOT NULL AND e.sequence > ?", string(certification.EntryResultPublished), f.After)
	if f.TrainingSiteID != "" {
		q = q.Where("e.training_site_id = ?", f.TrainingSiteID)
	}
	if f.Status != "" {
		q = q.Joins("JOIN certificates c ON c.number = e.certificate_number").Where("c.status = ?", string(f.Status))
	}
	var keys []struct {
		Sequence          int64
		CertificateNumber string
	}
	if err := q.Order("e.sequence").Limit(f.Limit + 1).Scan(&keys).Error; err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return []service.IssuedCertificate{}, nil
	}
	numbers := make([]string, len(keys))
	for i, k := range keys {
		numbers[i] = k.CertificateNumber
	}
	var rows []certificateRow
	if err := t.db.Where("number IN ?", numbers).Find(&rows).Error; err != nil {
		return nil, err
	}
	certs, err := t.certificatesFromRows(rows)
	if err != nil {
		return nil, err
	}
	byNumber := map[string]certification.Certificate{}
	for _, c := range certs {
		byNumber[c.Number] = c
	}
	out := make([]service.IssuedCertificate, 0, len(keys))
	for _, k := range keys {
		if c, ok := byNumber[k.CertificateNumber]; ok {
			out = append(out, service.IssuedCertificate{Certificate: c, Sequence: k.Sequence})
		}
	}
	return out, nil
}

// Statistics counts in SQL, in three parts grouped by the same key and summed:
// registrations by their year of enrolment, the published decisions that still
// hold by the year of their session, withdrawals by their year. The key's site is
// the empty string for candidates without one, so that the key orders and pages
// alike on both databases.
func (t *tx) Statistics(f service.StatisticsFilter) ([]certification.Statistic, error) {
	year := func(col string) string {
		if t.store.dialect == MySQL {
			return "YEAR(" + col + ")"
		}
		return "CAST(SUBSTR(" + col + ", 1, 4) AS INTEGER)"
	}
	var args []any
	narrow := func(dateCol string) string {
		var where []string
		if f.Year != 0 {
			where = append(where, dateCol+" >= ? AND "+dateCol+" < ?")
			args = append(args, time.Date(f.Year, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(f.Year+1, 1, 1, 0, 0, 0, 0, time.UTC))
		}
		if f.CertificationCode != "" {
			where = append(where, "c.certification_code = ?")
			args = append(args, f.CertificationCode)
		}
		if f.Route != "" {
			where = append(where, "c.route = ?")
			args = append(args, string(f.Route))
		}
		if f.TrainingSiteID != "" {
			where = append(where, "c.training_site_id = ?")
			args = append(args, f.TrainingSiteID)
		}
		if len(where) == 0 {
			return ""
		}
		return " AND " + strings.Join(where, " AND ")
	}
	key := func(dateCol string) string {
		return year(dateCol) + " AS year, c.certification_code AS certification_code, c.route AS route, COALESCE(c.training_site_id, '') AS site"
	}
	group := " GROUP BY " + year("%s") + ", c.certification_code, c.route, COALESCE(c.training_site_id, '')"
	registrations := "SELECT " + key("c.enrolled_on") + ", COUNT(*) AS candidates, 0 AS awards, 0 AS partials, 0 AS refusals, 0 AS withdrawals" +
		" FROM candidates c WHERE 1 = 1" + narrow("c.enrolled_on") + strings.Replace(group, "%s", "c.enrolled_on", 1)
	outcomes := "SELECT " + key("s.held_on") + ", 0, " +
		"SUM(CASE WHEN d.outcome = 'award' THEN 1 ELSE 0 END), SUM(CASE WHEN d.outcome = 'partial' THEN 1 ELSE 0 END), " +
		"SUM(CASE WHEN d.outcome = 'refusal' THEN 1 ELSE 0 END), 0" +
		" FROM decisions d JOIN jury_sessions s ON s.id = d.jury_session_id JOIN candidates c ON c.id = d.candidate_id" +
		" WHERE d.published_at IS NOT NULL AND d.superseded_by IS NULL" + narrow("s.held_on") + strings.Replace(group, "%s", "s.held_on", 1)
	withdrawals := "SELECT " + key("c.withdrawn_on") + ", 0, 0, 0, 0, COUNT(*)" +
		" FROM candidates c WHERE c.withdrawn_on IS NOT NULL" + narrow("c.withdrawn_on") + strings.Replace(group, "%s", "c.withdrawn_on", 1)
	sql := "SELECT year, certification_code, route, site, SUM(candidates) AS candidates, SUM(awards) AS awards, " +
		"SUM(partials) AS partials, SUM(refusals) AS refusals, SUM(withdrawals) AS withdrawals FROM (" +
		registrations + " UNION ALL " + outcomes + " UNION ALL " + withdrawals + ") x"
	if a := f.After; a != nil {
		sql += " WHERE (year > ? OR (year = ? AND (certification_code > ? OR (certification_code = ? AND " +
			"(route > ? OR (route = ? AND site > ?))))))"
		args = append(args, a.Year, a.Year, a.CertificationCode, a.CertificationCode, string(a.Route), string(a.Route), a.TrainingSiteID)
	}
	sql += " GROUP BY year, certification_code, route, site ORDER BY year, certification_code, route, site LIMIT ?"
	args = append(args, f.Limit+1)
	var rows []struct {
		Year              int
		CertificationCode string
		Route             string
		Site              string
		Candidates        int64
		Awards            int64
		Partials          int64
		Refusals          int64
		Withdrawals       int64
	}
	if err := t.db.Raw(sql, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]certification.Statistic, len(rows))
	for i, r := range rows {
		out[i] = certification.Statistic{Year: r.Year, CertificationCode: r.CertificationCode, Route: certification.RouteID(r.Route),
			TrainingSiteID: r.Site, Candidates: r.Candidates, Awards: r.Awards, PartialValidations: r.Partials,
			Refusals: r.Refusals, Withdrawals: r.Withdrawals}
	}
	return out, nil
}

func (t *tx) WebhookSubscriptions(f service.SubscriptionFilter) ([]webhook.Subscription, error) {
	q := t.db.Model(&webhookSubscriptionRow{})
	if f.ClientID != "" {
		q = q.Where("client_id = ?", f.ClientID)
	}
	var rows []webhookSubscriptionRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.subscriptionsFromRows(rows)
}

// subscriptionsFromRows reads subscriptions with their applications' client_id.
func (t *tx) subscriptionsFromRows(rows []webhookSubscriptionRow) ([]webhook.Subscription, error) {
	out := make([]webhook.Subscription, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ClientID
	}
	var clients []apiClientRow
	if err := t.db.Select("id", "client_id").Where("id IN ?", ids).Find(&clients).Error; err != nil {
		return nil, err
	}
	public := map[string]string{}
	for _, c := range clients {
		public[c.ID] = c.ClientID
	}
	for i, r := range rows {
		out[i] = subscriptionFromRow(r)
		out[i].PublicClientID = public[r.ClientID]
	}
	return out, nil
}

func (t *tx) WebhookSubscription(id string) (webhook.Subscription, error) {
	return t.oneSubscription(t.db, id)
}

func (t *tx) LockWebhookSubscription(id string) (webhook.Subscription, error) {
	return t.oneSubscription(t.forUpdate(), id)
}

func (t *tx) oneSubscription(db *gorm.DB, id string) (webhook.Subscription, error) {
	var r webhookSubscriptionRow
	if err := db.Take(&r, "id = ?", id).Error; err != nil {
		return webhook.Subscription{}, notFound(err, "webhook subscription %s", id)
	}
	subs, err := t.subscriptionsFromRows([]webhookSubscriptionRow{r})
	if err != nil {
		return webhook.Subscription{}, err
	}
	return subs[0], nil
}

func (t *tx) InsertWebhookSubscription(s webhook.Subscription) error {
	row := subscriptionToRow(s)
	return duplicate(t.db.Create(&row).Error, "duplicate_subscription", "the application has a subscription for this URL already")
}

func (t *tx) UpdateWebhookSubscription(s webhook.Subscription) error {
	row := subscriptionToRow(s)
	return duplicate(t.db.Model(&row).Select("url", "url_hash", "events", "active", "version", "updated_at").Updates(&row).Error,
		"duplicate_subscription", "the application has a subscription for this URL already")
}

func (t *tx) DeleteWebhookSubscription(id string) error {
	deliveries := t.db.Model(&webhookDeliveryRow{}).Select("id").Where("subscription_id = ?", id)
	if err := t.db.Where("delivery_id IN (?)", deliveries).Delete(&webhookAttemptRow{}).Error; err != nil {
		return err
	}
	if err := t.db.Where("subscription_id = ?", id).Delete(&webhookDeliveryRow{}).Error; err != nil {
		return err
	}
	return t.db.Where("id = ?", id).Delete(&webhookSubscriptionRow{}).Error
}

func (t *tx) ReceivingSubscriptions() ([]webhook.Subscription, error) {
	var rows []webhookSubscriptionRow
	if err := t.forUpdate().Where("active = ?", true).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ClientID
	}
	var clients []apiClientRow
	if err := t.db.Select("id", "scopes").Where("id IN ? AND active = ? AND revoked_at IS NULL", ids, true).Find(&clients).Error; err != nil {
		return nil, err
	}
	receiving := map[string]bool{}
	for _, c := range clients {
		receiving[c.ID] = strings.Contains(" "+c.Scopes+" ", " "+service.ScopeResultsRead+" ")
	}
	var out []webhook.Subscription
	for _, r := range rows {
		if receiving[r.ClientID] {
			out = append(out, subscriptionFromRow(r))
		}
	}
	return out, nil
}

func subscriptionFromRow(r webhookSubscriptionRow) webhook.Subscription {
	s := webhook.Subscription{ID: r.ID, ClientID: r.ClientID, TrainingSiteID: deref(r.TrainingSiteID), URL: r.URL,
		Events: []webhook.EventType{}, Secret: r.Secret, Active: r.Active, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	for _, e := range strings.Fields(r.Events) {
		s.Events = append(s.Events, webhook.EventType(e))
	}
	return s
}

func subscriptionToRow(s webhook.Subscription) webhookSubscriptionRow {
	events := make([]string, len(s.Events))
	for i, e := range s.Events {
		events[i] = string(e)
	}
	return webhookSubscriptionRow{ID: s.ID, ClientID: s.ClientID, TrainingSiteID: nilIfEmpty(s.TrainingSiteID), URL: s.URL,
		URLHash: sha256Hex(s.URL), Events: strings.Join(events, " "), Secret: s.Secret, Active: s.Active, Version: s.Version,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// sha256Hex is what the unique index on a subscription's URL holds: URLs are too
// long for an index of their own.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (t *tx) InsertWebhookDeliveries(ds []webhook.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	rows := make([]webhookDeliveryRow, len(ds))
	for i, d := range ds {
		rows[i] = webhookDeliveryRow{ID: d.ID, SubscriptionID: d.SubscriptionID, Sequence: d.Sequence, EventType: string(d.Event),
			Status: string(d.Status), Attempts: len(d.Attempts), NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt}
	}
	return t.db.Create(&rows).Error
}

func (t *tx) WebhookDeliveries(f service.DeliveryFilter) ([]webhook.Delivery, error) {
	q := t.db.Model(&webhookDeliveryRow{}).Where("subscription_id = ?", f.SubscriptionID)
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.Before != "" {
		q = q.Where("id < ?", f.Before)
	}
	var rows []webhookDeliveryRow
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.deliveriesFromRows(rows)
}

func (t *tx) deliveriesFromRows(rows []webhookDeliveryRow) ([]webhook.Delivery, error) {
	out := make([]webhook.Delivery, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var attempts []webhookAttemptRow
	if err := t.db.Where("delivery_id IN ?", ids).Order("delivery_id, attempt").Find(&attempts).Error; err != nil {
		return nil, err
	}
	byDelivery := map[string][]webhook.Attempt{}
	for _, a := range attempts {
		at := webhook.Attempt{At: a.AttemptedAt.UTC(), Error: deref(a.Error), Duration: time.Duration(a.DurationMS) * time.Millisecond}
		if a.StatusCode != nil {
			at.StatusCode = *a.StatusCode
		}
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], at)
	}
	for i, r := range rows {
		out[i] = webhook.Delivery{ID: r.ID, SubscriptionID: r.SubscriptionID, Sequence: r.Sequence, Event: webhook.EventType(r.EventType),
			Status: webhook.Status(r.Status), Attempts: byDelivery[r.ID], NextAttemptAt: utcPtr(r.NextAttemptAt),
			CreatedAt: r.CreatedAt.UTC(), DeliveredAt: utcPtr(r.DeliveredAt)}
		if out[i].Attempts == nil {
			out[i].Attempts = []webhook.Attempt{}
		}
	}
	return out, nil
}

// receivingSubscriptionIDs selects the subscriptions whose deliveries go out: the
// active ones of applications neither revoked nor deactivated. The deliveries of
// the others wait (a paused subscription's until it is resumed).
func (t *tx) receivingSubscriptionIDs() *gorm.DB {
	return t.db.Table("webhook_subscriptions s").Select("s.id").Joins("JOIN api_clients a ON a.id = s.client_id").
		Where("s.active = ? AND a.active = ? AND a.revoked_at IS NULL", true, true)
}

func (t *tx) DueDeliveries(now time.Time, limit int) ([]string, error) {
	var ids []string
	err := t.db.Model(&webhookDeliveryRow{}).
		Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", string(webhook.Pending), now, now).
		Where("subscription_id IN (?)", t.receivingSubscriptionIDs()).
		Order("next_attempt_at, id").Limit(limit).Pluck("id", &ids).Error
	return ids, err
}

func (t *tx) ClaimDelivery(id, owner string, now, until time.Time) (bool, error) {
	res := t.db.Model(&webhookDeliveryRow{}).
		Where("id = ? AND status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)", id, string(webhook.Pending), now, now).
		Where("subscription_id IN (?)", t.receivingSubscriptionIDs()).
		Updates(map[string]any{"lease_owner": owner, "lease_until": until})
	return res.RowsAffected == 1, res.Error
}

func (t *tx) Delivery(id string) (webhook.Delivery, webhook.Subscription, certification.ResultEntry, error) {
	var r webhookDeliveryRow
	if err := t.db.Take(&r, "id = ?", id).Error; err != nil {
		return webhook.Delivery{}, webhook.Subscription{}, certification.ResultEntry{}, notFound(err, "webhook delivery %s", id)
	}
	ds, err := t.deliveriesFromRows([]webhookDeliveryRow{r})
	if err != nil {
		return webhook.Delivery{}, webhook.Subscription{}, certification.ResultEntry{}, err
	}
	sub, err := t.WebhookSubscription(r.SubscriptionID)
	if err != nil {
		return webhook.Delivery{}, webhook.Subscription{}, certification.ResultEntry{}, err
	}
	entries, err := t.ResultEntriesAt([]int64{r.Sequence})
	if err == nil && (len(entries) == 0 || entries[0].Sequence != r.Sequence) {
		err = certification.NotFoundf("results feed entry %d", r.Sequence)
	}
	if err != nil {
		return webhook.Delivery{}, webhook.Subscription{}, certification.ResultEntry{}, err
	}
	return ds[0], sub, entries[0], nil
}

func (t *tx) LockLeasedDelivery(id, owner string) (webhook.Delivery, error) {
	var r webhookDeliveryRow
	if err := t.forUpdate().Take(&r, "id = ? AND lease_owner = ?", id, owner).Error; err != nil {
		return webhook.Delivery{}, notFound(err, "webhook delivery %s leased to %s", id, owner)
	}
	ds, err := t.deliveriesFromRows([]webhookDeliveryRow{r})
	if err != nil {
		return webhook.Delivery{}, err
	}
	return ds[0], nil
}

func (t *tx) SaveDeliveryAttempt(d webhook.Delivery) error {
	n := len(d.Attempts)
	if n == 0 {
		return nil
	}
	a := d.Attempts[n-1]
	row := webhookAttemptRow{DeliveryID: d.ID, Attempt: n, AttemptedAt: a.At.UTC(), Error: nilIfEmpty(a.Error),
		DurationMS: int(a.Duration.Milliseconds())}
	if a.StatusCode != 0 {
		code := a.StatusCode
		row.StatusCode = &code
	}
	if err := t.db.Create(&row).Error; err != nil {
		return err
	}
	return t.db.Model(&webhookDeliveryRow{}).Where("id = ?", d.ID).Updates(map[string]any{
		"status": string(d.Status), "attempts": n, "next_attempt_at": d.NextAttemptAt, "delivered_at": d.DeliveredAt,
		"lease_owner": nil, "lease_until": nil}).Error
}
