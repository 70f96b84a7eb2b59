package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/idempotency"
	"github.com/apformation/certapi/internal/service"
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

		// A key whose first request is still running is a 409.
		body, _ := json.Marshal(newSite("Slow", "31000"))
		sum := sha256.Sum256(append([]byte("POST /v1/training-sites\n"), body...))
		if _, err := h.store.Claim(t.Context(), idempotency.Record{PrincipalID: h.users[auth.RoleAdmin], Key: "k-3", Method: "POST",
			Path: "/v1/training-sites", RequestHash: hex.EncodeToString(sum[:]), CreatedAt: time.Now().UTC(), LeaseUntil: time.Now().UTC().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		p = expect(t, post("k-3", body), http.StatusConflict)
		if str(p, "code") != "idempotency_in_progress" {
			t.Fatalf("in progress: %v", p)
		}

		// A claim whose request can no longer be running (its process died: a kill -9
		// mid-request) is abandoned once its lease ends: the retry goes through, once.
		started := time.Now().UTC().Add(-5 * time.Minute)
		if _, err := h.store.Claim(t.Context(), idempotency.Record{PrincipalID: h.users[auth.RoleAdmin], Key: "k-5", Method: "POST",
			Path: "/v1/training-sites", RequestHash: hex.EncodeToString(sum[:]), CreatedAt: started, LeaseUntil: started.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		retried := expect(t, post("k-5", body), http.StatusCreated)
		if replay := post("k-5", body); replay.hdr.Get("Idempotent-Replayed") != "true" || str(replay.json(t), "id") != str(retried, "id") {
			t.Fatalf("the retry's answer is the key's now: %v", replay.hdr)
		}

		// A key past its 24 hours is forgotten.
		if _, err := h.store.Claim(t.Context(), idempotency.Record{PrincipalID: h.users[auth.RoleAdmin], Key: "k-4", Method: "POST",
			Path: "/v1/training-sites", RequestHash: "old", CreatedAt: time.Now().UTC().Add(-25 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		expect(t, post("k-4", newSite("Fresh", "31000")), http.StatusCreated)
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
