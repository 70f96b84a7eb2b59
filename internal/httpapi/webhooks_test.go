package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/httpapi"
	"github.com/apformation/certapi/internal/service"
	"github.com/apformation/certapi/internal/testdb"
	"github.com/apformation/certapi/internal/webhook"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// privateWebhooks lets subscriptions name the tests' receivers: http, on loopback.
func privateWebhooks(o *httpapi.Options) {
	service.WebhookPolicy(webhook.Policy{AllowPrivate: true})(o.Service)
}

// received is one delivery as a receiver took it.
type received struct {
	id, timestamp string
	body          []byte
	event         map[string]any
}

// receiver is a partner's webhook endpoint. It verifies every delivery's signature
// with the Standard Webhooks library and the subscription's secret, and checks its
// body against the contract's WebhookEvent; it answers what answer says for the
// n-th request (204 by default).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	answer func(n int) int
	delay  time.Duration
	got    []received
	// inFlight counts the requests under way per webhook-id; overlaps counts the
	// times one arrived while another of the same id was under way.
	inFlight map[string]int
	overlaps int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, inFlight: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks/certapi" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	r.mu.Lock()
	secret := r.secret
	r.inFlight[id]++
	if r.inFlight[id] > 1 {
		r.overlaps++
	}
	n := len(r.got) + 1
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight[id]--
		r.mu.Unlock()
	}()
	time.Sleep(r.delay)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		r.t.Errorf("the subscription's secret: %v", err)
		return
	}
	// The timestamp is the dispatcher's clock, which the tests move: it is compared
	// with that clock rather than with the wall clock.
	if err := wh.VerifyIgnoringTimestamp(body, req.Header); err != nil {
		r.t.Errorf("delivery %s: the signature does not verify: %v", id, err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("delivery %s: %s with %s", id, req.Method, req.Header.Get("Content-Type"))
	}
	var event map[string]any
	if err := json.Unmarshal(body, &event); err != nil {
		r.t.Errorf("delivery %s: the body is not JSON: %v", id, err)
	}
	doc, _ := contract(r.t)
	if err := doc.Components.Schemas["WebhookEvent"].Value.VisitJSON(event); err != nil {
		r.t.Errorf("delivery %s: the body is not a WebhookEvent: %v\n%s", id, err, body)
	}
	r.mu.Lock()
	r.got = append(r.got, received{id: id, timestamp: req.Header.Get("webhook-timestamp"), body: body, event: event})
	answer := http.StatusNoContent
	if r.answer != nil {
		answer = r.answer(n)
	}
	r.mu.Unlock()
	if answer >= 300 && answer < 400 {
		http.Redirect(w, req, "/elsewhere", answer)
		return
	}
	w.WriteHeader(answer)
}

// deliveries are what the receiver took, in the order it took them.
func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// overlapping counts the requests that arrived while another of the same delivery
// was under way.
func (r *receiver) overlapping() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overlaps
}

// sequencesOf are the feed sequences the deliveries carried, sorted.
func sequencesOf(rs []received) []int {
	var out []int
	for _, r := range rs {
		out = append(out, int(r.event["data"].(map[string]any)["sequence"].(float64)))
	}
	sort.Ints(out)
	return out
}

// subscribe subscribes a partner to a receiver, which learns the secret.
func (h *harness) subscribe(bearer string, r *receiver, events ...string) map[string]any {
	h.t.Helper()
	if events == nil {
		events = []string{"result.published", "certificate.revoked"}
	}
	s := expect(h.t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: bearer,
		body: map[string]any{"url": r.url(), "events": events}}), http.StatusCreated)
	r.mu.Lock()
	r.secret = str(s, "secret")
	r.mu.Unlock()
	return s
}

// dispatcher is an instance's dispatcher, on its own clock.
func (h *harness) dispatcher(owner string, now func() time.Time) *service.Dispatcher {
	return service.NewDispatcher(h.svc, service.DispatcherOptions{Sender: webhook.NewSender(webhook.Policy{AllowPrivate: true}, 2*time.Second),
		Render: httpapi.WebhookPayload, Owner: owner, Now: now, Batch: 50})
}

// runDue runs one round of a dispatcher and returns how many deliveries it claimed.
func runDue(t *testing.T, d *service.Dispatcher) int {
	t.Helper()
	n, err := d.RunDue(context.Background())
	if err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	return n
}

func deliveriesOf(t *testing.T, h *harness, bearer, subscription, query string) map[string]any {
	t.Helper()
	return expect(t, h.do(req{method: "GET", path: "/v1/webhook-subscriptions/" + subscription + "/deliveries?" + query, bearer: bearer}), http.StatusOK)
}

// Subscriptions: a partner application's own, which an administrator sees too;
// another application cannot tell they exist.
func TestWebhookSubscriptions(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		rec := newReceiver(t)
		owner, ownerID := h.partnerClient("", "results:read", "webhooks:manage")
		other := h.partner("", "results:read", "webhooks:manage")
		res := h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: owner,
			body: map[string]any{"url": rec.url(), "events": []string{"result.published"}}})
		sub := expect(t, res, http.StatusCreated)
		id := str(sub, "id")
		client := expect(t, h.do(req{method: "GET", path: "/v1/api-clients/" + ownerID, bearer: admin}), http.StatusOK)
		if str(sub, "client_id") != str(client, "client_id") || str(sub, "url") != rec.url() || fmt.Sprint(sub["events"]) != "[result.published]" ||
			sub["active"] != true || sub["version"] != 1.0 || len(str(sub, "secret")) < 40 || str(sub, "secret")[:6] != "whsec_" ||
			str(sub, "created_at") != feedStart || res.hdr.Get("ETag") != `"1"` || res.hdr.Get("Location") != "/v1/webhook-subscriptions/"+id {
			t.Fatalf("created: %v %v", sub, res.hdr)
		}
		if p := expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: owner,
			body: map[string]any{"url": rec.url(), "events": []string{"certificate.revoked"}}}), http.StatusConflict); str(p, "code") != "duplicate_subscription" || str(p, "existing_id") != id {
			t.Errorf("the same URL again: %v", p)
		}
		for _, body := range []map[string]any{
			{"url": rec.url(), "events": []string{}},
			{"url": rec.url(), "events": []string{"result.deleted"}},
			{"url": rec.url(), "events": []string{"result.published", "result.published"}},
			{"url": rec.url()},
			{"url": rec.url(), "events": []string{"result.published"}, "secret": "whsec_mine"},
		} {
			expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: owner, body: body}), http.StatusBadRequest)
		}
		// Deliveries carry the feed: an application that may not read it may not
		// subscribe.
		if p := expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: h.partner("", "webhooks:manage", "statistics:read"),
			body: map[string]any{"url": rec.url(), "events": []string{"result.published"}}}), http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "[/events]" {
			t.Errorf("without results:read: %v", p)
		}

		// Who sees it.
		path := "/v1/webhook-subscriptions/" + id
		for _, b := range []string{owner, admin} {
			got := expect(t, h.do(req{method: "GET", path: path, bearer: b}), http.StatusOK)
			if got["secret"] != nil || str(got, "id") != id {
				t.Errorf("read back: %v", got)
			}
			if list := items(expect(t, h.do(req{method: "GET", path: "/v1/webhook-subscriptions", bearer: b}), http.StatusOK)); len(list) != 1 || str(list[0], "id") != id {
				t.Errorf("the list: %v", list)
			}
			expect(t, h.do(req{method: "GET", path: path + "/deliveries", bearer: b}), http.StatusOK)
		}
		if list := items(expect(t, h.do(req{method: "GET", path: "/v1/webhook-subscriptions", bearer: other}), http.StatusOK)); len(list) != 0 {
			t.Errorf("another application's list: %v", list)
		}
		for _, r := range []req{
			{method: "GET", path: path},
			{method: "GET", path: path + "/deliveries"},
			{method: "PATCH", path: path, contentType: "application/merge-patch+json", body: `{"active":false}`, headers: map[string]string{"If-Match": "*"}},
			{method: "DELETE", path: path},
		} {
			r.bearer = other
			if p := expect(t, h.do(r), http.StatusNotFound); str(p, "code") != "not_found" {
				t.Errorf("another application %s %s: %v", r.method, r.path, p)
			}
		}
		for _, role := range []auth.Role{auth.RoleDirector, auth.RoleSiteStaff, auth.RoleJuryMember, auth.RoleCandidate} {
			for _, r := range []req{
				{method: "GET", path: "/v1/webhook-subscriptions"},
				{method: "POST", path: "/v1/webhook-subscriptions", body: map[string]any{"url": rec.url(), "events": []string{"result.published"}}},
				{method: "GET", path: path},
				{method: "PATCH", path: path, contentType: "application/merge-patch+json", body: `{"active":false}`, headers: map[string]string{"If-Match": "*"}},
				{method: "DELETE", path: path},
				{method: "GET", path: path + "/deliveries"},
			} {
				r.bearer = h.as(role)
				expect(t, h.do(r), http.StatusForbidden)
				r.bearer = ""
				expect(t, h.do(r), http.StatusUnauthorized)
			}
		}
		// Subscribing is the partner's own: an administrator cannot subscribe, and a
		// partner needs webhooks:manage for any of it.
		expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: admin,
			body: map[string]any{"url": rec.url() + "/admin", "events": []string{"result.published"}}}), http.StatusForbidden)
		readOnly := h.partner("", "results:read")
		expect(t, h.do(req{method: "GET", path: "/v1/webhook-subscriptions", bearer: readOnly}), http.StatusForbidden)
		expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: readOnly,
			body: map[string]any{"url": rec.url() + "/ro", "events": []string{"result.published"}}}), http.StatusForbidden)

		// Changes: If-Match, merge patch.
		patch := func(bearer, ifMatch, body string) response {
			r := req{method: "PATCH", path: path, bearer: bearer, contentType: "application/merge-patch+json", body: body}
			if ifMatch != "" {
				r.headers = map[string]string{"If-Match": ifMatch}
			}
			return h.do(r)
		}
		expect(t, patch(owner, "", `{"active":false}`), http.StatusPreconditionRequired)
		expect(t, patch(owner, `"7"`, `{"active":false}`), http.StatusPreconditionFailed)
		clock.Advance(time.Minute)
		res = patch(owner, `"1"`, `{"active":false,"events":["certificate.revoked","result.published"]}`)
		if p := expect(t, res, http.StatusOK); p["active"] != false || p["version"] != 2.0 || fmt.Sprint(p["events"]) != "[certificate.revoked result.published]" ||
			str(p, "url") != rec.url() || res.hdr.Get("ETag") != `"2"` || str(p, "updated_at") == str(p, "created_at") {
			t.Errorf("paused: %v", p)
		}
		if p := expect(t, patch(owner, `"2"`, `{"active":false}`), http.StatusOK); p["version"] != 2.0 {
			t.Errorf("a patch that changes nothing: %v", p)
		}
		expect(t, patch(owner, `"2"`, `{"url":null}`), http.StatusBadRequest)
		expect(t, patch(owner, `"2"`, `{"secret":"whsec_x"}`), http.StatusBadRequest)
		if p := expect(t, patch(admin, "*", `{"active":true}`), http.StatusOK); p["active"] != true || p["version"] != 3.0 {
			t.Errorf("resumed by an administrator: %v", p)
		}
		second := expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: owner,
			body: map[string]any{"url": rec.url() + "/second", "events": []string{"result.published"}}}), http.StatusCreated)
		res = h.do(req{method: "PATCH", path: "/v1/webhook-subscriptions/" + str(second, "id"), bearer: owner,
			contentType: "application/merge-patch+json", headers: map[string]string{"If-Match": `"1"`}, body: fmt.Sprintf(`{"url":%q}`, rec.url())})
		if p := expect(t, res, http.StatusConflict); str(p, "code") != "duplicate_subscription" || str(p, "existing_id") != id {
			t.Errorf("a change to another subscription's URL: %v", p)
		}
		var actions []string
		for _, e := range items(expect(t, h.do(req{method: "GET", path: "/v1/audit-events?resource_type=webhook_subscription", bearer: admin}), http.StatusOK)) {
			actions = append(actions, str(e, "action"))
		}
		expect(t, h.do(req{method: "DELETE", path: path, bearer: owner}), http.StatusNoContent)
		expect(t, h.do(req{method: "GET", path: path, bearer: admin}), http.StatusNotFound)
		expect(t, h.do(req{method: "DELETE", path: path, bearer: owner}), http.StatusNotFound)
		if fmt.Sprint(actions) != "[create refused_read refused_read refused_read refused_read update update create]" {
			t.Errorf("audit: %v", actions)
		}
	}, privateWebhooks)
}

// Target URLs: https to public addresses only, unless the configuration allows
// private ones; checked again when a URL changes.
func TestWebhookURLs(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, _ *testClock) {
		p := h.partner("", "results:read", "webhooks:manage")
		create := func(url string) response {
			return h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: p,
				body: map[string]any{"url": url, "events": []string{"result.published"}}})
		}
		for _, url := range []string{
			"http://93.184.215.14/hooks", "https://127.0.0.1/hooks", "https://127.0.0.1:8443/hooks", "https://[::1]/hooks",
			"https://10.1.2.3/hooks", "https://172.20.0.1/hooks", "https://192.168.1.10/hooks", "https://169.254.169.254/latest/meta-data",
			"https://100.64.0.1/hooks", "https://[fd12::1]/hooks", "https://[fe80::1]/hooks", "https://[::ffff:10.0.0.1]/hooks",
			"https://0.0.0.0/hooks", "https://localhost/hooks", "ftp://93.184.215.14/hooks", "https://user:pass@93.184.215.14/hooks",
			"/hooks", "https://93.184.215.14/hooks#fragment",
		} {
			res := create(url)
			if p := expect(t, res, http.StatusUnprocessableEntity); fmt.Sprint(violations(t, p)) != "[/url]" || str(p, "code") != "invalid_value" {
				t.Errorf("%s: %v", url, p)
			}
		}
		sub := expect(t, create("https://93.184.215.14/hooks/certapi"), http.StatusCreated)
		res := h.do(req{method: "PATCH", path: "/v1/webhook-subscriptions/" + str(sub, "id"), bearer: p, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": "*"}, body: `{"url":"https://192.168.0.1/hooks"}`})
		if e := expect(t, res, http.StatusUnprocessableEntity); fmt.Sprint(violations(t, e)) != "[/url]" {
			t.Errorf("a private URL by patch: %v", e)
		}
		if got := expect(t, h.do(req{method: "GET", path: "/v1/webhook-subscriptions/" + str(sub, "id"), bearer: p}), http.StatusOK); got["version"] != 1.0 {
			t.Errorf("a refused change changed it: %v", got)
		}
	})
}

// Deliveries: each event once to each subscription that receives it, signed, with
// the feed entry; a site-bound application's subscription receives its site's
// only; a paused subscription receives nothing of what happens meanwhile.
func TestWebhookDeliveries(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		bound, all, revocations := newReceiver(t), newReceiver(t), newReceiver(t)
		boundPartner := h.partner(siteVauquelin, "results:read", "webhooks:manage")
		allPartner := h.partner("", "results:read", "webhooks:manage")
		subBound := h.subscribe(boundPartner, bound)
		subAll := h.subscribe(allPartner, all)
		h.subscribe(allPartner, revocations, "certificate.revoked")
		publishFeedWorld(h, clock)

		dispatchAt := clock.Now().Add(time.Hour)
		d := h.dispatcher("instance-a", func() time.Time { return dispatchAt })
		if n := runDue(t, d); n != 3+6+2 {
			t.Fatalf("claimed %d deliveries", n)
		}
		if n := runDue(t, d); n != 0 {
			t.Fatalf("claimed %d deliveries again", n)
		}
		if got := sequencesOf(bound.deliveries()); fmt.Sprint(got) != "[2 4 5]" {
			t.Errorf("the application bound to Vauquelin received %v", got)
		}
		for _, r := range bound.deliveries() {
			if site := r.event["data"].(map[string]any)["candidate"].(map[string]any)["training_site_id"]; site != siteVauquelin {
				t.Errorf("the application bound to Vauquelin received an event of %v", site)
			}
		}
		if got := sequencesOf(all.deliveries()); fmt.Sprint(got) != "[1 2 3 4 5 6]" {
			t.Errorf("the unbound application received %v", got)
		}
		if got := sequencesOf(revocations.deliveries()); fmt.Sprint(got) != "[4 6]" {
			t.Errorf("the subscription to revocations received %v", got)
		}
		for _, r := range revocations.deliveries() {
			if r.event["type"] != "certificate.revoked" || str(r.event["data"].(map[string]any), "type") != "certificate_revoked" {
				t.Errorf("a revocation: %v", r.event)
			}
		}

		// What was received is what the deliveries show, attempt by attempt.
		byID := map[string]received{}
		for _, r := range all.deliveries() {
			byID[r.id] = r
			data := r.event["data"].(map[string]any)
			if r.timestamp != strconv.FormatInt(dispatchAt.Unix(), 10) || r.event["timestamp"] != data["recorded_at"] {
				t.Errorf("delivery %s: timestamp %s, event %v", r.id, r.timestamp, r.event)
			}
		}
		feed := map[float64]map[string]any{}
		for _, e := range items(feedPage(t, h, admin, "limit=100")) {
			feed[e["sequence"].(float64)] = e
		}
		listed := deliveriesOf(t, h, allPartner, str(subAll, "id"), "limit=100")
		ds := items(listed)
		if len(ds) != 6 || listed["next_cursor"] != nil {
			t.Fatalf("deliveries: %v", listed)
		}
		for i, del := range ds {
			r, ok := byID[str(del, "id")]
			if !ok {
				t.Fatalf("delivery %s was not received", str(del, "id"))
			}
			var payload map[string]any
			_ = json.Unmarshal(r.body, &payload)
			attempts := del["attempts"].([]any)
			a := attempts[0].(map[string]any)
			if str(del, "status") != "delivered" || len(attempts) != 1 || a["status_code"] != 204.0 || a["error"] != nil ||
				str(a, "attempted_at") != dispatchAt.Format(time.RFC3339) || del["next_attempt_at"] != nil ||
				str(del, "delivered_at") != dispatchAt.Format(time.RFC3339) || str(del, "subscription_id") != str(subAll, "id") ||
				str(del, "created_at") == "" || fmt.Sprint(del["payload"]) != fmt.Sprint(payload) {
				t.Errorf("delivery %v", del)
			}
			data := payload["data"].(map[string]any)
			if fmt.Sprint(data) != fmt.Sprint(feed[data["sequence"].(float64)]) {
				t.Errorf("the payload's entry %v is not the feed's %v", data, feed[data["sequence"].(float64)])
			}
			if i > 0 && str(del, "id") > str(ds[i-1], "id") {
				t.Errorf("deliveries are not newest first")
			}
			if str(del, "event_type") != payload["type"] {
				t.Errorf("delivery %s is a %s carrying %v", str(del, "id"), str(del, "event_type"), payload["type"])
			}
		}
		var paged []string
		cursor := ""
		for range 5 {
			p := deliveriesOf(t, h, admin, str(subAll, "id"), "limit=4"+cursor)
			for _, del := range items(p) {
				paged = append(paged, str(del, "id"))
			}
			if p["next_cursor"] == nil {
				break
			}
			cursor = "&cursor=" + str(p, "next_cursor")
		}
		if len(paged) != 6 || paged[0] != str(ds[0], "id") || paged[5] != str(ds[5], "id") {
			t.Errorf("page by page: %v", paged)
		}
		if p := deliveriesOf(t, h, allPartner, str(subAll, "id"), "status=pending"); len(items(p)) != 0 {
			t.Errorf("pending: %v", p)
		}
		if p := deliveriesOf(t, h, boundPartner, str(subBound, "id"), "status=delivered"); len(items(p)) != 3 {
			t.Errorf("the bound application's deliveries: %v", p)
		}

		// Paused, a subscription receives nothing of what happens meanwhile.
		expect(t, h.do(req{method: "PATCH", path: "/v1/webhook-subscriptions/" + str(subAll, "id"), bearer: allPartner,
			contentType: "application/merge-patch+json", headers: map[string]string{"If-Match": "*"}, body: `{"active":false}`}), http.StatusOK)
		h.refused("Fanny", siteVauquelin, "2019-10-06")
		if n := runDue(t, d); n != 1 {
			t.Errorf("after the pause, %d deliveries", n)
		}
		if got := sequencesOf(bound.deliveries()); fmt.Sprint(got) != "[2 4 5 7]" {
			t.Errorf("the bound application received %v", got)
		}
		if n := len(all.deliveries()); n != 6 {
			t.Errorf("the paused subscription received %d deliveries", n)
		}
		if n := len(items(deliveriesOf(t, h, admin, str(subAll, "id"), "limit=100"))); n != 6 {
			t.Errorf("the paused subscription has %d deliveries", n)
		}
	}, privateWebhooks)
}

// A receiver that fails gets the delivery again after each wait of the schedule,
// as the dispatcher's clock reaches it; a 2xx delivers it; after the last attempt
// it has failed. Every attempt is kept. Redirects are not followed.
func TestWebhookRetries(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		p := h.partner("", "results:read", "webhooks:manage")
		flaky, down, moved := newReceiver(t), newReceiver(t), newReceiver(t)
		flaky.answer = func(n int) int {
			if n <= 3 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		down.answer = func(int) int { return http.StatusServiceUnavailable }
		moved.answer = func(int) int { return http.StatusFound }
		subs := map[*receiver]string{}
		for _, r := range []*receiver{flaky, down} {
			subs[r] = str(h.subscribe(p, r), "id")
		}
		movedURL := moved.url() + "/moved"
		s := expect(t, h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: p,
			body: map[string]any{"url": movedURL, "events": []string{"result.published"}}}), http.StatusCreated)
		moved.secret, subs[moved] = str(s, "secret"), str(s, "id")
		h.refused("Gaspard", siteMontpellier, "2019-10-01")

		start := clock.Now()
		var at time.Time
		var mu sync.Mutex
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
		move := func(to time.Time) { mu.Lock(); at = to; mu.Unlock() }
		move(start)
		d := h.dispatcher("instance-a", now)
		if n := runDue(t, d); n != 3 {
			t.Fatalf("first round: %d", n)
		}
		if n := runDue(t, d); n != 0 {
			t.Fatalf("again at once: %d", n)
		}
		move(start.Add(4 * time.Second))
		if n := runDue(t, d); n != 0 {
			t.Fatalf("before the first wait is over: %d", n)
		}
		// Each wait of the schedule in turn: the flaky receiver takes it at the
		// fourth attempt; the others fail to the last.
		when := start
		claimed := []int{}
		for _, wait := range webhook.Backoff {
			when = when.Add(wait)
			move(when)
			claimed = append(claimed, runDue(t, d))
			move(when.Add(-time.Second))
			if n := runDue(t, d); n != 0 {
				t.Fatalf("a delivery was due early: %d", n)
			}
		}
		if fmt.Sprint(claimed) != "[3 3 3 2 2 2 2 2 2]" {
			t.Errorf("claimed at each wait: %v", claimed)
		}
		move(when.Add(365 * 24 * time.Hour))
		if n := runDue(t, d); n != 0 {
			t.Errorf("after the last attempt: %d", n)
		}
		if len(flaky.deliveries()) != 4 || len(down.deliveries()) != webhook.MaxAttempts || len(moved.deliveries()) != webhook.MaxAttempts {
			t.Errorf("attempts received: %d %d %d", len(flaky.deliveries()), len(down.deliveries()), len(moved.deliveries()))
		}
		for _, r := range []*receiver{flaky, down, moved} {
			for _, got := range r.deliveries() {
				if got.id != r.deliveries()[0].id || string(got.body) != string(r.deliveries()[0].body) {
					t.Errorf("an attempt is not the same delivery: %s %s", got.id, got.body)
				}
			}
		}

		check := func(r *receiver, status string, codes []float64, errorText string) {
			t.Helper()
			ds := items(deliveriesOf(t, h, admin, subs[r], ""))
			if len(ds) != 1 {
				t.Fatalf("deliveries %v", ds)
			}
			del := ds[0]
			attempts := del["attempts"].([]any)
			var got []float64
			attemptedAt := start
			for i, a := range attempts {
				a := a.(map[string]any)
				got = append(got, a["status_code"].(float64))
				if str(a, "attempted_at") != attemptedAt.Format(time.RFC3339) || a["duration_ms"].(float64) < 0 {
					t.Errorf("attempt %d: %v, want it at %s", i+1, a, attemptedAt.Format(time.RFC3339))
				}
				if code := a["status_code"].(float64); code >= 200 && code < 300 {
					if a["error"] != nil {
						t.Errorf("attempt %d succeeded with an error: %v", i+1, a["error"])
					}
				} else if !strings.Contains(str(a, "error"), errorText) {
					t.Errorf("attempt %d's error: %v, want it to say %q", i+1, a["error"], errorText)
				}
				if i < len(webhook.Backoff) {
					attemptedAt = attemptedAt.Add(webhook.Backoff[i])
				}
			}
			if str(del, "status") != status || fmt.Sprint(got) != fmt.Sprint(codes) || del["next_attempt_at"] != nil || str(del, "id") != r.deliveries()[0].id {
				t.Errorf("delivery %v, want %s %v", del, status, codes)
			}
		}
		check(flaky, "delivered", []float64{500, 500, 500, 200}, "500")
		codes := func(code float64) []float64 {
			out := make([]float64, webhook.MaxAttempts)
			for i := range out {
				out[i] = code
			}
			return out
		}
		check(down, "failed", codes(503), "503")
		check(moved, "failed", codes(302), "redirects are not followed")
		if p := deliveriesOf(t, h, admin, subs[down], "status=failed"); len(items(p)) != 1 {
			t.Errorf("failed: %v", p)
		}
	}, privateWebhooks)
}

// Several instances on one database never send one delivery at once: each takes a
// lease on what it sends. A delivery whose instance died with its lease is taken
// over once the lease has run out.
func TestWebhookDispatchersNeverSendTwice(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			clock := newTestClock(feedStart)
			h := newHarnessOn(t, testdb.Open(t, dialect), clock.Now, privateWebhooks)
			admin := h.as(auth.RoleAdmin)
			rec := newReceiver(t)
			rec.delay = 20 * time.Millisecond
			p := h.partner("", "results:read", "webhooks:manage")
			sub := h.subscribe(p, rec)
			const candidates = 24
			s := h.session("2019-10-01")
			for i := range candidates {
				cand := h.candidate(map[string]any{"first_name": fmt.Sprintf("Envoi%d", i), "birth_name": "Unique"})
				expect(t, decide(h, admin, s, cand, nil), http.StatusCreated)
			}
			expect(t, closeSession(h, admin, s, "2019-10-01"), http.StatusOK)

			a, b := h.dispatcher("instance-a", clock.Now), h.dispatcher("instance-b", clock.Now)
			var wg sync.WaitGroup
			claimed := make([]int, 2)
			for i, d := range []*service.Dispatcher{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 200 {
						n, err := d.RunDue(context.Background())
						if err != nil {
							t.Errorf("dispatch: %v", err)
							return
						}
						claimed[i] += n
						if len(rec.deliveries()) >= candidates {
							return
						}
					}
				}()
			}
			wg.Wait()
			times := map[string]int{}
			for _, r := range rec.deliveries() {
				times[r.id]++
			}
			for id, n := range times {
				if n != 1 {
					t.Errorf("delivery %s was sent %d times", id, n)
				}
			}
			if len(times) != candidates || rec.overlapping() != 0 || claimed[0]+claimed[1] != candidates {
				t.Fatalf("%d deliveries received, %d overlapping, claimed %v", len(times), rec.overlapping(), claimed)
			}
			t.Logf("%s: instance a sent %d, instance b %d", dialect, claimed[0], claimed[1])

			// An instance dies holding a lease: the delivery waits for the lease to
			// run out, then another instance sends it.
			h.refused("Héloïse", siteMontpellier, "2019-10-02")
			var due []string
			if err := h.store.Read(context.Background(), func(tx service.Tx) error {
				var err error
				due, err = tx.DueDeliveries(clock.Now(), 10)
				return err
			}); err != nil || len(due) != 1 {
				t.Fatalf("due: %v %v", due, err)
			}
			if err := h.store.Write(context.Background(), func(tx service.Tx) error {
				ok, err := tx.ClaimDelivery(due[0], "instance-dead", clock.Now(), clock.Now().Add(time.Minute))
				if err == nil && !ok {
					err = fmt.Errorf("not claimed")
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if n := runDue(t, b); n != 0 {
				t.Fatalf("a leased delivery was claimed by another instance: %d", n)
			}
			clock.Advance(time.Minute)
			if n := runDue(t, b); n != 1 {
				t.Fatalf("the expired lease was not taken over: %d", n)
			}
			if ds := items(deliveriesOf(t, h, admin, str(sub, "id"), "limit=1")); str(ds[0], "status") != "delivered" || str(ds[0], "id") != due[0] {
				t.Errorf("the delivery taken over: %v", ds)
			}
		})
	}
}

// A revoked application's subscriptions stop: what waits is no longer sent, and
// nothing new is queued for them. An application that loses results:read is queued
// nothing new either.
func TestRevokedApplicationsWebhooksStop(t *testing.T) {
	forEachDialectFrom(t, feedStart, func(t *testing.T, h *harness, clock *testClock) {
		admin := h.as(auth.RoleAdmin)
		revoked, narrowed := newReceiver(t), newReceiver(t)
		p, pid := h.partnerClient("", "results:read", "webhooks:manage")
		q, qid := h.partnerClient("", "results:read", "webhooks:manage")
		subRevoked := h.subscribe(p, revoked)
		subNarrowed := h.subscribe(q, narrowed)
		h.refused("Inès", siteMontpellier, "2019-10-01")
		expect(t, h.do(req{method: "DELETE", path: "/v1/api-clients/" + pid, bearer: admin, headers: map[string]string{"If-Match": "*"}}), http.StatusOK)
		expect(t, h.do(req{method: "PATCH", path: "/v1/api-clients/" + qid, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": "*"}, body: `{"scopes":["webhooks:manage"]}`}), http.StatusOK)
		d := h.dispatcher("instance-a", clock.Now)
		if n := runDue(t, d); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		if len(revoked.deliveries()) != 0 || len(narrowed.deliveries()) != 1 {
			t.Fatalf("received %d and %d", len(revoked.deliveries()), len(narrowed.deliveries()))
		}
		h.refused("Jules", siteMontpellier, "2019-10-02")
		if n := runDue(t, d); n != 0 {
			t.Fatalf("claimed %d after the revocation", n)
		}
		for sub, want := range map[string]string{str(subRevoked, "id"): "[pending]", str(subNarrowed, "id"): "[delivered]"} {
			var statuses []string
			for _, del := range items(deliveriesOf(t, h, admin, sub, "")) {
				statuses = append(statuses, str(del, "status"))
			}
			if fmt.Sprint(statuses) != want {
				t.Errorf("subscription %s: %v, want %s", sub, statuses, want)
			}
		}
	}, privateWebhooks)
}

// matrixSubscriptionBody is a new subscription for the security matrix: a public
// address, a path of its own.
func matrixSubscriptionBody(f *matrixFixture) map[string]any {
	return map[string]any{"url": fmt.Sprintf("https://93.184.215.14/hooks/%d", f.next()), "events": []string{"result.published"}}
}

// webhookSubscription is a subscription of the matrix's partner application: its
// first, or, fresh, a new one.
func (f *matrixFixture) webhookSubscription(fresh bool) string {
	h, partner := f.h, f.bearers[auth.RolePartner]
	if !fresh {
		if list := items(expect(h.t, h.do(req{method: "GET", path: "/v1/webhook-subscriptions", bearer: partner}), http.StatusOK)); len(list) > 0 {
			return str(list[0], "id")
		}
	}
	res := h.do(req{method: "POST", path: "/v1/webhook-subscriptions", bearer: partner, body: matrixSubscriptionBody(f)})
	return str(expect(h.t, res, http.StatusCreated), "id")
}
