package certification

import (
	"strings"
	"time"
)

// PeriodFacts are what a registration period is decided against: the
// certification's other periods, read under the certification's lock.
type PeriodFacts struct {
	Others []RegistrationPeriod
	Now    time.Time
}

// SaveRegistrationPeriod decides a registration period, recorded (before: nil) or
// corrected (REGISTRATION-PERIOD): it names its legal act, it ends after it begins,
// and the certification has no other period with the same dates. Periods may
// overlap: a renewal often takes effect before the period it renews ends (PeriodOn
// takes the latest to begin).
func SaveRegistrationPeriod(f PeriodFacts, before *RegistrationPeriod, p RegistrationPeriod) (RegistrationPeriod, error) {
	p.LegalAct = strings.TrimSpace(p.LegalAct)
	p.EffectiveFrom, p.EffectiveUntil = Day(p.EffectiveFrom), Day(p.EffectiveUntil)
	var vs []Violation
	if p.LegalAct == "" {
		vs = append(vs, Violation{Field: "/legal_act", Message: "a registration period names its legal act"})
	}
	vs = append(vs, CheckPeriodBounds(p.EffectiveFrom, p.EffectiveUntil)...)
	if err := Check(vs); err != nil {
		return p, err
	}
	for _, o := range f.Others {
		if o.ID != p.ID && Day(o.EffectiveFrom).Equal(p.EffectiveFrom) && Day(o.EffectiveUntil).Equal(p.EffectiveUntil) {
			return p, &ConflictError{Code: "duplicate_period", ExistingID: o.ID,
				Message: "the certification has a registration period from " + p.EffectiveFrom.Format(time.DateOnly) +
					" until " + p.EffectiveUntil.Format(time.DateOnly) + " already: " + o.LegalAct}
		}
	}
	if before == nil {
		p.Version, p.CreatedAt, p.UpdatedAt = 1, f.Now, f.Now
		return p, nil
	}
	p.ID, p.CertificationCode, p.CreatedAt = before.ID, before.CertificationCode, before.CreatedAt
	p.Version, p.UpdatedAt = before.Version+1, f.Now
	return p, nil
}
