package service

import (
	"context"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// ListCertifications returns the certifications this certifier delivers.
func (s *Service) ListCertifications(ctx context.Context, page Page) ([]certification.Certification, error) {
	var out []certification.Certification
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Certifications(page)
		return err
	})
	return out, err
}

// GetCertification returns the whole referential of one certification.
func (s *Service) GetCertification(ctx context.Context, code string) (certification.Certification, error) {
	var c certification.Certification
	err := s.store.Read(ctx, func(tx Tx) error {
		var err error
		c, err = tx.Certification(code)
		return err
	})
	return c, err
}

// Rules returns the rules catalogue of a certification.
func (s *Service) Rules(ctx context.Context, code string) ([]certification.Rule, error) {
	if _, err := s.GetCertification(ctx, code); err != nil {
		return nil, err
	}
	return certification.Rules, nil
}

// RegistrationPeriodInput is a renewal of a certification's registration in the RNCP.
type RegistrationPeriodInput struct {
	LegalAct       string
	EffectiveFrom  time.Time
	EffectiveUntil time.Time
}

// RecordRegistrationPeriod records a renewal: a new period with its legal act. The
// certification's version moves on, so cached copies of the referential go stale.
func (s *Service) RecordRegistrationPeriod(ctx context.Context, code string, in RegistrationPeriodInput) (certification.RegistrationPeriod, error) {
	p := certification.RegistrationPeriod{
		ID: newID(), CertificationCode: code, LegalAct: strings.TrimSpace(in.LegalAct),
		EffectiveFrom: certification.Day(in.EffectiveFrom), EffectiveUntil: certification.Day(in.EffectiveUntil),
		CreatedAt: s.Now(),
	}
	if err := certification.Check(certification.CheckPeriodBounds(p.EffectiveFrom, p.EffectiveUntil)); err != nil {
		return p, err
	}
	err := s.store.Write(ctx, func(tx Tx) error {
		version, err := tx.LockCertification(code)
		if err != nil {
			return err
		}
		if err := tx.InsertRegistrationPeriod(p); err != nil {
			return err
		}
		if err := tx.SetCertificationVersion(code, version+1, p.CreatedAt); err != nil {
			return err
		}
		return s.audit(ctx, tx, "create", "registration_period", p.ID, map[string]any{
			"certification_code": code, "legal_act": p.LegalAct,
			"effective_from": p.EffectiveFrom.Format(time.DateOnly), "effective_until": p.EffectiveUntil.Format(time.DateOnly),
		})
	})
	return p, err
}
