package service

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// TrainingSiteFilter selects training sites.
type TrainingSiteFilter struct {
	Page
	Role              certification.SiteRole
	City              string
	CertificationCode string
	IncludeInactive   bool
	// OnlyID restricts the list to one site (a site_staff caller's own).
	OnlyID string
}

// TrainingSiteInput is the whole declaration of a site, as created or as a merge
// patch leaves it.
type TrainingSiteInput struct {
	Name               string
	Address            certification.Address
	Roles              []certification.SiteRole
	CertificationCodes []string
}

// ListTrainingSites lists the sites the caller may see: site_staff see only theirs.
func (s *Service) ListTrainingSites(ctx context.Context, f TrainingSiteFilter) ([]certification.TrainingSite, error) {
	if p, _ := auth.PrincipalFrom(ctx); p.Role == auth.RoleSiteStaff {
		f.OnlyID = p.TrainingSiteID
	}
	return read(ctx, s, func(tx Tx) ([]certification.TrainingSite, error) { return tx.TrainingSites(f) })
}

// GetTrainingSite returns one site, if the caller may see it.
func (s *Service) GetTrainingSite(ctx context.Context, id string) (certification.TrainingSite, error) {
	if err := canSeeSite(ctx, id); err != nil {
		return certification.TrainingSite{}, err
	}
	return read(ctx, s, func(tx Tx) (certification.TrainingSite, error) { return tx.TrainingSite(id) })
}

func canSeeSite(ctx context.Context, id string) error {
	p, _ := auth.PrincipalFrom(ctx)
	switch p.Role {
	case auth.RoleAdmin, auth.RoleDirector:
		return nil
	case auth.RoleSiteStaff:
		if p.TrainingSiteID == id {
			return nil
		}
	}
	return certification.NotFoundf("training site %s", id)
}

// CreateTrainingSite declares a site, under TERRITORY.
func (s *Service) CreateTrainingSite(ctx context.Context, in TrainingSiteInput) (certification.TrainingSite, error) {
	now := s.Now()
	site := certification.TrainingSite{ID: newID(), Active: true, Version: 1, CreatedAt: now, UpdatedAt: now}
	applySiteInput(&site, in)
	err := s.store.Write(ctx, func(tx Tx) error {
		if err := lockCertifications(tx, site.CertificationCodes); err != nil {
			return err
		}
		if err := s.checkSite(tx, site); err != nil {
			return err
		}
		if err := tx.InsertTrainingSite(site); err != nil {
			return err
		}
		if err := touchCertifications(tx, site.UpdatedAt, site.CertificationCodes); err != nil {
			return err
		}
		idempotency.Result(ctx, site)
		return s.audit(ctx, tx, "create", "training_site", site.ID, siteChanges(site))
	})
	return site, err
}

// UpdateTrainingSite replaces a site's declaration, if it is still at version expected.
func (s *Service) UpdateTrainingSite(ctx context.Context, id string, expected int, in TrainingSiteInput) (certification.TrainingSite, error) {
	var site certification.TrainingSite
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if site, err = lockSite(tx, id, in.CertificationCodes); err != nil {
			return err
		}
		if !matches(site.Version, expected) {
			return certification.ErrStale
		}
		before, was := site.CertificationCodes, siteChanges(site)
		applySiteInput(&site, in)
		if err := s.checkSite(tx, site); err != nil {
			return err
		}
		site.Version++
		site.UpdatedAt = s.Now()
		if err := tx.UpdateTrainingSite(site); err != nil {
			return err
		}
		if err := touchCertifications(tx, site.UpdatedAt, before, site.CertificationCodes); err != nil {
			return err
		}
		return s.audit(ctx, tx, "update", "training_site", site.ID, changed(was, siteChanges(site)))
	})
	return site, err
}

// DeactivateTrainingSite marks a site inactive; it is never deleted, since candidates
// and evaluations may reference it.
func (s *Service) DeactivateTrainingSite(ctx context.Context, id string, expected int) (certification.TrainingSite, error) {
	var site certification.TrainingSite
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if site, err = lockSite(tx, id, nil); err != nil {
			return err
		}
		if !matches(site.Version, expected) {
			return certification.ErrStale
		}
		site.Active = false
		site.Version++
		site.UpdatedAt = s.Now()
		if err := tx.UpdateTrainingSite(site); err != nil {
			return err
		}
		if err := touchCertifications(tx, site.UpdatedAt, site.CertificationCodes); err != nil {
			return err
		}
		return s.audit(ctx, tx, "deactivate", "training_site", site.ID, map[string]any{"active": false})
	})
	return site, err
}

// lockCertifications locks the rows of the certifications a site change touches,
// in one order, before any row that references them: inserting a site's links
// takes a shared lock on each certification row, and moving its version on an
// exclusive one, so two writers that took the shared locks first would each wait
// for the other.
func lockCertifications(tx Tx, codes ...[]string) error {
	var all []string
	for _, cs := range codes {
		all = append(all, cs...)
	}
	slices.Sort(all)
	for _, code := range slices.Compact(all) {
		if _, err := tx.LockCertification(code); err != nil && !errors.Is(err, certification.ErrNotFound) {
			return err
		}
	}
	return nil
}

// lockSite locks a site for a change, the certifications it is and will be
// declared for first (see lockCertifications).
func lockSite(tx Tx, id string, newCodes []string) (certification.TrainingSite, error) {
	current, err := tx.TrainingSite(id)
	if err != nil {
		return current, err
	}
	if err := lockCertifications(tx, current.CertificationCodes, newCodes); err != nil {
		return current, err
	}
	site, err := tx.LockTrainingSite(id)
	if err != nil {
		return site, err
	}
	// Declared meanwhile for another certification: lock it too (late, but the
	// write is retried if that deadlocks).
	return site, lockCertifications(tx, site.CertificationCodes)
}

// touchCertifications moves on the version of every certification whose declared
// sites a change affects, so that their ETag, and cached referentials, go stale.
func touchCertifications(tx Tx, at time.Time, codeLists ...[]string) error {
	seen := map[string]bool{}
	for _, codes := range codeLists {
		for _, code := range codes {
			if seen[code] {
				continue
			}
			seen[code] = true
			if err := tx.TouchCertification(code, at); err != nil {
				return err
			}
		}
	}
	return nil
}

func applySiteInput(site *certification.TrainingSite, in TrainingSiteInput) {
	site.Name = strings.TrimSpace(in.Name)
	site.Address = in.Address
	site.Roles = in.Roles
	site.CertificationCodes = in.CertificationCodes
}

// checkSite applies the rules of every certification the site is declared for.
func (s *Service) checkSite(tx Tx, site certification.TrainingSite) error {
	violations := certification.CheckSiteRoles(site.Roles)
	for i, code := range site.CertificationCodes {
		excluded, err := tx.ExcludedTerritories(code)
		if errors.Is(err, certification.ErrNotFound) {
			violations = append(violations, certification.Violation{
				Field: "/certification_codes/" + strconv.Itoa(i), Message: "unknown certification " + code})
			continue
		} else if err != nil {
			return err
		}
		if v := certification.CheckTerritory("/address", site.Address, excluded); v != nil && !containsRule(violations, certification.RuleTerritory) {
			violations = append(violations, v...)
		}
	}
	return certification.Check(violations)
}

func containsRule(vs []certification.Violation, rule string) bool {
	for _, v := range vs {
		if v.Rule == rule {
			return true
		}
	}
	return false
}

func siteChanges(s certification.TrainingSite) map[string]any {
	return map[string]any{
		"name": s.Name, "address": s.Address, "roles": s.Roles, "certification_codes": s.CertificationCodes,
	}
}
