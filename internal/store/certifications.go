package store

import (
	"time"

	"gorm.io/gorm"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
)

func (t *tx) Certifications(p service.Page) ([]certification.Certification, error) {
	var rows []certificationRow
	if err := keyset(t.db, "code", p).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]certification.Certification, 0, len(rows))
	for _, r := range rows {
		c, err := t.loadCertification(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

type cachedReferential struct {
	version int
	cert    certification.Certification
}

// Certification returns the referential of a certification: read afresh when its
// version moved on since it was cached, from the cache otherwise. Callers must not
// modify what it returns.
func (t *tx) Certification(code string) (certification.Certification, error) {
	if v, ok := t.referentials[code]; ok {
		if c, ok := t.store.referentials.Load(code); ok && c.(cachedReferential).version == v {
			return c.(cachedReferential).cert, nil
		}
	}
	var r certificationRow
	if err := t.db.Take(&r, "code = ?", code).Error; err != nil {
		return certification.Certification{}, notFound(err, "certification %s", code)
	}
	if c, ok := t.store.referentials.Load(code); ok && c.(cachedReferential).version == r.Version {
		return c.(cachedReferential).cert, nil
	}
	c, err := t.loadCertification(r)
	if err != nil {
		return c, err
	}
	t.cache(code, cachedReferential{version: r.Version, cert: c})
	return c, nil
}

func (t *tx) CertificationCached(code string) bool {
	v, ok := t.referentials[code]
	if !ok {
		return false
	}
	c, ok := t.store.referentials.Load(code)
	return ok && c.(cachedReferential).version == v
}

// cache keeps a referential read by t. A write's reads see what it changed itself
// and may roll back: they are kept once it has committed (see Write).
func (t *tx) cache(code string, c cachedReferential) {
	if !t.writing {
		t.store.referentials.Store(code, c)
		return
	}
	if t.committed == nil {
		t.committed = map[string]cachedReferential{}
	}
	t.committed[code] = c
}

func (t *tx) ExcludedTerritories(code string) ([]certification.Territory, error) {
	var n int64
	if err := t.db.Model(&certificationRow{}).Where("code = ?", code).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, certification.NotFoundf("certification %s", code)
	}
	var rows []territoryRow
	if err := t.db.Where("certification_code = ?", code).Order("ordinal").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]certification.Territory, len(rows))
	for i, x := range rows {
		out[i] = certification.Territory{Code: x.Code, Name: certification.Label{FR: x.NameFR, EN: x.NameEN}, PostalCodePrefix: x.PostalCodePrefix}
	}
	return out, nil
}

func (t *tx) LockCertification(code string) (int, error) {
	var r certificationRow
	if err := t.forUpdate().Take(&r, "code = ?", code).Error; err != nil {
		return 0, notFound(err, "certification %s", code)
	}
	return r.Version, t.lockedAt(assumption{key: code}, r.Version)
}

func (t *tx) SetCertificationVersion(code string, version int, at time.Time) error {
	if err := t.changing(assumption{key: code}); err != nil {
		return err
	}
	delete(t.referentials, code)
	return t.db.Model(&certificationRow{}).Where("code = ?", code).
		Updates(map[string]any{"version": version, "updated_at": at}).Error
}

func (t *tx) TouchCertification(code string, at time.Time) error {
	if err := t.changing(assumption{key: code}); err != nil {
		return err
	}
	delete(t.referentials, code)
	return t.db.Model(&certificationRow{}).Where("code = ?", code).
		Updates(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": at}).Error
}

func (t *tx) RegistrationPeriods(code string, p service.Page) ([]certification.RegistrationPeriod, error) {
	var n int64
	if err := t.db.Model(&certificationRow{}).Where("code = ?", code).Count(&n).Error; err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, certification.NotFoundf("certification %s", code)
	}
	var rows []registrationPeriodRow
	if err := keyset(t.db.Where("certification_code = ?", code), "id", p).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]certification.RegistrationPeriod, len(rows))
	for i, x := range rows {
		out[i] = periodFromRow(x)
	}
	return out, nil
}

func (t *tx) RegistrationPeriod(code, id string) (certification.RegistrationPeriod, error) {
	return t.registrationPeriod(t.db, code, id)
}

func (t *tx) LockRegistrationPeriod(code, id string) (certification.RegistrationPeriod, error) {
	return t.registrationPeriod(t.forUpdate(), code, id)
}

func (t *tx) registrationPeriod(db *gorm.DB, code, id string) (certification.RegistrationPeriod, error) {
	var r registrationPeriodRow
	if err := db.Take(&r, "id = ? AND certification_code = ?", id, code).Error; err != nil {
		return certification.RegistrationPeriod{}, notFound(err, "registration period %s of certification %s", id, code)
	}
	return periodFromRow(r), nil
}

func (t *tx) InsertRegistrationPeriod(p certification.RegistrationPeriod) error {
	row := periodToRow(p)
	return duplicate(t.db.Create(&row).Error, "duplicate_period", "this registration period is already recorded")
}

func (t *tx) UpdateRegistrationPeriod(p certification.RegistrationPeriod) error {
	row := periodToRow(p)
	return duplicate(t.db.Model(&row).Select("legal_act", "effective_from", "effective_until", "version", "updated_at").Updates(&row).Error,
		"duplicate_period", "the certification has a registration period with these dates already")
}

func periodToRow(p certification.RegistrationPeriod) registrationPeriodRow {
	return registrationPeriodRow{ID: p.ID, CertificationCode: p.CertificationCode, LegalAct: p.LegalAct,
		EffectiveFrom: p.EffectiveFrom, EffectiveUntil: p.EffectiveUntil, Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// loadCertification reads the referential around one certification row.
func (t *tx) loadCertification(r certificationRow) (certification.Certification, error) {
	c := certification.Certification{
		Code: r.Code, Title: r.Title, Certifier: r.Certifier, Signatory: r.Signatory,
		Level1969: r.Level1969, LevelEQF: r.LevelEQF, Summary: r.Summary,
		Jury: certification.JuryComposition{Size: r.JurySize, PedagogicalDirectors: r.JuryPedagogicalDirectors,
			Professionals: r.JuryProfessionals, Description: certification.Label{FR: r.JuryDescriptionFR, EN: r.JuryDescriptionEN}},
		ValidityYears: r.ValidityYears, AwardGraceMonths: r.AwardGraceMonths, Version: r.Version,
	}
	var classes []classificationRow
	var functions []functionRow
	var activities []activityRow
	var capacities []capacityRow
	var components []componentRow
	var parts []componentPartRow
	var routes []routeRow
	var territories []territoryRow
	var periods []registrationPeriodRow
	for _, q := range []struct {
		dest  any
		order string
	}{
		{&classes, "kind, ordinal"}, {&functions, "ordinal"}, {&activities, "ordinal"},
		{&capacities, "ordinal"}, {&components, "ordinal"}, {&parts, "ordinal"},
		{&routes, "ordinal"}, {&territories, "ordinal"}, {&periods, "effective_from"},
	} {
		if err := t.db.Where("certification_code = ?", r.Code).Order(q.order).Find(q.dest).Error; err != nil {
			return c, err
		}
	}
	for _, x := range classes {
		l := certification.CodedLabel{Code: x.Code, Label: x.Label}
		switch x.Kind {
		case "nsf":
			c.NSF = append(c.NSF, l)
		case "rome":
			c.ROME = append(c.ROME, l)
		case "sector":
			c.Sectors = append(c.Sectors, l)
		}
	}
	for _, f := range functions {
		fn := certification.Function{ID: f.ID, Title: certification.Label{FR: f.TitleFR, EN: f.TitleEN}}
		for _, a := range activities {
			if a.FunctionID == f.ID {
				fn.Activities = append(fn.Activities, certification.Activity{ID: a.ID, Title: certification.Label{FR: a.TitleFR, EN: a.TitleEN}})
			}
		}
		c.Functions = append(c.Functions, fn)
	}
	for _, x := range capacities {
		c.Capacities = append(c.Capacities, certification.Capacity{ID: x.ID, Statement: certification.Label{FR: x.StatementFR, EN: x.StatementEN}})
	}
	for _, x := range components {
		comp := certification.Component{ID: x.ID, Title: certification.Label{FR: x.TitleFR, EN: x.TitleEN}, Form: x.Form,
			Grading: certification.Grading{ScaleMin: x.ScaleMin, ScaleMax: x.ScaleMax, PassMark: x.PassMark}}
		if x.Combination != nil {
			comp.Grading.Combination = *x.Combination
		}
		for _, p := range parts {
			if p.ComponentID == x.ID {
				comp.Parts = append(comp.Parts, certification.ComponentPart{ID: p.ID, Title: certification.Label{FR: p.TitleFR, EN: p.TitleEN},
					DurationMinutes: p.DurationMinutes, BeforeJury: p.BeforeJury})
			}
		}
		c.Components = append(c.Components, comp)
	}
	for _, x := range routes {
		c.Routes = append(c.Routes, certification.Route{ID: certification.RouteID(x.ID), Label: certification.Label{FR: x.LabelFR, EN: x.LabelEN},
			Open: x.IsOpen, OpensOn: dayPtr(x.OpensOn), PermanentAcquisitions: x.PermanentAcquisitions})
	}
	for _, x := range territories {
		c.ExcludedTerritories = append(c.ExcludedTerritories, certification.Territory{Code: x.Code, Name: certification.Label{FR: x.NameFR, EN: x.NameEN}, PostalCodePrefix: x.PostalCodePrefix})
	}
	for _, x := range periods {
		c.Periods = append(c.Periods, periodFromRow(x))
	}
	sites, err := t.TrainingSites(service.TrainingSiteFilter{CertificationCode: r.Code, Page: service.Page{Limit: 1000}})
	if err != nil {
		return c, err
	}
	for _, s := range sites {
		for _, role := range s.Roles {
			c.Sites = append(c.Sites, certification.DeclaredSite{Role: role, Name: s.Name, Address: s.Address, TrainingSiteID: s.ID})
		}
	}
	return c, nil
}

func periodFromRow(x registrationPeriodRow) certification.RegistrationPeriod {
	return certification.RegistrationPeriod{ID: x.ID, CertificationCode: x.CertificationCode, LegalAct: x.LegalAct,
		EffectiveFrom: certification.Day(x.EffectiveFrom), EffectiveUntil: certification.Day(x.EffectiveUntil), Version: x.Version,
		CreatedAt: x.CreatedAt.UTC(), UpdatedAt: x.UpdatedAt.UTC()}
}
