package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/testdb"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

func TestIdempotencyKeys(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		post := func(key string, body any) response {
			return h.do(req{method: "POST", path: "/v1/training-sites", bearer: admin, body: body, headers: map[string]string{"Idempotency-Key": key}})
		}
		count := func() int {
			return len(items(expect(t, h.do(req{method: "GET", path: "/v1/training-sites?include_inactive=true", bearer: admin}), http.StatusOK)))
		}

		first := post("k-1", newSite("Once", "31000"))
		a := expect(t, first, http.StatusCreated)
		again := post("k-1", newSite("Once", "31000"))
		b := expect(t, again, http.StatusCreated)
		if a["id"] != b["id"] || again.hdr.Get("Idempotent-Replayed") != "true" || again.hdr.Get("Location") != first.hdr.Get("Location") || again.hdr.Get("ETag") != `"1"` {
			t.Fatalf("replay: %v %v", b, again.hdr)
		}
		if n := count(); n != 4 {
			t.Fatalf("%d sites after a replay, want 4", n)
		}

		p := expect(t, post("k-1", newSite("Other", "31000")), http.StatusUnprocessableEntity)
		if str(p, "code") != "idempotency_key_reused" {
			t.Fatalf("reuse: %v", p)
		}

		// A refused request releases its key: the corrected request goes through.
		expect(t, post("k-2", newSite("Papeete", "98714")), http.StatusUnprocessableEntity)
		expect(t, post("k-2", newSite("Pau", "64000")), http.StatusCreated)

		// A key whose write committed and whose answer is not recorded yet (its
		// request is finishing, or its process died in between) is a 409 while
		// that request could still be running; once its lease is over, the answer
		// was lost, and the 409 names what the write created. Never a second write.
		body, _ := json.Marshal(newSite("Slow", "31000"))
		sum := sha256.Sum256(append([]byte("POST /v1/training-sites\n"), body...))
		recorded := func(key string, at time.Time, resource string) {
			t.Helper()
			claim := &idempotency.Claim{Record: idempotency.Record{PrincipalID: h.users[auth.RoleAdmin], Key: key, Method: "POST",
				Path: "/v1/training-sites", RequestHash: hex.EncodeToString(sum[:]), CreatedAt: at, LeaseUntil: at.Add(time.Minute)}}
			if err := h.store.Write(idempotency.WithClaim(t.Context(), claim), func(tx service.Tx) error {
				return tx.AppendAudit(service.AuditEvent{ID: uuid.NewString(), OccurredAt: at, ActorRole: "admin", Action: "create",
					ResourceType: "training_site", ResourceID: resource})
			}); err != nil {
				t.Fatal(err)
			}
		}
		recorded("k-3", time.Now().UTC(), "site-being-answered")
		p = expect(t, post("k-3", body), http.StatusConflict)
		if str(p, "code") != "idempotency_in_progress" {
			t.Fatalf("in progress: %v", p)
		}
		recorded("k-5", time.Now().UTC().Add(-5*time.Minute), "site-whose-answer-was-lost")
		p = expect(t, post("k-5", body), http.StatusConflict)
		if str(p, "code") != "idempotency_answer_lost" || str(p, "existing_id") != "site-whose-answer-was-lost" {
			t.Fatalf("answer lost: %v", p)
		}
		if n := count(); n != 5 {
			t.Fatalf("%d sites after the conflicts, want 5", n)
		}

		// A key past its 24 hours is forgotten: its request is a new one.
		recorded("k-4", time.Now().UTC().Add(-25*time.Hour), "site-of-yesterday")
		fresh := post("k-4", newSite("Fresh", "31000"))
		if expect(t, fresh, http.StatusCreated); fresh.hdr.Get("Idempotent-Replayed") != "" {
			t.Fatalf("an expired key was replayed: %v", fresh.hdr)
		}
		if replay := post("k-4", newSite("Fresh", "31000")); replay.hdr.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the expired key's new answer is not the key's now: %v", replay.hdr)
		}
		if n, err := h.store.Purge(t.Context(), time.Now().Add(time.Minute)); err != nil || n < 4 {
			t.Fatalf("purge: %d %v", n, err)
		}

		// Keys belong to their caller: another admin's same key is a new request.
		u, err := h.svc.CreateUser(adminContext(), service.UserInput{Email: "second-admin@test.example", Role: auth.RoleAdmin, Password: "a-long-enough-password"})
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := h.tokens.Issue(u.ID, auth.RoleAdmin)
		other := h.do(req{method: "POST", path: "/v1/training-sites", bearer: "Bearer " + tok, body: newSite("Once", "31000"), headers: map[string]string{"Idempotency-Key": "k-1"}})
		if o := expect(t, other, http.StatusCreated); o["id"] == a["id"] || other.hdr.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another caller's key was replayed: %v", o)
		}
	})
}

// countingRecords counts the answers recorded after the fact.
type countingRecords struct {
	idempotency.Store
	completed atomic.Int32
}

func (c *countingRecords) Complete(ctx context.Context, r idempotency.Record) error {
	c.completed.Add(1)
	return c.Store.Complete(ctx, r)
}

// Every creating operation that takes an Idempotency-Key records its answer with
// its write: the record holds the bytes sent, a retry replays them, and nothing is
// written after the answer, so that a process killed between the commit and the
// answer leaves a key that replays instead of waiting out its lease.
func TestEveryCreationRecordsItsAnswerWithItsWrite(t *testing.T) {
	doc, _ := contract(t)
	t.Parallel()
	for _, d := range testdb.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			records := &countingRecords{}
			h := newHarnessOn(t, testdb.Open(t, d), func() time.Time { return declarationsNow },
				func(o *httpapi.Options) {
					o.Issuer = testIssuer
					records.Store = o.Idempotency
					o.Idempotency = records
				})
			admin := h.as(auth.RoleAdmin)
			h.awardAll("2019-10-01", map[string]any{"first_name": "Titulaire", "birth_name": "Déclarée"})
			candidate := h.candidate(map[string]any{"first_name": "Clé", "birth_name": "Unique", "training_site_id": siteMontpellier})
			session := h.session("2019-10-02")
			expect(t, defence(h, admin, candidate, session, "2019-10-02T09:00:00Z"), http.StatusCreated)
			partner, partnerID := h.partnerClient(siteMontpellier, "webhooks:manage", "results:read")
			type creation struct {
				req
				owner string
			}
			creations := map[string]creation{
				"POST /v1/certifications/{code}/registration-periods": {req: req{path: periodsPath, body: map[string]any{
					"legal_act": "Arrêté du 9 décembre 2026", "effective_from": "2026-12-09", "effective_until": "2031-12-09"}}},
				"POST /v1/training-sites": {req: req{path: "/v1/training-sites", body: newSite("Campus Nord", "31200")}},
				"POST /v1/users": {req: req{path: "/v1/users", body: map[string]any{"email": "nouveau@test.example", "role": "site_staff",
					"password": "a-long-enough-password", "training_site_id": siteMontpellier}}},
				"POST /v1/candidates": {req: req{path: "/v1/candidates", body: candidateBody(map[string]any{"birth_name": "Once", "email": "once@example.org"})}},
				"POST /v1/evaluations": {req: req{path: "/v1/evaluations", body: map[string]any{"candidate_id": candidate, "component": "E1",
					"training_site_id": sitePierreBayle, "scheduled_at": "2019-09-02T09:00:00Z"}}},
				"POST /v1/jury-members": {req: req{path: "/v1/jury-members", body: map[string]any{"full_name": "Nadia Pro", "role": "professional",
					"organisation": "Agence Nadia", "email": "nadia@jury.example"}}},
				"POST /v1/jury-sessions": {req: req{path: "/v1/jury-sessions", body: map[string]any{"certification_code": "RNCP26206",
					"training_site_id": sitePierreBayle, "held_on": "2019-10-03", "member_ids": h.jury()}}},
				"POST /v1/jury-sessions/{id}/decisions": {req: req{path: "/v1/jury-sessions/" + session + "/decisions",
					body: map[string]any{"candidate_id": candidate, "reason": "Délibération du jury"}}},
				"POST /v1/api-clients": {req: req{path: "/v1/api-clients", body: map[string]any{"name": "Partenaire", "scopes": []string{"results:read"}}}},
				"POST /v1/webhook-subscriptions": {req: req{path: "/v1/webhook-subscriptions", bearer: partner,
					body: map[string]any{"url": "https://93.184.215.14/hooks", "events": []string{"result.published"}}}, owner: partnerID},
				"POST /v1/exports/holders-declaration/files": {req: req{path: "/v1/exports/holders-declaration/files", body: map[string]any{"awarded_to": "2019-10-31"}}},
			}
			for path, item := range doc.Paths.Map() {
				if op := item.Post; op != nil && slices.ContainsFunc(op.Parameters, func(p *openapi3.ParameterRef) bool { return strings.HasSuffix(p.Ref, "/IdempotencyKey") }) {
					if _, ok := creations["POST "+path]; !ok {
						t.Errorf("POST %s takes an Idempotency-Key: add it here", path)
					}
				}
			}
			for name, c := range creations {
				r := c.req
				r.method, r.headers = "POST", map[string]string{"Idempotency-Key": "key " + name}
				if r.bearer == "" {
					r.bearer, c.owner = admin, h.users[auth.RoleAdmin]
				}
				before := records.completed.Load()
				first := h.do(r)
				if n := records.completed.Load() - before; n != 0 {
					t.Errorf("%s: the answer was recorded %d times after it was sent, want none", name, n)
				}
				if first.code != http.StatusCreated {
					t.Errorf("%s: %d %s", name, first.code, first.raw)
					continue
				}
				rec, err := h.store.Lookup(t.Context(), c.owner, "key "+name)
				if err != nil || rec.StatusCode != http.StatusCreated || !bytes.Equal(rec.Body, first.raw) || rec.Location != first.hdr.Get("Location") ||
					rec.ETag != first.hdr.Get("ETag") || rec.ContentType != first.hdr.Get("Content-Type") {
					t.Errorf("%s: recorded %+v (%v), sent %s %v", name, rec, err, first.raw, first.hdr)
					continue
				}
				if replay := h.do(r); replay.code != http.StatusCreated || replay.hdr.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.raw, first.raw) {
					t.Errorf("%s: replay %d %s %v, first %s", name, replay.code, replay.raw, replay.hdr, first.raw)
				}
			}
		})
	}
}

// A registration with an Idempotency-Key records its answer in its own
// transaction, the very bytes then sent: nothing is recorded after the answer, a
// replay is byte for byte the first answer, and requests racing with one key all
// get the one candidate.
func TestRegistrationRecordsItsAnswerWithItsWrite(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		records := &countingRecords{}
		h = newHarnessOn(t, h.store, time.Now, func(o *httpapi.Options) { records.Store = o.Idempotency; o.Idempotency = records })
		admin := h.as(auth.RoleAdmin)
		register := func(key, name string) response {
			return h.do(req{method: "POST", path: "/v1/candidates", bearer: admin, headers: map[string]string{"Idempotency-Key": key},
				body: candidateBody(map[string]any{"birth_name": name, "email": strings.ToLower(name) + "@example.org"})})
		}
		first := register("reg-1", "Once")
		created := expect(t, first, http.StatusCreated)
		rec, err := h.store.Lookup(t.Context(), h.users[auth.RoleAdmin], "reg-1")
		if err != nil || rec.StatusCode != http.StatusCreated || !bytes.Equal(rec.Body, first.raw) || rec.Location != first.hdr.Get("Location") ||
			rec.ETag != first.hdr.Get("ETag") || rec.ContentType != first.hdr.Get("Content-Type") {
			t.Fatalf("recorded %+v (%v), sent %s %v", rec, err, first.raw, first.hdr)
		}
		replay := register("reg-1", "Once")
		if replay.code != http.StatusCreated || replay.hdr.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replay.raw, first.raw) ||
			replay.hdr.Get("Location") != first.hdr.Get("Location") || replay.hdr.Get("ETag") != first.hdr.Get("ETag") {
			t.Fatalf("replay %d %s %v, first %s", replay.code, replay.raw, replay.hdr, first.raw)
		}
		// The replay's own write met the candidate and the key and rolled back: it
		// is answered as a retry, not audited as a refused duplicate.
		if probes := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?action=refused_duplicate", bearer: admin}), http.StatusOK)); len(probes) != 0 {
			t.Fatalf("a replay audited as a refused duplicate: %v", probes)
		}
		// The same person without the key is refused, and that is audited.
		expect(t, h.do(req{method: "POST", path: "/v1/candidates", bearer: admin,
			body: candidateBody(map[string]any{"birth_name": "Once", "email": "once@example.org"})}), http.StatusConflict)
		if probes := items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?action=refused_duplicate", bearer: admin}), http.StatusOK)); len(probes) != 1 {
			t.Fatalf("a refused duplicate audited %d times: %v", len(probes), probes)
		}

		const racers = 8
		answers := make([]response, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() { defer wg.Done(); answers[i] = register("reg-2", "Racing") }()
		}
		wg.Wait()
		id := str(expect(t, answers[0], http.StatusCreated), "id")
		for _, a := range answers[1:] {
			if got := str(expect(t, a, http.StatusCreated), "id"); got != id {
				t.Fatalf("racing registrations with one key answered %s and %s", id, got)
			}
		}
		list := items(expect(t, h.do(req{method: "GET", path: "/v1/candidates?q=Racing", bearer: admin}), http.StatusOK))
		if len(list) != 1 || str(created, "id") == id {
			t.Fatalf("%d candidates from one key: %v", len(list), list)
		}
		if n := records.completed.Load(); n != 0 {
			t.Fatalf("%d answers recorded after they were sent, want none", n)
		}
	})
}
