package store

import (
	"database/sql"
	"strings"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
)

func (t *tx) TrainingSites(f service.TrainingSiteFilter) ([]certification.TrainingSite, error) {
	q := t.db.Model(&trainingSiteRow{})
	if !f.IncludeInactive {
		q = q.Where("active = ?", true)
	}
	if f.OnlyID != "" {
		q = q.Where("id = ?", f.OnlyID)
	}
	switch f.Role {
	case certification.SitePreparation:
		q = q.Where("is_preparation = ?", true)
	case certification.SiteCertification:
		q = q.Where("is_certification = ?", true)
	}
	if f.City != "" {
		q = q.Where("LOWER(city) = ?", strings.ToLower(f.City))
	}
	if f.CertificationCode != "" {
		q = q.Where("id IN (?)", t.db.Model(&trainingSiteCertificationRow{}).Select("training_site_id").Where("certification_code = ?", f.CertificationCode))
	}
	var rows []trainingSiteRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.sitesFromRows(rows)
}

// TrainingSite reads a site, the certifications it is declared for and their
// referentials' versions in one statement, straight to the connection:
// Certification then takes a referential from the cache without a read of its own
// while its version is the cached one (see Candidate). A MySQL write takes
// the site from the cache when it holds it, and checks it at its commit (see
// assumed.go).
func (t *tx) TrainingSite(id string) (certification.TrainingSite, error) {
	if s, ok := t.cachedTrainingSite(id); ok {
		return s, nil
	}
	st := t.db.Statement
	rows, err := st.ConnPool.QueryContext(st.Context, siteByID, id)
	if err != nil {
		return certification.TrainingSite{}, err
	}
	defer rows.Close()
	var (
		r     trainingSiteRow
		codes []string
		refs  []siteReferential
		found bool
	)
	for rows.Next() {
		var (
			code    sql.NullString
			version sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Name, &r.Line1, &r.Line2, &r.PostalCode, &r.City, &r.CountryCode, &r.IsPreparation,
			&r.IsCertification, &r.Active, &r.Version, &r.CreatedAt, &r.UpdatedAt, &code, &version); err != nil {
			return certification.TrainingSite{}, err
		}
		found = true
		if code.Valid {
			codes = append(codes, code.String)
			if version.Valid {
				t.sawReferential(code.String, int(version.Int64))
				refs = append(refs, siteReferential{code: code.String, version: int(version.Int64)})
			}
		}
	}
	if err := rows.Err(); err != nil {
		return certification.TrainingSite{}, err
	}
	if !found {
		return certification.TrainingSite{}, certification.NotFoundf("training site %s", id)
	}
	s := siteFromRow(r, codes)
	t.keepSite(s, refs)
	return s, nil
}

// siteByID reads a site with one row per certification it is declared for.
const siteByID = "SELECT s.id, s.name, s.line1, s.line2, s.postal_code, s.city, s.country_code, s.is_preparation, s.is_certification," +
	" s.active, s.version, s.created_at, s.updated_at, l.certification_code, c.version FROM training_sites s" +
	" LEFT JOIN training_site_certifications l ON l.training_site_id = s.id LEFT JOIN certifications c ON c.code = l.certification_code" +
	" WHERE s.id = ? ORDER BY l.certification_code"

func (t *tx) LockTrainingSite(id string) (certification.TrainingSite, error) {
	var r trainingSiteRow
	if err := t.forUpdate().Take(&r, "id = ?", id).Error; err != nil {
		return certification.TrainingSite{}, notFound(err, "training site %s", id)
	}
	if err := t.lockedAt(assumption{site: true, key: id}, r.Version); err != nil {
		return certification.TrainingSite{}, err
	}
	sites, err := t.sitesFromRows([]trainingSiteRow{r})
	if err != nil {
		return certification.TrainingSite{}, err
	}
	return sites[0], nil
}

func (t *tx) InsertTrainingSite(s certification.TrainingSite) error {
	if err := t.changing(assumption{site: true, key: s.ID}); err != nil {
		return err
	}
	row := siteToRow(s)
	if err := t.db.Create(&row).Error; err != nil {
		return err
	}
	return t.setSiteCertifications(s)
}

func (t *tx) UpdateTrainingSite(s certification.TrainingSite) error {
	if err := t.changing(assumption{site: true, key: s.ID}); err != nil {
		return err
	}
	row := siteToRow(s)
	// Select("*") writes zero values too (active=false, line2=NULL).
	if err := t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error; err != nil {
		return err
	}
	return t.setSiteCertifications(s)
}

func (t *tx) setSiteCertifications(s certification.TrainingSite) error {
	if err := t.db.Where("training_site_id = ?", s.ID).Delete(&trainingSiteCertificationRow{}).Error; err != nil {
		return err
	}
	if len(s.CertificationCodes) == 0 {
		return nil
	}
	rows := make([]trainingSiteCertificationRow, len(s.CertificationCodes))
	for i, c := range s.CertificationCodes {
		rows[i] = trainingSiteCertificationRow{TrainingSiteID: s.ID, CertificationCode: c}
	}
	return t.db.Create(&rows).Error
}

func (t *tx) sitesFromRows(rows []trainingSiteRow) ([]certification.TrainingSite, error) {
	out := make([]certification.TrainingSite, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var links []trainingSiteCertificationRow
	if err := t.db.Where("training_site_id IN ?", ids).Order("certification_code").Find(&links).Error; err != nil {
		return nil, err
	}
	codes := map[string][]string{}
	for _, l := range links {
		codes[l.TrainingSiteID] = append(codes[l.TrainingSiteID], l.CertificationCode)
	}
	for _, r := range rows {
		out = append(out, siteFromRow(r, codes[r.ID]))
	}
	return out, nil
}

func siteFromRow(r trainingSiteRow, codes []string) certification.TrainingSite {
	s := certification.TrainingSite{
		ID: r.ID, Name: r.Name,
		Address:            certification.Address{Line1: r.Line1, Line2: r.Line2, PostalCode: r.PostalCode, City: r.City, CountryCode: r.CountryCode},
		CertificationCodes: codes, Active: r.Active, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if s.CertificationCodes == nil {
		s.CertificationCodes = []string{}
	}
	if r.IsPreparation {
		s.Roles = append(s.Roles, certification.SitePreparation)
	}
	if r.IsCertification {
		s.Roles = append(s.Roles, certification.SiteCertification)
	}
	return s
}

func siteToRow(s certification.TrainingSite) trainingSiteRow {
	return trainingSiteRow{
		ID: s.ID, Name: s.Name, Line1: s.Address.Line1, Line2: s.Address.Line2, PostalCode: s.Address.PostalCode,
		City: s.Address.City, CountryCode: s.Address.CountryCode,
		IsPreparation: s.HasRole(certification.SitePreparation), IsCertification: s.HasRole(certification.SiteCertification),
		Active: s.Active, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}
