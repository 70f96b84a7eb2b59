package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/webhook"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestAllowedAddresses(t *testing.T) {
	strict, open := webhook.Policy{}, webhook.Policy{AllowPrivate: true}
	cases := []struct {
		addr         string
		strict, open bool
	}{
		{"93.184.215.14", true, true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true, true},
		{"127.0.0.1", false, true},
		{"127.8.9.10", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"10.1.2.3", false, true},
		{"172.16.0.1", false, true},
		{"172.31.255.254", false, true},
		{"172.32.0.1", true, true},
		{"192.168.1.1", false, true},
		{"169.254.169.254", false, true}, // cloud metadata
		{"fe80::1", false, true},
		{"fd00::1", false, true},
		{"fc00::1", false, true},
		{"100.64.0.1", false, true}, // CGNAT
		{"100.127.255.254", false, true},
		{"100.128.0.1", true, true},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"0.1.2.3", false, true},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"255.255.255.255", false, true},
		{"64:ff9b::7f00:1", false, true},   // NAT64 of 127.0.0.1
		{"64:ff9b::5db8:d70e", true, true}, // NAT64 of a public address
		{"2002:a00:1::", false, true},      // 6to4 of 10.0.0.1
		{"::7f00:1", false, true},          // IPv4-compatible 127.0.0.1
		{"192.0.2.10", false, true},        // documentation
	}
	for _, c := range cases {
		t.Run(c.addr, func(t *testing.T) {
			a := netip.MustParseAddr(c.addr)
			if got := strict.Allowed(a) == nil; got != c.strict {
				t.Errorf("by default: allowed %t, want %t", got, c.strict)
			}
			if got := open.Allowed(a) == nil; got != c.open {
				t.Errorf("with private targets allowed: allowed %t, want %t", got, c.open)
			}
		})
	}
}

// resolver answers from a table; a name it does not know does not exist.
type resolver map[string][]string

func (r resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "outage.example" {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	addrs, ok := r[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	r := resolver{"partner.example": {"93.184.215.14"}, "internal.example": {"93.184.215.14", "10.0.0.7"},
		"localhost": {"127.0.0.1", "::1"}}
	strict, open := webhook.Policy{Resolver: r}, webhook.Policy{AllowPrivate: true, Resolver: r}
	cases := []struct {
		url          string
		strict, open bool
	}{
		{"https://partner.example/hooks/certapi", true, true},
		{"https://partner.example:8443/hooks?token=abc", true, true},
		{"http://partner.example/hooks", false, true},
		{"https://93.184.215.14/hooks", true, true},
		{"https://127.0.0.1:9000/hooks", false, true},
		{"http://127.0.0.1:9000/hooks", false, true},
		{"https://[::1]/hooks", false, true},
		{"https://[fe80::1%25eth0]/hooks", false, true},
		{"https://169.254.169.254/latest/meta-data", false, true},
		{"https://localhost/hooks", false, true},
		{"https://internal.example/hooks", false, true},
		{"https://nowhere.example/hooks", false, false},
		{"https://outage.example/hooks", true, true},
		{"https://user:pass@partner.example/hooks", false, false},
		{"https://partner.example/hooks#part", false, false},
		{"https://partner.example:0/hooks", false, false},
		{"https://partner.example:70000/hooks", false, false},
		{"ftp://partner.example/hooks", false, false},
		{"javascript:alert(1)", false, false},
		{"//partner.example/hooks", false, false},
		{"/hooks", false, false},
		{"https:///hooks", false, false},
		{"not a url", false, false},
		{"https://0.0.0.0/hooks", false, false},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			vs := strict.CheckURL(context.Background(), c.url)
			if got := len(vs) == 0; got != c.strict {
				t.Errorf("by default: accepted %t, want %t (%v)", got, c.strict, vs)
			}
			for _, v := range vs {
				if v.Field != "/url" || v.Rule != "" || v.Message == "" {
					t.Errorf("violation %+v", v)
				}
			}
			if got := len(open.CheckURL(context.Background(), c.url)) == 0; got != c.open {
				t.Errorf("with private targets allowed: accepted %t, want %t", got, c.open)
			}
		})
	}
}

func TestSubscribeAndChange(t *testing.T) {
	p := webhook.Policy{Resolver: resolver{"partner.example": {"93.184.215.14"}}}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	in := webhook.Input{URL: "https://partner.example/hooks", Active: true,
		Events: []webhook.EventType{webhook.ResultPublished, webhook.ResultPublished}}
	s, err := webhook.Subscribe(in, p.CheckURL(ctx, in.URL), "client-1", "site-1", "sub-1", "whsec_x", now)
	want := webhook.Subscription{ID: "sub-1", ClientID: "client-1", TrainingSiteID: "site-1", URL: "https://partner.example/hooks",
		Events: []webhook.EventType{webhook.ResultPublished}, Secret: "whsec_x", Active: true, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("subscribe: %+v %v", s, err)
	}
	if _, err := webhook.Subscribe(webhook.Input{URL: "https://10.0.0.1/", Active: true}, p.CheckURL(ctx, "https://10.0.0.1/"),
		"client-1", "", "sub-2", "whsec_x", now); fields(err) != "[/url /events]" {
		t.Fatalf("every problem at once: %v", err)
	}
	cases := []struct {
		name    string
		in      webhook.Input
		version int
		err     string
	}{
		{"nothing changes", webhook.Input{URL: s.URL, Events: s.Events, Active: true}, 1, ""},
		{"paused", webhook.Input{URL: s.URL, Events: s.Events, Active: false}, 2, ""},
		{"another event", webhook.Input{URL: s.URL, Events: []webhook.EventType{webhook.CertificateRevoked}, Active: true}, 2, ""},
		{"a private URL", webhook.Input{URL: "https://10.0.0.1/", Events: s.Events, Active: true}, 1, "[/url]"},
		{"no event", webhook.Input{URL: s.URL, Active: true}, 1, "[/events]"},
		{"an unknown event", webhook.Input{URL: "http://partner.example/", Events: []webhook.EventType{"result.deleted"}, Active: true}, 1, "[/url /events]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			later := now.Add(time.Hour)
			var problems []certification.Violation
			if c.in.URL != s.URL {
				problems = p.CheckURL(ctx, c.in.URL)
			}
			got, err := webhook.Change(s, c.in, problems, later)
			if fields(err) != c.err {
				t.Fatalf("error %v, want %s", err, c.err)
			}
			if err == nil && (got.Version != c.version || got.Active != c.in.Active || !reflect.DeepEqual(got.Events, c.in.Events) ||
				got.Secret != s.Secret || got.ClientID != s.ClientID || !got.CreatedAt.Equal(now)) {
				t.Fatalf("changed to %+v", got)
			}
		})
	}
}

func fields(err error) string {
	var ve *certification.ViolationError
	if !errors.As(err, &ve) {
		if err != nil {
			return err.Error()
		}
		return ""
	}
	var out []string
	for _, v := range ve.Violations {
		out = append(out, v.Field)
	}
	return fmt.Sprint(out)
}

// A site-bound application's subscription receives its site's events only.
func TestWants(t *testing.T) {
	entry := func(typ certification.ResultEntryType, site string) certification.ResultEntry {
		return certification.ResultEntry{Type: typ, Candidate: certification.ResultCandidate{TrainingSiteID: site}}
	}
	both := []webhook.EventType{webhook.ResultPublished, webhook.CertificateRevoked}
	cases := []struct {
		name  string
		s     webhook.Subscription
		e     certification.ResultEntry
		wants bool
	}{
		{"an unbound application, any site", webhook.Subscription{Active: true, Events: both}, entry(certification.EntryResultPublished, "a"), true},
		{"a candidate without a site", webhook.Subscription{Active: true, Events: both}, entry(certification.EntryResultPublished, ""), true},
		{"its own site", webhook.Subscription{Active: true, Events: both, TrainingSiteID: "a"}, entry(certification.EntryCertificateRevoked, "a"), true},
		{"another site", webhook.Subscription{Active: true, Events: both, TrainingSiteID: "a"}, entry(certification.EntryResultPublished, "b"), false},
		{"no site, bound application", webhook.Subscription{Active: true, Events: both, TrainingSiteID: "a"}, entry(certification.EntryResultPublished, ""), false},
		{"not subscribed to revocations", webhook.Subscription{Active: true, Events: []webhook.EventType{webhook.ResultPublished}},
			entry(certification.EntryCertificateRevoked, "a"), false},
		{"paused", webhook.Subscription{Active: false, Events: both}, entry(certification.EntryResultPublished, "a"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s.Wants(c.e); got != c.wants {
				t.Fatalf("wants %t", got)
			}
		})
	}
}

// The retries of a failing delivery span about three days, then it fails; a 2xx at
// any attempt delivers it.
func TestRetrySchedule(t *testing.T) {
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	d := webhook.NewDelivery("d1", webhook.Subscription{ID: "s1"}, certification.ResultEntry{Sequence: 7, Type: certification.EntryCertificateRevoked}, start)
	if d.Status != webhook.Pending || !d.NextAttemptAt.Equal(start) || d.Event != webhook.CertificateRevoked || d.Sequence != 7 {
		t.Fatalf("new delivery %+v", d)
	}
	at := start
	var waits []time.Duration
	for d.Status == webhook.Pending {
		d = d.After(webhook.Attempt{At: at, StatusCode: 503, Error: "unavailable"})
		if d.NextAttemptAt != nil {
			waits = append(waits, d.NextAttemptAt.Sub(at))
			at = *d.NextAttemptAt
		}
	}
	if d.Status != webhook.Failed || len(d.Attempts) != webhook.MaxAttempts || d.NextAttemptAt != nil || d.DeliveredAt != nil {
		t.Fatalf("after every attempt: %+v", d)
	}
	span := at.Sub(start)
	if span < 72*time.Hour || span > 84*time.Hour || !reflect.DeepEqual(waits, webhook.Backoff) {
		t.Fatalf("retries span %s: %v", span, waits)
	}

	d = webhook.NewDelivery("d2", webhook.Subscription{ID: "s1"}, certification.ResultEntry{Sequence: 8}, start)
	d = d.After(webhook.Attempt{At: start, Error: "connection refused"})
	d = d.After(webhook.Attempt{At: start.Add(5 * time.Second), StatusCode: 204})
	if d.Status != webhook.Delivered || d.NextAttemptAt != nil || !d.DeliveredAt.Equal(start.Add(5*time.Second)) || len(d.Attempts) != 2 {
		t.Fatalf("delivered at the second attempt: %+v", d)
	}
	for code, ok := range map[int]bool{200: true, 201: true, 299: true, 0: false, 199: false, 300: false, 302: false, 404: false, 500: false} {
		if (webhook.Attempt{StatusCode: code}).Succeeded() != ok {
			t.Errorf("%d succeeded: %t", code, !ok)
		}
	}
}

// A delivery is signed as the Standard Webhooks library verifies it, carries the
// same id on every attempt, follows no redirect, and never connects to an address
// the policy refuses, whatever name led there.
func TestSender(t *testing.T) {
	secret := webhook.NewSecret()
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 || secret == webhook.NewSecret() {
		t.Fatalf("secret %q", secret)
	}
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Value
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.VerifyIgnoringTimestamp(body, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got.Store(r.Header.Clone())
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	msg := webhook.Message{ID: "0190a1b2-0000-7000-8000-0000000000d7", URL: receiver.URL + "/hooks", Secret: secret,
		Body: []byte(`{"type":"result.published"}`), At: at}

	open := webhook.NewSender(webhook.Policy{AllowPrivate: true}, time.Second)
	if a := open.Send(context.Background(), msg); !a.Succeeded() || a.StatusCode != 204 || a.Error != "" || !a.At.Equal(at) {
		t.Fatalf("attempt %+v", a)
	}
	h := got.Load().(http.Header)
	if h.Get("webhook-id") != msg.ID || h.Get("webhook-timestamp") != fmt.Sprint(at.Unix()) ||
		!strings.HasPrefix(h.Get("webhook-signature"), "v1,") || h.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", h)
	}
	other := msg
	other.Secret = webhook.NewSecret()
	if a := open.Send(context.Background(), other); a.StatusCode != http.StatusUnauthorized || a.Succeeded() {
		t.Fatalf("signed with another secret: %+v", a)
	}
	moved := msg
	moved.URL = receiver.URL + "/moved"
	if a := open.Send(context.Background(), moved); a.StatusCode != http.StatusFound || a.Succeeded() || !strings.Contains(a.Error, "redirect") {
		t.Fatalf("a redirect: %+v", a)
	}

	tlsReceiver := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("a delivery reached a loopback address")
	}))
	defer tlsReceiver.Close()
	strict := webhook.NewSender(webhook.Policy{}, time.Second)
	port := tlsReceiver.URL[strings.LastIndex(tlsReceiver.URL, ":"):]
	for _, u := range []string{tlsReceiver.URL, "https://localhost" + port} {
		m := msg
		m.URL = u
		if a := strict.Send(context.Background(), m); a.StatusCode != 0 || !strings.Contains(a.Error, "may not go to") {
			t.Errorf("%s: %+v", u, a)
		}
	}
	m := msg
	m.URL = receiver.URL
	if a := strict.Send(context.Background(), m); a.StatusCode != 0 || !strings.Contains(a.Error, "https") {
		t.Errorf("http by default: %+v", a)
	}

	done := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-done }))
	defer silent.Close()
	defer close(done)
	m.URL = silent.URL
	if a := webhook.NewSender(webhook.Policy{AllowPrivate: true}, 200*time.Millisecond).Send(context.Background(), m); a.StatusCode != 0 ||
		a.Error != "no answer within the time allowed" {
		t.Errorf("a receiver that does not answer: %+v", a)
	}
}
