// Package webhook owns the delivery of the results feed to partners' endpoints:
// what a subscription is and which events it receives, which target addresses are
// allowed, the retry schedule of a delivery, and the signed HTTP request that
// carries it (the Standard Webhooks specification, signed with its reference
// library). It knows neither the database nor the API's types: the service stores
// subscriptions and deliveries and renders the bodies.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// EventType is the type of a webhook event.
type EventType string

// The events: a published decision (a correction too), and a revoked certificate
// or attestation.
const (
	ResultPublished    EventType = "result.published"
	CertificateRevoked EventType = "certificate.revoked"
)

// EventOf is the event a results feed entry is delivered as.
func EventOf(t certification.ResultEntryType) EventType {
	if t == certification.EntryCertificateRevoked {
		return CertificateRevoked
	}
	return ResultPublished
}

// Subscription is a partner application's endpoint and the events it receives.
type Subscription struct {
	ID string
	// ClientID is the partner application's id: its owner. PublicClientID is the
	// application's client_id, as its token requests name it.
	ClientID       string
	PublicClientID string
	// TrainingSiteID is the site the application is bound to: the subscription
	// receives that site's candidates' events only. Empty: every event.
	TrainingSiteID string
	URL            string
	Events         []EventType
	// Secret signs the deliveries (whsec_ and the base64 of the key).
	Secret    string
	Active    bool
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Wants says whether the subscription receives the event of an entry: it is
// active, subscribed to that event, and not bound to another site than the
// candidate's.
func (s Subscription) Wants(e certification.ResultEntry) bool {
	return s.Active && slices.Contains(s.Events, EventOf(e.Type)) &&
		(s.TrainingSiteID == "" || s.TrainingSiteID == e.Candidate.TrainingSiteID)
}

// Input is a subscription as created, or as a merge patch leaves it.
type Input struct {
	URL    string
	Events []EventType
	Active bool
}

// Subscribe decides a new subscription of a partner application. urlProblems are
// what Policy.CheckURL found of its URL: the caller looks the URL's host up before
// it takes any lock. site is the site the application is bound to, if any.
func Subscribe(in Input, urlProblems []certification.Violation, clientID, site, id, secret string, now time.Time) (Subscription, error) {
	s := Subscription{ID: id, ClientID: clientID, TrainingSiteID: site, Secret: secret, Version: 1, CreatedAt: now}
	return s.apply(in, urlProblems, now)
}

// Change decides a change of a subscription; urlProblems are what Policy.CheckURL
// found of a new URL (none when the URL stays).
func Change(s Subscription, in Input, urlProblems []certification.Violation, now time.Time) (Subscription, error) {
	if in.URL == s.URL && slices.Equal(in.Events, s.Events) && in.Active == s.Active {
		return s, nil
	}
	s.Version++
	if in.URL == s.URL {
		urlProblems = nil
	}
	return s.apply(in, urlProblems, now)
}

func (s Subscription) apply(in Input, urlProblems []certification.Violation, now time.Time) (Subscription, error) {
	vs := append([]certification.Violation{}, urlProblems...)
	events := []EventType{}
	for _, e := range in.Events {
		switch {
		case e != ResultPublished && e != CertificateRevoked:
			vs = append(vs, certification.Violation{Field: "/events", Message: "no such event: " + string(e)})
		case !slices.Contains(events, e):
			events = append(events, e)
		}
	}
	if len(in.Events) == 0 {
		vs = append(vs, certification.Violation{Field: "/events", Message: "a subscription names at least one event"})
	}
	if err := certification.Check(vs); err != nil {
		return s, err
	}
	s.URL, s.Events, s.Active, s.UpdatedAt = in.URL, events, in.Active, now
	return s, nil
}

// NewSecret is a new signing secret: 32 random bytes, as the Standard Webhooks
// libraries read a secret (whsec_ and base64).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}
