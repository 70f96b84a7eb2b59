package service

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// DecisionFilter selects decisions.
type DecisionFilter struct {
	Page
	SessionID   string
	CandidateID string
	// PublishedOnly keeps what the outside may see (PUBLICATION); DraftsOnly what it
	// may not yet.
	PublishedOnly bool
	DraftsOnly    bool
}

// RecordDecision records a jury's decision on a candidate, or a correction of a
// closed session's decision; the rules are certification.Decide's.
func (s *Service) RecordDecision(ctx context.Context, sessionID string, req certification.DecisionRequest) (certification.Decision, error) {
	p, _ := auth.PrincipalFrom(ctx)
	var d certification.Decision
	err := s.store.Write(ctx, func(tx Tx) error {
		session, err := s.visibleSession(ctx, tx.LockJurySession, sessionID)
		if err != nil {
			return err
		}
		f, err := s.loadDecisionFacts(tx, session, req.CandidateID, req.CorrectsID, tx.LockCandidate)
		if errors.Is(err, certification.ErrNotFound) {
			return certification.Check([]certification.Violation{{Field: "/candidate_id", Message: "no such candidate"}})
		} else if err != nil {
			return err
		}
		var after certification.JurySession
		if d, after, err = certification.Decide(f, req, newID()); err != nil {
			return err
		}
		d.DecidedBy = p.Subject
		if err := tx.InsertDecision(d); err != nil {
			return duplicateDecision(tx, err, session.ID, f.Candidate.ID)
		}
		if after.Version != session.Version {
			if err := tx.UpdateJurySession(after); err != nil {
				return err
			}
		}
		if d.CorrectsID != "" {
			corrected := *f.Corrected
			corrected.SupersededBy = d.ID
			if err := tx.UpdateDecision(corrected); err != nil {
				return err
			}
			var entries []certification.ResultEntry
			if d, entries, err = s.publish(ctx, tx, after, d, &corrected, f.Candidate); err != nil {
				return err
			}
			if err := s.recordResults(tx, entries...); err != nil {
				return err
			}
		}
		idempotency.Result(ctx, d)
		return s.audit(ctx, tx, "decide", "decision", d.ID, decisionChanges(d))
	})
	return d, err
}

// duplicateDecision turns the unique index on (session, candidate, revision) into
// the conflict a concurrent decision on the same candidate is.
func duplicateDecision(tx Tx, err error, sessionID, candidateID string) error {
	var ce *certification.ConflictError
	if !errors.As(err, &ce) {
		return err
	}
	out := &certification.ConflictError{Code: "decision_exists", Message: "the session has decided on this candidate already"}
	if current, e := tx.CurrentDecision(sessionID, candidateID); e == nil {
		out.ExistingID = current.ID
	}
	return out
}

// loadDecisionFacts loads what a decision on a candidate in a session is decided on;
// load reads the candidate (locked, for a write). For a correction, the validations
// the corrected decision made are undone in the facts: it is decided again.
func (s *Service) loadDecisionFacts(tx Tx, session certification.JurySession, candidateID, correctsID string,
	load func(string) (certification.Candidate, error)) (certification.DecisionFacts, error) {
	f := certification.DecisionFacts{Session: session, Now: s.Now()}
	var err error
	if f.Candidate, err = load(candidateID); err != nil {
		return f, err
	}
	if f.Certification, err = tx.Certification(session.CertificationCode); err != nil {
		return f, err
	}
	if f.Candidate.CertificationCode != session.CertificationCode {
		return f, certification.NotFoundf("candidate %s of %s", candidateID, session.CertificationCode)
	}
	members, err := tx.JuryMembersByID(session.MemberIDs)
	if err != nil {
		return f, err
	}
	for _, id := range session.MemberIDs {
		f.Members = append(f.Members, members[id])
	}
	if f.Sittings, err = tx.PersonSittings(PersonKey(f.Candidate)); err != nil {
		return f, err
	}
	ids, err := tx.PersonRegistrations(PersonKey(f.Candidate))
	if err != nil {
		return f, err
	}
	for _, id := range ids {
		if id != candidateID {
			f.PersonIDs = append(f.PersonIDs, id)
		}
	}
	for _, d := range []struct {
		dst  **certification.Decision
		load func() (certification.Decision, error)
	}{
		{&f.Current, func() (certification.Decision, error) { return tx.CurrentDecision(session.ID, candidateID) }},
		{&f.Pending, func() (certification.Decision, error) { return tx.PendingDecision(candidateID, session.ID) }},
		{&f.Certified, func() (certification.Decision, error) { return tx.LatestAward(candidateID) }},
		{&f.LatestPublished, func() (certification.Decision, error) { return tx.LatestPublished(candidateID) }},
		{&f.Corrected, func() (certification.Decision, error) {
			if correctsID == "" {
				return certification.Decision{}, certification.ErrNotFound
			}
			return tx.Decision(correctsID)
		}},
	} {
		v, err := d.load()
		switch {
		case err == nil:
			*d.dst = &v
		case !errors.Is(err, certification.ErrNotFound):
			return f, err
		}
	}
	if f.Certified != nil && f.Certified.JurySessionID == session.ID {
		f.Certified = nil
	}
	if f.Corrected != nil && f.Current != nil && f.Corrected.ID == f.Current.ID {
		for i := range f.Sittings {
			if f.Sittings[i].ValidatedBy == correctsID {
				f.Sittings[i].ValidatedOn, f.Sittings[i].ValidatedBy = nil, ""
			}
		}
	}
	return f, nil
}

// publish makes a published decision take effect: the results it validates count
// as acquired from the session's day (and those a corrected decision validated and
// this one does not, no longer), the certificate or attestation it issues (the
// corrected decision's is revoked), and the candidate's status. It returns the
// results feed's entries of what it did, for the caller to record once its
// transaction has made every change (recordResults).
func (s *Service) publish(ctx context.Context, tx Tx, session certification.JurySession, d certification.Decision,
	corrected *certification.Decision, cand certification.Candidate) (certification.Decision, []certification.ResultEntry, error) {
	now := s.Now()
	var entries []certification.ResultEntry
	if corrected != nil {
		for _, c := range corrected.ValidatedNow() {
			if err := setValidation(tx, c.EvaluationID, nil, "", now); err != nil {
				return d, nil, err
			}
		}
		old, err := tx.CertificateOfDecision(corrected.ID)
		if err == nil && old.Status == certification.CertificateValid {
			if old, err = certification.RevokeCertificate(old, "corrected by decision "+d.ID, now); err != nil {
				return d, nil, err
			}
			if err := tx.UpdateCertificate(old); err != nil {
				return d, nil, err
			}
			if e, ok := certification.RevokedEntry(old, *corrected, session, cand, now); ok {
				entries = append(entries, e)
			}
		} else if err != nil && !errors.Is(err, certification.ErrNotFound) {
			return d, nil, err
		}
		if cand.CertificateNumber != "" && cand.CertificateNumber == old.Number {
			cand.CertificateNumber = ""
			cand.Version++
			cand.UpdatedAt = now
			if err := tx.UpdateCandidate(cand, CandidateKeysOf(cand)); err != nil {
				return d, nil, err
			}
		}
	}
	for _, c := range d.ValidatedNow() {
		on := session.HeldOn
		if err := setValidation(tx, c.EvaluationID, &on, d.ID, now); err != nil {
			return d, nil, err
		}
	}
	var issued *certification.Certificate
	if cert, ok := certification.IssueCertificate(d, session, cand, NewCertificateNumber(), now); ok {
		if err := tx.InsertCertificate(cert); err != nil {
			return d, nil, err
		}
		issued = &cert
		d.CertificateNumber = cert.Number
		if cert.Kind == certification.KindCertificate {
			cand.CertificateNumber = cert.Number
			cand.Version++
			cand.UpdatedAt = now
			if err := tx.UpdateCandidate(cand, CandidateKeysOf(cand)); err != nil {
				return d, nil, err
			}
		}
		if err := s.audit(ctx, tx, "issue", "certificate", cert.Number, map[string]any{"kind": cert.Kind, "decision_id": d.ID}); err != nil {
			return d, nil, err
		}
	}
	if e, ok := certification.PublishedEntry(d, session, cand, issued, now); ok {
		entries = append(entries, e)
	}
	return d, entries, s.refreshStatus(tx, cand)
}

// setValidation records (on set) or undoes (on nil) a decision's validation of a
// result; a result another decision validated is never validated again.
func setValidation(tx Tx, evaluationID string, on *time.Time, by string, now time.Time) error {
	e, err := tx.LockEvaluation(evaluationID)
	if err != nil {
		return err
	}
	if on != nil && e.ValidatedOn != nil && e.ValidatedBy != by {
		return &certification.ConflictError{Code: "result_validated",
			Message: "decision " + e.ValidatedBy + " validated this result already"}
	}
	e.ValidatedOn, e.ValidatedBy = on, by
	e.Version++
	e.UpdatedAt = now
	return tx.UpdateEvaluation(e)
}

// certificateAlphabet is Crockford's base 32: no I, L, O or U to misread.
var certificateAlphabet = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// NewCertificateNumber is 120 random bits in six groups of four characters: printed
// on a certificate, and unguessable, since the number alone opens its verification.
func NewCertificateNumber() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	s := certificateAlphabet.EncodeToString(b)
	groups := make([]string, 0, 6)
	for i := 0; i < len(s); i += 4 {
		groups = append(groups, s[i:i+4])
	}
	return strings.Join(groups, "-")
}

// DeleteDecision takes back a draft decision before its session closes.
func (s *Service) DeleteDecision(ctx context.Context, sessionID, decisionID string) error {
	return s.store.Write(ctx, func(tx Tx) error {
		session, err := s.visibleSession(ctx, tx.LockJurySession, sessionID)
		if err != nil {
			return err
		}
		d, err := tx.Decision(decisionID)
		if err == nil && d.JurySessionID != sessionID {
			err = certification.NotFoundf("decision %s", decisionID)
		}
		if err != nil {
			return err
		}
		others, err := tx.Decisions(DecisionFilter{SessionID: sessionID, Page: Page{Limit: 2}})
		if err != nil {
			return err
		}
		after, err := certification.DeleteDraftDecision(session, d, len(others)-1, s.Now())
		if err != nil {
			return err
		}
		if err := tx.DeleteDecision(d.ID); err != nil {
			return err
		}
		if after.Version != session.Version {
			if err := tx.UpdateJurySession(after); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "delete", "decision", d.ID, decisionChanges(d))
	})
}

// CloseDeliberation closes a session with its members' signatures and publishes its
// decisions; the rules are certification.CloseDeliberation's.
func (s *Service) CloseDeliberation(ctx context.Context, sessionID string, signatures []certification.Signature) (certification.JurySession, error) {
	var out certification.JurySession
	err := s.store.Write(ctx, func(tx Tx) error {
		session, err := s.visibleSession(ctx, tx.LockJurySession, sessionID)
		if err != nil {
			return err
		}
		f := certification.CloseFacts{Session: session, Now: s.Now()}
		if f.Certification, err = tx.Certification(session.CertificationCode); err != nil {
			return err
		}
		members, err := tx.JuryMembersByID(session.MemberIDs)
		if err != nil {
			return err
		}
		for _, id := range session.MemberIDs {
			f.Members = append(f.Members, members[id])
		}
		if f.Drafts, err = tx.Decisions(DecisionFilter{SessionID: session.ID, DraftsOnly: true, Page: Page{Limit: Unlimited}}); err != nil {
			return err
		}
		// Candidates are locked in one order, so that two closes never wait for each
		// other; each draft is checked again on today's facts.
		slices.SortFunc(f.Drafts, func(a, b certification.Decision) int { return strings.Compare(a.CandidateID, b.CandidateID) })
		candidates := map[string]certification.Candidate{}
		var stale []certification.Violation
		for _, d := range f.Drafts {
			df, err := s.loadDecisionFacts(tx, session, d.CandidateID, "", tx.LockCandidate)
			if err != nil {
				return err
			}
			candidates[d.CandidateID] = df.Candidate
			stale = append(stale, certification.ConfirmDecision(df, d, certification.HolderName(df.Candidate))...)
		}
		closed, published, err := certification.CloseDeliberation(f, signatures)
		if err != nil {
			return err
		}
		if err := certification.Check(stale); err != nil {
			return err
		}
		if err := tx.UpdateJurySession(closed); err != nil {
			return err
		}
		var entries []certification.ResultEntry
		for _, d := range published {
			if err := tx.UpdateDecision(d); err != nil {
				return err
			}
			_, es, err := s.publish(ctx, tx, closed, d, nil, candidates[d.CandidateID])
			if err != nil {
				return err
			}
			entries = append(entries, es...)
		}
		if err := s.recordResults(tx, entries...); err != nil {
			return err
		}
		out = closed
		sigs := make([]map[string]any, len(closed.Signatures))
		for i, sig := range closed.Signatures {
			sigs[i] = map[string]any{"member_id": sig.MemberID, "signed_at": sig.SignedAt}
		}
		return s.audit(ctx, tx, "close", "jury_session", closed.ID, map[string]any{"signatures": sigs, "published_decisions": len(published)})
	})
	return out, err
}

// SessionDecisions lists a session's decisions, corrections included, in the order
// they were made.
func (s *Service) SessionDecisions(ctx context.Context, sessionID string, page Page) ([]certification.Decision, error) {
	var out []certification.Decision
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.visibleSession(ctx, tx.JurySession, sessionID); err != nil {
			return err
		}
		var err error
		out, err = tx.Decisions(DecisionFilter{SessionID: sessionID, Page: page})
		return err
	})
	return out, err
}

// GetDecision returns one decision of a session the caller may see.
func (s *Service) GetDecision(ctx context.Context, sessionID, decisionID string) (certification.Decision, error) {
	var d certification.Decision
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.visibleSession(ctx, tx.JurySession, sessionID); err != nil {
			return err
		}
		var err error
		d, err = tx.Decision(decisionID)
		if err == nil && d.JurySessionID != sessionID {
			err = certification.NotFoundf("decision %s", decisionID)
		}
		return err
	})
	return d, err
}

// CandidateDecisions lists the decisions on a candidate: those outside the certifier
// (the candidate, their site's staff) see published ones only (PUBLICATION).
func (s *Service) CandidateDecisions(ctx context.Context, candidateID string, page Page) ([]certification.Decision, error) {
	p, _ := auth.PrincipalFrom(ctx)
	var out []certification.Decision
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.visibleCandidate(ctx, tx, candidateID); err != nil {
			return err
		}
		f := DecisionFilter{CandidateID: candidateID, Page: page}
		f.PublishedOnly = p.Role != auth.RoleAdmin && p.Role != auth.RoleDirector
		var err error
		out, err = tx.Decisions(f)
		return err
	})
	return out, err
}

// Minutes returns the minutes of a closed session.
func (s *Service) Minutes(ctx context.Context, sessionID string) (certification.Minutes, error) {
	var m certification.Minutes
	err := s.store.Snapshot(ctx, func(tx Tx) error {
		session, err := s.visibleSession(ctx, tx.JurySession, sessionID)
		if err != nil {
			return err
		}
		ref, err := tx.Certification(session.CertificationCode)
		if err != nil {
			return err
		}
		site, err := tx.TrainingSite(session.TrainingSiteID)
		if err != nil {
			return err
		}
		byID, err := tx.JuryMembersByID(session.MemberIDs)
		if err != nil {
			return err
		}
		members := make([]certification.JuryMember, len(session.MemberIDs))
		for i, id := range session.MemberIDs {
			members[i] = byID[id]
		}
		decisions, err := tx.Decisions(DecisionFilter{SessionID: session.ID, PublishedOnly: true, Page: Page{Limit: Unlimited}})
		if err != nil {
			return err
		}
		candidates := map[string]certification.Candidate{}
		for _, d := range decisions {
			if _, ok := candidates[d.CandidateID]; !ok {
				if candidates[d.CandidateID], err = tx.Candidate(d.CandidateID); err != nil {
					return err
				}
			}
		}
		m, err = certification.MinutesOf(session, ref, site, members, decisions, candidates)
		return err
	})
	return m, err
}

// VerifiedCertificate is what public verification shows of a certificate.
type VerifiedCertificate struct {
	certification.Certificate
	Certification certification.Certification
}

// VerifyCertificate returns a certificate by its number, for anyone who holds it.
func (s *Service) VerifyCertificate(ctx context.Context, number string) (VerifiedCertificate, error) {
	var out VerifiedCertificate
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		if out.Certificate, err = tx.Certificate(number); err != nil {
			return err
		}
		out.Certification, err = tx.Certification(out.CertificationCode)
		return err
	})
	return out, err
}

// RevokeCertificate revokes a certificate, with a reason; the results feed records
// it.
func (s *Service) RevokeCertificate(ctx context.Context, number, reason string) (certification.Certificate, error) {
	var c certification.Certificate
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if c, err = tx.LockCertificate(number); err != nil {
			return err
		}
		if c, err = certification.RevokeCertificate(c, reason, s.Now()); err != nil {
			return err
		}
		if err := tx.UpdateCertificate(c); err != nil {
			return err
		}
		d, err := tx.Decision(c.DecisionID)
		if err != nil {
			return err
		}
		session, err := tx.JurySession(d.JurySessionID)
		if err != nil {
			return err
		}
		cand, err := tx.Candidate(d.CandidateID)
		if err != nil {
			return err
		}
		if e, ok := certification.RevokedEntry(c, d, session, cand, s.Now()); ok {
			if err := s.recordResults(tx, e); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "revoke", "certificate", c.Number, map[string]any{"reason": c.RevocationReason})
	})
	return c, err
}

// CandidateCertificates lists the certificates and attestations issued to a candidate.
func (s *Service) CandidateCertificates(ctx context.Context, candidateID string, page Page) ([]certification.Certificate, error) {
	var out []certification.Certificate
	err := s.store.Read(ctx, func(tx Tx) error {
		if _, err := s.visibleCandidate(ctx, tx, candidateID); err != nil {
			return err
		}
		var err error
		out, err = tx.CertificatesOfCandidate(candidateID, page)
		return err
	})
	return out, err
}

func decisionChanges(d certification.Decision) map[string]any {
	comps := make([]map[string]any, len(d.Components))
	for i, c := range d.Components {
		comps[i] = map[string]any{"component": c.Component, "evaluation_id": c.EvaluationID, "acquired_on": c.AcquiredOn.Format(time.DateOnly),
			"validated_now": c.ValidatedNow}
	}
	return map[string]any{"jury_session_id": d.JurySessionID, "candidate_id": d.CandidateID, "outcome": d.Outcome,
		"components": comps, "reason": d.Reason, "corrects": d.CorrectsID, "revision": d.Revision}
}
