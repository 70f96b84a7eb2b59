package certification

import (
	"strings"
	"time"
)

// CertificateKind is what a certificate attests.
type CertificateKind string

// An award issues the certificate (parchemin); a partial validation an attestation
// of the components acquired and their expiry.
const (
	KindCertificate CertificateKind = "certificate"
	KindAttestation CertificateKind = "attestation"
)

// CertificateStatus is whether a certificate still stands.
type CertificateStatus string

// The statuses of a certificate.
const (
	CertificateValid   CertificateStatus = "valid"
	CertificateRevoked CertificateStatus = "revoked"
)

// Certificate is a document a published decision issues; anyone holding its number
// can verify it.
type Certificate struct {
	Number            string
	Kind              CertificateKind
	DecisionID        string
	CandidateID       string
	CertificationCode string
	HolderName        string
	AwardedOn         time.Time
	// Components are the components an attestation lists, with their expiry.
	Components       []DecidedComponent
	IssuedAt         time.Time
	Status           CertificateStatus
	RevokedAt        *time.Time
	RevocationReason string
	Version          int
}

// IssueCertificate decides the document a published decision issues: a certificate
// for an award, an attestation for a partial validation, none for a refusal.
func IssueCertificate(d Decision, s JurySession, c Candidate, number string, now time.Time) (Certificate, bool) {
	kind := map[Outcome]CertificateKind{OutcomeAward: KindCertificate, OutcomePartial: KindAttestation}[d.Outcome]
	if kind == "" || !d.Published() {
		return Certificate{}, false
	}
	cert := Certificate{Number: number, Kind: kind, DecisionID: d.ID, CandidateID: c.ID, CertificationCode: c.CertificationCode,
		HolderName: HolderName(c), AwardedOn: s.HeldOn, IssuedAt: now, Status: CertificateValid, Version: 1}
	if kind == KindAttestation {
		cert.Components = d.Components
	}
	return cert, true
}

// RevokeCertificate decides revoking a certificate, with a reason; verification then
// says revoked.
func RevokeCertificate(c Certificate, reason string, now time.Time) (Certificate, error) {
	reason = strings.TrimSpace(reason)
	if c.Status == CertificateRevoked {
		return c, &ConflictError{Code: "certificate_revoked", Message: "the certificate was revoked on " + c.RevokedAt.Format(time.DateOnly)}
	}
	if reason == "" {
		return c, Check([]Violation{{Field: "/reason", Message: "a revocation gives its reason"}})
	}
	c.Status, c.RevokedAt, c.RevocationReason = CertificateRevoked, &now, reason
	c.Version++
	return c, nil
}

// HolderName is the name a certificate bears: first name and birth name, with the
// usage name first when there is one ("Camille Durand, née Martin").
func HolderName(c Candidate) string {
	if c.UsageName != "" && !strings.EqualFold(c.UsageName, c.BirthName) {
		born := "né"
		if c.Sex == "F" {
			born = "née"
		}
		return c.FirstName + " " + c.UsageName + ", " + born + " " + c.BirthName
	}
	return c.FirstName + " " + c.BirthName
}

// Minutes are the procès-verbal of a closed session (MINUTES).
type Minutes struct {
	Session       JurySession
	Certification Certification
	Site          TrainingSite
	// Members are the members present, each with their signature.
	Members []SeatedMember
	// Entries are the session's decisions, in the order they were made, corrections
	// included.
	Entries []MinutesEntry
}

// SeatedMember is a member present at a session, and their signature.
type SeatedMember struct {
	JuryMember
	SignedAt time.Time
}

// MinutesEntry is one decision of the minutes and the candidate it concerns.
type MinutesEntry struct {
	Decision
	CandidateName string
}

// MinutesOf puts together the minutes of a session, which exist once it is closed.
func MinutesOf(s JurySession, c Certification, site TrainingSite, members []JuryMember, decisions []Decision, candidates map[string]Candidate) (Minutes, error) {
	if s.Status != SessionClosed {
		return Minutes{}, &ConflictError{Code: "session_not_closed", Message: "the minutes exist once the session is closed; it is " + string(s.Status)}
	}
	m := Minutes{Session: s, Certification: c, Site: site}
	signed := map[string]time.Time{}
	for _, sig := range s.Signatures {
		signed[sig.MemberID] = sig.SignedAt
	}
	for _, mem := range members {
		m.Members = append(m.Members, SeatedMember{JuryMember: mem, SignedAt: signed[mem.ID]})
	}
	for _, d := range decisions {
		m.Entries = append(m.Entries, MinutesEntry{Decision: d, CandidateName: HolderName(candidates[d.CandidateID])})
	}
	return m, nil
}
