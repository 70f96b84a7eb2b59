package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/store"
	_ "github.com/go-sql-driver/mysql"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"
	_ "modernc.org/sqlite" // the embedded database, as certapi opens it
)

// The floor answers the scenarios' paths with plain net/http and database/sql:
// the same query certapi's store sends, scanned into the same generated types and
// encoded with encoding/json. No authentication, no validation, no rules: what is
// left is what any Go service on this database pays. With --prepare it keeps its
// statements prepared, as certapi's store does on SQLite, to tell how much of a
// difference is that.
type floor struct {
	db      *sql.DB
	prepare bool
	stmts   sync.Map // SQL → *sql.Stmt, with --prepare
}

// prepared is the floor's statement for query with --prepare, prepared the first
// time; nil without --prepare, or if it does not prepare (the query then runs
// plainly and reports its error). The floor keeps these few lines of its own
// rather than use the store's preparedPool: it measures what certapi costs, and
// shares none of the code it measures.
func (f *floor) prepared(ctx context.Context, query string) *sql.Stmt {
	if !f.prepare {
		return nil
	}
	if s, ok := f.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	s, err := f.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := f.stmts.LoadOrStore(query, s); loaded {
		_ = s.Close()
		return prev.(*sql.Stmt)
	}
	return s
}

func (f *floor) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := f.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return f.db.QueryContext(ctx, query, args...)
}

func (f *floor) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := f.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return f.db.QueryRowContext(ctx, query, args...)
}

func (f *floor) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := f.prepared(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return f.db.ExecContext(ctx, query, args...)
}

const candidateColumns = `id, certification_code, route, training_site_id, enrolled_on, first_name, birth_name, usage_name, sex,
	birth_date, birth_insee_code, birth_postal_code, birth_place_name, birth_country_code, email, phone, line1, line2,
	postal_code, city, country_code, status, vae_admissibility, vae_decided_on, vae_experience_months, vae_required_months,
	withdrawn_on, withdrawal_reason, superseded_by, certificate_number, version, created_at, updated_at`

func serveFloor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	database := fs.String("database", os.Getenv("CERTAPI_DATABASE_URL"), "database URL (empty: the embedded SQLite in --data-dir)")
	dataDir := fs.String("data-dir", envOr("CERTAPI_DATA_DIR", "./data"), "directory of the embedded database")
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	prepare := fs.Bool("prepare", false, "keep statements prepared (certapi does on SQLite)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	driver, dsn, err := store.DriverDSN(store.Options{URL: *database, DataDir: *dataDir})
	if err != nil {
		return err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	// The pool certapi's store sizes for the same database.
	dialect := store.SQLite
	if driver == "mysql" {
		dialect = store.MySQL
	}
	store.SizePool(db, dialect)
	f := &floor{db: db, prepare: *prepare}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/candidates/{id}", f.candidate)
	mux.HandleFunc("GET /v1/candidates", f.candidates)
	mux.HandleFunc("GET /v1/candidates/{id}/transcript", f.transcript)
	mux.HandleFunc("POST /v1/candidates", f.register)
	mux.HandleFunc("GET /v1/results", f.results)
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.WithoutCancel(ctx))
	}()
	fmt.Fprintf(os.Stderr, "floor: serving %s on %s\n", driver, *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scanCandidate(row scanner) (api.Candidate, error) {
	var (
		c                                             api.Candidate
		id                                            string
		site, usage, insee, postal, phone, line2, vae sql.NullString
		reason, superseded, number                    sql.NullString
		enrolled, birth                               time.Time
		vaeOn, withdrawn                              sql.NullTime
		experience, required                          sql.NullInt64
		route, sex, status, email                     string
	)
	err := row.Scan(&id, &c.CertificationCode, &route, &site, &enrolled, &c.FirstName, &c.BirthName, &usage, &sex,
		&birth, &insee, &postal, &c.BirthPlace.Name, &c.BirthPlace.CountryCode, &email, &phone, &c.Address.Line1, &line2,
		&c.Address.PostalCode, &c.Address.City, &c.Address.CountryCode, &status, &vae, &vaeOn, &experience, &required,
		&withdrawn, &reason, &superseded, &number, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	c.Id = uuid.MustParse(id)
	c.Route, c.Sex, c.Status, c.Email = api.RouteId(route), api.CandidateSex(sex), api.CandidateStatus(status), openapi_types.Email(email)
	c.EnrolledOn, c.BirthDate = openapi_types.Date{Time: enrolled}, openapi_types.Date{Time: birth}
	c.TrainingSiteId = uuidOrNil(site)
	c.SupersededBy = uuidOrNil(superseded)
	c.UsageName, c.Phone, c.Address.Line2 = stringOrNil(usage), stringOrNil(phone), stringOrNil(line2)
	c.BirthPlace.InseeCode, c.BirthPlace.PostalCode = stringOrNil(insee), stringOrNil(postal)
	c.WithdrawalReason, c.CertificateNumber = stringOrNil(reason), stringOrNil(number)
	if vae.Valid {
		v := api.CandidateVaeAdmissibility(vae.String)
		c.VaeAdmissibility = &v
	}
	c.VaeAdmissibilityDecidedOn, c.WithdrawnOn = dateOrNil(vaeOn), dateOrNil(withdrawn)
	c.VaeExperienceMonths, c.VaeRequiredMonths = int32OrNil(experience), int32OrNil(required)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

func (f *floor) candidate(w http.ResponseWriter, r *http.Request) {
	c, err := scanCandidate(f.QueryRowContext(r.Context(), "SELECT "+candidateColumns+" FROM candidates WHERE id = ?", r.PathValue("id")))
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	}
	reply(w, http.StatusOK, c, err)
}

// candidates is a keyset page of a site's candidates, as certapi's list is.
func (f *floor) candidates(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := f.QueryContext(r.Context(), "SELECT "+candidateColumns+
		" FROM candidates WHERE training_site_id = ? AND id > ? ORDER BY id LIMIT ?",
		r.URL.Query().Get("training_site_id"), r.URL.Query().Get("cursor"), limit+1)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	defer rows.Close()
	list := api.CandidateList{Items: make([]api.Candidate, 0, limit+1)}
	for rows.Next() {
		c, err := scanCandidate(rows)
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		list.Items = append(list.Items, c)
	}
	if len(list.Items) > limit {
		list.Items = list.Items[:limit]
		next := list.Items[limit-1].Id.String()
		list.NextCursor = &next
	}
	reply(w, http.StatusOK, list, rows.Err())
}

// transcript reads what a transcript is made of (the candidate, their sittings,
// and the components their published decisions validated) and lists each
// component's latest sitting: the same reads, without the rules' reasoning.
func (f *floor) transcript(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	c, err := scanCandidate(f.QueryRowContext(ctx, "SELECT "+candidateColumns+" FROM candidates WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		http.NotFound(w, r)
		return
	} else if err != nil {
		reply(w, 0, nil, err)
		return
	}
	t := api.Transcript{AsOf: openapi_types.Date{Time: time.Now().UTC().Truncate(24 * time.Hour)}, CandidateId: c.Id,
		CertificationCode: c.CertificationCode, Reasons: []api.Violation{}}
	validated := map[string][2]sql.NullTime{}
	rows, err := f.QueryContext(ctx, `SELECT dc.component, dc.acquired_on, dc.valid_until FROM decision_components dc
		JOIN decisions d ON d.id = dc.decision_id WHERE d.candidate_id = ? AND d.published_at IS NOT NULL`, id)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	for rows.Next() {
		var comp string
		var on, until sql.NullTime
		if err := rows.Scan(&comp, &on, &until); err != nil {
			rows.Close()
			reply(w, 0, nil, err)
			return
		}
		validated[comp] = [2]sql.NullTime{on, until}
	}
	rows.Close()
	rows, err = f.QueryContext(ctx, `SELECT id, component, status, grade_hundredths, dossier_grade_hundredths,
		defence_grade_hundredths FROM evaluations WHERE candidate_id = ? ORDER BY component, scheduled_at`, id)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	defer rows.Close()
	latest := map[string]api.TranscriptComponent{}
	var order []string
	for rows.Next() {
		var evalID, comp, status string
		var grade, dossier, defence sql.NullInt64
		if err := rows.Scan(&evalID, &comp, &status, &grade, &dossier, &defence); err != nil {
			reply(w, 0, nil, err)
			return
		}
		eid := uuid.MustParse(evalID)
		tc := api.TranscriptComponent{Component: api.ComponentId(comp), EvaluationId: &eid, Status: api.TranscriptComponentStatus("graded"),
			Grade: hundredths(grade), DossierGrade: hundredths(dossier), DefenceGrade: hundredths(defence)}
		if v, ok := validated[comp]; ok {
			tc.Status, tc.AcquiredOn, tc.ValidUntil = "acquired", dateOrNil(v[0]), dateOrNil(v[1])
		}
		if _, seen := latest[comp]; !seen {
			order = append(order, comp)
		}
		latest[comp] = tc
	}
	for _, comp := range order {
		t.Components = append(t.Components, latest[comp])
	}
	t.Awardable = len(validated) == 4
	reply(w, http.StatusOK, t, rows.Err())
}

// results is a page of the results feed: the entries after the cursor's sequence,
// and the components of their decisions, as certapi's store reads them.
func (f *floor) results(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	after := int64(0)
	if c := r.URL.Query().Get("cursor"); c != "" {
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err == nil {
			after, err = strconv.ParseInt(string(raw), 10, 64)
		}
		if err != nil {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	rows, err := f.QueryContext(ctx, `SELECT sequence, type, recorded_at, certification_code, decision_id, jury_session_id, held_on,
		outcome, corrects_id, candidate_id, first_name, birth_name, usage_name, training_site_id, route, certificate_number,
		certificate_status FROM result_events WHERE sequence > ? ORDER BY sequence LIMIT ?`, after, limit+1)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	feed := api.ResultFeed{Items: make([]api.ResultEntry, 0, limit+1)}
	var decisions []any
	for rows.Next() {
		var (
			e                                          api.ResultEntry
			typ, decision, session, outcome, cand, rte string
			corrects, usage, site, number, status      sql.NullString
			heldOn                                     time.Time
		)
		if err := rows.Scan(&e.Sequence, &typ, &e.RecordedAt, &e.CertificationCode, &decision, &session, &heldOn, &outcome, &corrects,
			&cand, &e.Candidate.FirstName, &e.Candidate.BirthName, &usage, &site, &rte, &number, &status); err != nil {
			rows.Close()
			reply(w, 0, nil, err)
			return
		}
		e.Type, e.Outcome, e.Candidate.Route = api.ResultEntryType(typ), api.Outcome(outcome), api.RouteId(rte)
		e.DecisionId, e.JurySessionId, e.Candidate.Id = uuid.MustParse(decision), uuid.MustParse(session), uuid.MustParse(cand)
		e.HeldOn, e.RecordedAt = openapi_types.Date{Time: heldOn}, e.RecordedAt.UTC()
		e.Corrects, e.Candidate.TrainingSiteId = uuidOrNil(corrects), uuidOrNil(site)
		e.Candidate.UsageName, e.CertificateNumber = stringOrNil(usage), stringOrNil(number)
		if status.Valid {
			st := api.ResultEntryCertificateStatus(status.String)
			e.CertificateStatus = &st
		}
		e.ValidatedComponents = []api.DecidedComponent{}
		feed.Items = append(feed.Items, e)
		decisions = append(decisions, decision)
	}
	rows.Close()
	if len(feed.Items) > limit {
		feed.Items, decisions, feed.HasMore = feed.Items[:limit], decisions[:limit], true
	}
	if len(decisions) > 0 {
		comps, err := f.QueryContext(ctx, `SELECT decision_id, component, evaluation_id, acquired_on, valid_until, validated_now
			FROM decision_components WHERE decision_id IN (?`+strings.Repeat(", ?", len(decisions)-1)+`) ORDER BY decision_id, ordinal`, decisions...)
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		byDecision := map[string][]api.DecidedComponent{}
		for comps.Next() {
			var decision, comp, eval string
			var on time.Time
			var until sql.NullTime
			var now bool
			if err := comps.Scan(&decision, &comp, &eval, &on, &until, &now); err != nil {
				comps.Close()
				reply(w, 0, nil, err)
				return
			}
			byDecision[decision] = append(byDecision[decision], api.DecidedComponent{Component: api.ComponentId(comp),
				EvaluationId: uuid.MustParse(eval), AcquiredOn: openapi_types.Date{Time: on}, ValidUntil: dateOrNil(until), ValidatedNow: now})
		}
		comps.Close()
		for i := range feed.Items {
			if c := byDecision[feed.Items[i].DecisionId.String()]; c != nil {
				feed.Items[i].ValidatedComponents = c
			}
		}
	}
	last := after
	if n := len(feed.Items); n > 0 {
		last = feed.Items[n-1].Sequence
	}
	feed.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last, 10)))
	reply(w, http.StatusOK, feed, nil)
}

// register is one durable INSERT of the registration it is sent.
func (f *floor) register(w http.ResponseWriter, r *http.Request) {
	var in api.CandidateCreate
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	c := api.Candidate{Id: uuid.Must(uuid.NewV7()), CertificationCode: in.CertificationCode, Route: in.Route, TrainingSiteId: in.TrainingSiteId,
		EnrolledOn: openapi_types.Date{Time: now.Truncate(24 * time.Hour)}, FirstName: in.FirstName, BirthName: in.BirthName,
		UsageName: in.UsageName, Sex: api.CandidateSex(in.Sex), BirthDate: in.BirthDate, BirthPlace: api.BirthPlaceRecord(in.BirthPlace), Email: in.Email,
		Phone: in.Phone, Address: api.PostalAddress(in.Address), Status: "enrolled", Version: 1, CreatedAt: now, UpdatedAt: now}
	var site *string
	if c.TrainingSiteId != nil {
		s := c.TrainingSiteId.String()
		site = &s
	}
	person := c.CertificationCode + "|" + c.BirthName + "|" + c.FirstName + "|" + c.BirthDate.String()
	_, err := f.ExecContext(r.Context(), `INSERT INTO candidates (id, certification_code, route, training_site_id, enrolled_on,
		first_name, birth_name, usage_name, sex, birth_date, birth_insee_code, birth_postal_code, birth_place_name, birth_country_code,
		email, phone, line1, line2, postal_code, city, country_code, status, identity_key, person_key, search_name, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Id.String(), c.CertificationCode, string(c.Route), site, c.EnrolledOn.Time, c.FirstName, c.BirthName, c.UsageName, string(c.Sex),
		c.BirthDate.Time, c.BirthPlace.InseeCode, c.BirthPlace.PostalCode, c.BirthPlace.Name, c.BirthPlace.CountryCode,
		string(c.Email), c.Phone, c.Address.Line1, c.Address.Line2, c.Address.PostalCode, c.Address.City, c.Address.CountryCode,
		string(c.Status), person, person, c.BirthName+" "+c.FirstName, c.Version, c.CreatedAt, c.UpdatedAt)
	if err == nil {
		w.Header().Set("Location", "/v1/candidates/"+c.Id.String())
	}
	reply(w, http.StatusCreated, c, err)
}

func reply(w http.ResponseWriter, status int, body any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func uuidOrNil(s sql.NullString) *openapi_types.UUID {
	if !s.Valid {
		return nil
	}
	u, err := uuid.Parse(s.String)
	if err != nil {
		return nil
	}
	return &u
}

func stringOrNil(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func dateOrNil(t sql.NullTime) *openapi_types.Date {
	if !t.Valid {
		return nil
	}
	return &openapi_types.Date{Time: t.Time}
}

func int32OrNil(n sql.NullInt64) *int32 {
	if !n.Valid {
		return nil
	}
	i := int32(n.Int64)
	return &i
}

func hundredths(n sql.NullInt64) *float64 {
	if !n.Valid {
		return nil
	}
	f := float64(n.Int64) / 100
	return &f
}
