package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// ListCertifications returns the certifications this certifier delivers.
func (s *Service) ListCertifications(ctx context.Context, page Page) ([]certification.Certification, error) {
	return read(ctx, s, func(tx Tx) ([]certification.Certification, error) { return tx.Certifications(page) })
}

// GetCertification returns the whole referential of one certification.
func (s *Service) GetCertification(ctx context.Context, code string) (certification.Certification, error) {
	return read(ctx, s, func(tx Tx) (certification.Certification, error) { return tx.Certification(code) })
}

// Rules pages the rules catalogue of a certification, in the catalogue's order,
// keyed by rule id: the catalogue is fixed in the binary, so a rule's place in it
// does not move between pages. A cursor naming no rule is ErrUnknownCursor.
func (s *Service) Rules(ctx context.Context, code string, page Page) ([]certification.Rule, error) {
	if _, err := s.GetCertification(ctx, code); err != nil {
		return nil, err
	}
	rules := certification.Rules
	if page.After != "" {
		i := slices.IndexFunc(rules, func(r certification.Rule) bool { return r.ID == page.After })
		if i < 0 {
			return nil, fmt.Errorf("rule %s: %w", page.After, ErrUnknownCursor)
		}
		rules = rules[i+1:]
	}
	return rules[:min(len(rules), page.Limit+1)], nil
}

// RegistrationPeriodInput is a renewal of a certification's registration in the RNCP.
type RegistrationPeriodInput struct {
	LegalAct       string
	EffectiveFrom  time.Time
	EffectiveUntil time.Time
}

// RegistrationPeriodChange is a correction of a recorded period: the fields it sets.
type RegistrationPeriodChange struct {
	LegalAct       *string
	EffectiveFrom  *time.Time
	EffectiveUntil *time.Time
}

// ListRegistrationPeriods pages a certification's registration periods, in the
// order they were recorded.
func (s *Service) ListRegistrationPeriods(ctx context.Context, code string, page Page) ([]certification.RegistrationPeriod, error) {
	return read(ctx, s, func(tx Tx) ([]certification.RegistrationPeriod, error) { return tx.RegistrationPeriods(code, page) })
}

// GetRegistrationPeriod returns one registration period of a certification.
func (s *Service) GetRegistrationPeriod(ctx context.Context, code, id string) (certification.RegistrationPeriod, error) {
	return read(ctx, s, func(tx Tx) (certification.RegistrationPeriod, error) { return tx.RegistrationPeriod(code, id) })
}

// RecordRegistrationPeriod records a renewal: a new period with its legal act.
func (s *Service) RecordRegistrationPeriod(ctx context.Context, code string, in RegistrationPeriodInput) (certification.RegistrationPeriod, error) {
	var p certification.RegistrationPeriod
	err := s.writePeriod(ctx, code, func(tx Tx, f certification.PeriodFacts) error {
		var err error
		p, err = certification.SaveRegistrationPeriod(f, nil, certification.RegistrationPeriod{
			ID: newID(), CertificationCode: code, LegalAct: in.LegalAct, EffectiveFrom: in.EffectiveFrom, EffectiveUntil: in.EffectiveUntil})
		if err != nil {
			return err
		}
		if err := tx.InsertRegistrationPeriod(p); err != nil {
			return err
		}
		idempotency.Result(ctx, p)
		return s.audit(ctx, tx, "create", "registration_period", p.ID, periodChanges(p))
	})
	return p, err
}

// CorrectRegistrationPeriod corrects a recorded period, if still at version
// expected: what the legal act states, when the record mistyped it. The rules apply
// to the corrected period as to a new one.
func (s *Service) CorrectRegistrationPeriod(ctx context.Context, code, id string, expected int, ch RegistrationPeriodChange) (certification.RegistrationPeriod, error) {
	var p certification.RegistrationPeriod
	err := s.writePeriod(ctx, code, func(tx Tx, f certification.PeriodFacts) error {
		before, err := tx.LockRegistrationPeriod(code, id)
		if err != nil {
			return err
		}
		if !matches(before.Version, expected) {
			return certification.ErrStale
		}
		corrected := before
		if ch.LegalAct != nil {
			corrected.LegalAct = *ch.LegalAct
		}
		if ch.EffectiveFrom != nil {
			corrected.EffectiveFrom = *ch.EffectiveFrom
		}
		if ch.EffectiveUntil != nil {
			corrected.EffectiveUntil = *ch.EffectiveUntil
		}
		if p, err = certification.SaveRegistrationPeriod(f, &before, corrected); err != nil {
			return err
		}
		if err := tx.UpdateRegistrationPeriod(p); err != nil {
			return err
		}
		return s.audit(ctx, tx, "update", "registration_period", p.ID, changed(periodChanges(before), periodChanges(p)))
	})
	return p, err
}

// writePeriod is the transaction a change of a certification's periods runs in: it
// locks the certification (before any of its periods), loads the other periods the
// rules compare with, runs change, and moves the certification's version on, so
// that cached copies of the referential, which lists the periods, go stale.
func (s *Service) writePeriod(ctx context.Context, code string, change func(Tx, certification.PeriodFacts) error) error {
	return s.store.Write(ctx, func(tx Tx) error {
		version, err := tx.LockCertification(code)
		if err != nil {
			return err
		}
		others, err := tx.RegistrationPeriods(code, Page{Limit: Unlimited})
		if err != nil {
			return err
		}
		now := s.Now()
		if err := change(tx, certification.PeriodFacts{Others: others, Now: now}); err != nil {
			return err
		}
		return tx.SetCertificationVersion(code, version+1, now)
	})
}

func periodChanges(p certification.RegistrationPeriod) map[string]any {
	return map[string]any{"certification_code": p.CertificationCode, "legal_act": p.LegalAct,
		"effective_from": p.EffectiveFrom.Format(time.DateOnly), "effective_until": p.EffectiveUntil.Format(time.DateOnly)}
}
