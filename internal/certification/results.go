package certification

import "time"

// ResultEntryType is what an entry of the results feed records.
type ResultEntryType string

// A published decision (a correction too) is one kind of entry; the revocation of
// the certificate or attestation a published decision issued is the other.
const (
	EntryResultPublished    ResultEntryType = "result_published"
	EntryCertificateRevoked ResultEntryType = "certificate_revoked"
)

// ResultEntry is one entry of the results feed: what those outside the certifier
// (partners) may learn of a published decision, as it stood when the entry was
// recorded. Entries are never changed: a correction or a revocation is a later
// entry, so that replaying the feed in order ends with the truth.
type ResultEntry struct {
	// Sequence is the entry's place in the feed, from 1, without gaps: the order
	// in which the entries were committed.
	Sequence          int64
	Type              ResultEntryType
	RecordedAt        time.Time
	CertificationCode string
	DecisionID        string
	JurySessionID     string
	// HeldOn is the day of the deliberation.
	HeldOn     time.Time
	Outcome    Outcome
	Components []DecidedComponent
	// CorrectsID is the decision a correction replaces, which no longer holds.
	CorrectsID string
	Candidate  ResultCandidate
	// CertificateNumber and CertificateStatus are those of the certificate or
	// attestation the decision issued; empty for a refusal.
	CertificateNumber string
	CertificateStatus CertificateStatus
}

// ResultCandidate is who an entry is about, and nothing more a partner needs: no
// birth date or place, address, email or phone.
type ResultCandidate struct {
	ID        string
	FirstName string
	BirthName string
	UsageName string
	// TrainingSiteID is the site the candidate was attached to when the entry was
	// recorded: the site whose partners see the entry.
	TrainingSiteID string
	Route          RouteID
}

// PublishedEntry is the entry of a decision's publication, at its session's close
// or, for a correction, at once (PUBLICATION: nothing of a draft leaves the
// certifier). cert is the document the decision issued, nil for a refusal.
func PublishedEntry(d Decision, s JurySession, c Candidate, cert *Certificate, now time.Time) (ResultEntry, bool) {
	if !d.Published() || d.JurySessionID != s.ID || d.CandidateID != c.ID {
		return ResultEntry{}, false
	}
	e := entryOf(d, s, c, now)
	e.Type = EntryResultPublished
	if cert != nil {
		e.CertificateNumber, e.CertificateStatus = cert.Number, cert.Status
	}
	return e, true
}

// RevokedEntry is the entry of the revocation of the certificate or attestation a
// published decision issued.
func RevokedEntry(cert Certificate, d Decision, s JurySession, c Candidate, now time.Time) (ResultEntry, bool) {
	if cert.Status != CertificateRevoked || cert.DecisionID != d.ID || !d.Published() || d.JurySessionID != s.ID || d.CandidateID != c.ID {
		return ResultEntry{}, false
	}
	e := entryOf(d, s, c, now)
	e.Type = EntryCertificateRevoked
	e.CertificateNumber, e.CertificateStatus = cert.Number, cert.Status
	return e, true
}

func entryOf(d Decision, s JurySession, c Candidate, now time.Time) ResultEntry {
	return ResultEntry{RecordedAt: now, CertificationCode: s.CertificationCode, DecisionID: d.ID, JurySessionID: s.ID,
		HeldOn: s.HeldOn, Outcome: d.Outcome, Components: d.Components, CorrectsID: d.CorrectsID,
		Candidate: ResultCandidate{ID: c.ID, FirstName: c.FirstName, BirthName: c.BirthName, UsageName: c.UsageName,
			TrainingSiteID: c.TrainingSiteID, Route: c.Route}}
}

// Statistic counts, for one year, certification, route and training site, the
// registrations of the year, the published decisions of the year's sessions that
// still hold (a corrected decision counts as its correction), and the withdrawals
// of the year.
type Statistic struct {
	Year              int
	CertificationCode string
	Route             RouteID
	// TrainingSiteID is empty for candidates without a site.
	TrainingSiteID     string
	Candidates         int64
	Awards             int64
	PartialValidations int64
	Refusals           int64
	Withdrawals        int64
}

// SuccessRate is the share of awards among the published decisions; nil without any.
func (s Statistic) SuccessRate() *float64 {
	decided := s.Awards + s.PartialValidations + s.Refusals
	if decided == 0 {
		return nil
	}
	r := float64(s.Awards) / float64(decided)
	return &r
}
