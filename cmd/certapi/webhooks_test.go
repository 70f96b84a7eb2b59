package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// serve sends webhooks: a partner application subscribes, a jury's deliberation
// closes, and the delivery reaches the receiver, signed, without anything but the
// running service to send it; then the service stops cleanly.
func TestServeDeliversWebhooks(t *testing.T) {
	var (
		mu     sync.Mutex
		secret string
		got    = make(chan map[string]any, 10)
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		wh, err := standardwebhooks.NewWebhook(secret)
		mu.Unlock()
		if err == nil {
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			t.Errorf("a delivery that does not verify: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var event map[string]any
		_ = json.Unmarshal(body, &event)
		got <- event
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()

	env := map[string]string{"CERTAPI_DATA_DIR": t.TempDir(), "CERTAPI_WEBHOOK_ALLOW_PRIVATE": "true",
		"CERTAPI_BOOTSTRAP_ADMIN_EMAIL": "admin@example.org", "CERTAPI_BOOTSTRAP_ADMIN_PASSWORD": "a-long-enough-password"}
	serveUntil(t, env, func(base string) {
		must := func(want int, method, path, bearer, contentType, body string) map[string]any {
			t.Helper()
			code, m := call(t, method, base+path, bearer, contentType, body)
			if code != want {
				t.Fatalf("%s %s: %d %v", method, path, code, m)
			}
			return m
		}
		form := "application/x-www-form-urlencoded"
		admin := must(http.StatusOK, "POST", "/v1/auth/token", "", form, url.Values{"grant_type": {"password"},
			"username": {"admin@example.org"}, "password": {"a-long-enough-password"}}.Encode())["access_token"].(string)
		app := must(http.StatusCreated, "POST", "/v1/api-clients", admin, "application/json",
			`{"name":"Opco","scopes":["results:read","webhooks:manage"]}`)
		partner := must(http.StatusOK, "POST", "/v1/auth/token", "", form, url.Values{"grant_type": {"client_credentials"},
			"client_id": {app["client_id"].(string)}, "client_secret": {app["client_secret"].(string)}}.Encode())["access_token"].(string)
		sub := must(http.StatusCreated, "POST", "/v1/webhook-subscriptions", partner, "application/json",
			fmt.Sprintf(`{"url":%q,"events":["result.published"]}`, receiver.URL+"/hooks"))
		mu.Lock()
		secret = sub["secret"].(string)
		mu.Unlock()

		var members []string
		for i, role := range []string{"pedagogical_director", "professional", "professional", "professional", "professional"} {
			m := must(http.StatusCreated, "POST", "/v1/jury-members", admin, "application/json",
				fmt.Sprintf(`{"full_name":"Membre %d","role":%q,"organisation":"Agence","email":"m%d@jury.example"}`, i, role, i))
			members = append(members, fmt.Sprintf("%q", m["id"]))
		}
		session := must(http.StatusCreated, "POST", "/v1/jury-sessions", admin, "application/json",
			fmt.Sprintf(`{"certification_code":"RNCP26206","training_site_id":"00000000-0000-7000-8000-00000000b001","held_on":"2019-10-01","member_ids":[%s,%s,%s,%s,%s]}`,
				members[0], members[1], members[2], members[3], members[4]))["id"].(string)
		cand := must(http.StatusCreated, "POST", "/v1/candidates", admin, "application/json", `{"certification_code":"RNCP26206",
			"route":"individual_application","enrolled_on":"2019-06-03","first_name":"Léa","birth_name":"Webhook","sex":"F",
			"birth_date":"1995-04-12","birth_place":{"insee_code":"31555","name":"Toulouse","country_code":"FR"},
			"email":"lea@example.org","address":{"line1":"1 rue","postal_code":"31000","city":"Toulouse","country_code":"FR"}}`)["id"].(string)
		must(http.StatusCreated, "POST", "/v1/jury-sessions/"+session+"/decisions", admin, "application/json",
			fmt.Sprintf(`{"candidate_id":%q,"reason":"Aucune composante présentée"}`, cand))
		sigs := ""
		for i, m := range members {
			if i > 0 {
				sigs += ","
			}
			sigs += fmt.Sprintf(`{"member_id":%s,"signed_at":"2019-10-01T17:00:00Z"}`, m)
		}
		must(http.StatusOK, "POST", "/v1/jury-sessions/"+session+"/close", admin, "application/json", `{"signatures":[`+sigs+`]}`)

		select {
		case event := <-got:
			data := event["data"].(map[string]any)
			if event["type"] != "result.published" || data["outcome"] != "refusal" || data["candidate"].(map[string]any)["id"] != cand {
				t.Errorf("delivered %v", event)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no delivery")
		}
	})
}
