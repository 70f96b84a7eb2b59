package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/auth"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func newRequestID() string { return uuid.Must(uuid.NewV7()).String() }

// etag is the entity tag of a resource at a version.
func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

// errPreconditionRequired answers a change that needs If-Match and has none.
var errPreconditionRequired = &statusError{status: http.StatusPreconditionRequired, code: "precondition_required",
	detail: "this change needs If-Match: the ETag it is based on, or * for whatever the current version is"}

// versionFromIfMatch reads the version an If-Match names: "*" matches whatever the
// current version is; any other value that is not the ETag of a version (versions
// start at 1) can never match and is reported as stale.
func versionFromIfMatch(header *string) (int, error) {
	if header == nil {
		return 0, errPreconditionRequired
	}
	h := strings.TrimSpace(*header)
	if h == "*" {
		return service.NoPrecondition, nil
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		return 0, certification.ErrStale
	}
	return v, nil
}

// basedOn is the version a read-modify-write (a merge patch) is based on: the one the
// If-Match names, which must be the current one, or with If-Match: * the current one
// as read, so that a change between the read and the write is still caught.
func basedOn(current, expected int) (int, error) {
	if expected == service.NoPrecondition {
		return current, nil
	}
	if current != expected {
		return 0, certification.ErrStale
	}
	return expected, nil
}

// notModified reports whether an If-None-Match names the current version.
func notModified(h *string, version int) bool {
	if h == nil {
		return false
	}
	for _, t := range strings.Split(*h, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag(version) {
			return true
		}
	}
	return false
}

// The keys the certifications and the rules catalogue are paged by: a
// certification code ("RNCP26206", as the contract has it), or a rule id
// ("REGISTRATION-PERIOD") at most maxRuleKey long. Every other list is paged by id
// (uuidRE).
var (
	codeKeyRE = regexp.MustCompile(`^[A-Z0-9]{1,20}$`)
	ruleKeyRE = regexp.MustCompile(`^[A-Z0-9]+(-[A-Z0-9]+)+$`)
)

const maxRuleKey = 40

// page turns query parameters into a keyset page request. A cursor is refused unless
// it is exactly what trim issues, the base64url of an id, a certification code or a
// rule id: a cursor cut short, padded, with line breaks or stray bits, or naming
// something no list is paged by, is a 400, never a position past every item that
// would read as an empty last page. So is a cursor sent with other filters than
// those of the page it came from (see openCursor).
func page(ctx context.Context, limit *api.Limit, cursor *string) (service.Page, error) {
	p := service.Page{Limit: 20}
	if limit != nil {
		p.Limit = int(*limit)
	}
	if cursor != nil && *cursor != "" {
		inner, err := openCursor(ctx, *cursor)
		if err != nil {
			return p, err
		}
		raw, err := base64.RawURLEncoding.DecodeString(inner)
		key := uuidRE.Match(raw) || codeKeyRE.Match(raw) || (len(raw) <= maxRuleKey && ruleKeyRE.Match(raw))
		if err != nil || !key || base64.RawURLEncoding.EncodeToString(raw) != inner {
			return p, badCursor
		}
		p.After = string(raw)
	}
	return p, nil
}

// trim cuts the extra item the store read to learn whether a next page exists, and
// returns the cursor of that next page.
func trim[T any](ctx context.Context, items []T, p service.Page, key func(T) string) ([]T, *string) {
	if len(items) <= p.Limit {
		return items, nil
	}
	items = items[:p.Limit]
	c := sealCursor(ctx, base64.RawURLEncoding.EncodeToString([]byte(key(items[len(items)-1]))))
	return items, &c
}

// badCursor is a cursor this API did not issue.
var badCursor = &contractError{violations: []certification.Violation{{Field: "/cursor", Message: "not a cursor this API issued"}}}

// otherFilters is a cursor sent with other filters than the page it came from.
var otherFilters = &contractError{violations: []certification.Violation{{Field: "/cursor",
	Message: "this cursor continues a list read with other filters: send the same filters with it, or start again without a cursor"}}}

type filtersKey struct{}

// withFilters records the list filters of a request (its query parameters but the
// cursor, the page size and where a feed starts), as a short digest, for the
// cursors it reads and issues.
func withFilters(ctx context.Context, query url.Values) context.Context {
	names := make([]string, 0, len(query))
	for name := range query {
		switch name {
		case "cursor", "limit", "updated_since":
		default:
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return ctx
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		for _, v := range query[name] {
			fmt.Fprintf(h, "%s=%s\n", name, v)
		}
	}
	return context.WithValue(ctx, filtersKey{}, base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:6]))
}

// sealCursor binds a cursor to the filters of the request that issued it: a list
// page read with filters gives a cursor that goes on with those filters only.
func sealCursor(ctx context.Context, inner string) string {
	if f, _ := ctx.Value(filtersKey{}).(string); f != "" {
		return inner + "." + f
	}
	return inner
}

// openCursor checks that a cursor goes with the request's filters and returns what
// the list issued, for its own checks.
func openCursor(ctx context.Context, cursor string) (string, error) {
	f, _ := ctx.Value(filtersKey{}).(string)
	inner, seal, sealed := strings.Cut(cursor, ".")
	switch {
	case !sealed && f == "":
		return cursor, nil
	case sealed && seal == f && f != "":
		return inner, nil
	case !sealed && f != "", sealed && seal != f && strings.Count(cursor, ".") == 1 && seal != "":
		return "", otherFilters
	}
	return "", badCursor
}

func mustUUID(s string) openapi_types.UUID { return uuid.MustParse(s) }

func optUUID(s string) *openapi_types.UUID {
	if s == "" {
		return nil
	}
	u := uuid.MustParse(s)
	return &u
}

func uuidString(u *openapi_types.UUID) string {
	if u == nil {
		return ""
	}
	return u.String()
}

func date(t time.Time) openapi_types.Date { return openapi_types.Date{Time: t} }

func label(l certification.Label) api.Label { return api.Label{Fr: l.FR, En: l.EN} }

// toAPIAddress is an address as answers give it: line2 is always there, null when
// the address has none.
func toAPIAddress(a certification.Address) api.PostalAddress {
	return api.PostalAddress{Line1: a.Line1, Line2: a.Line2, PostalCode: a.PostalCode, City: a.City, CountryCode: a.CountryCode}
}

// addressInput is an answered address in the form a request gives it, the base a
// merge patch applies to.
func addressInput(a api.PostalAddress) api.Address {
	return api.Address{Line1: a.Line1, Line2: a.Line2, PostalCode: a.PostalCode, City: a.City, CountryCode: a.CountryCode}
}

func addressFromAPI(a api.Address) certification.Address {
	line2 := a.Line2
	if line2 != nil && strings.TrimSpace(*line2) == "" {
		line2 = nil
	}
	return certification.Address{Line1: strings.TrimSpace(a.Line1), Line2: line2, PostalCode: strings.TrimSpace(a.PostalCode),
		City: strings.TrimSpace(a.City), CountryCode: a.CountryCode}
}

func toAPIPeriod(p certification.RegistrationPeriod) api.RegistrationPeriod {
	return api.RegistrationPeriod{Id: mustUUID(p.ID), CertificationCode: p.CertificationCode, LegalAct: p.LegalAct,
		EffectiveFrom: date(p.EffectiveFrom), EffectiveUntil: date(p.EffectiveUntil), Version: int32(p.Version),
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func currentPeriod(c certification.Certification, today time.Time) *api.RegistrationPeriod {
	if p, ok := certification.PeriodOn(today, c.Periods); ok {
		ap := toAPIPeriod(p)
		return &ap
	}
	return nil
}

func toAPICertificationSummary(c certification.Certification, today time.Time) api.CertificationSummary {
	return api.CertificationSummary{Code: c.Code, Title: c.Title, LevelEqf: int32(c.LevelEQF), CurrentRegistrationPeriod: currentPeriod(c, today)}
}

func toAPICertification(c certification.Certification, today time.Time) api.Certification {
	out := api.Certification{
		Code: c.Code, Title: c.Title, Certifier: c.Certifier, Signatory: c.Signatory, Summary: c.Summary,
		AcquiredComponentsValidityYears: optInt32(c.ValidityYears), AwardGraceMonths: int32(c.AwardGraceMonths), Version: int32(c.Version),
		CurrentRegistrationPeriod: currentPeriod(c, today),
		Nsf:                       codedLabels(c.NSF), Rome: codedLabels(c.ROME), Sectors: codedLabels(c.Sectors),
		Functions: []api.Function{}, Capacities: []api.Capacity{}, Components: []api.Component{},
		AccessRoutes: []api.AccessRoute{}, ExcludedTerritories: []api.ExcludedTerritory{},
		RegistrationPeriods: []api.RegistrationPeriod{}, Sites: []api.CertificationSite{},
	}
	out.Level.Nomenclature1969, out.Level.Eqf = c.Level1969, int32(c.LevelEQF)
	jury := api.JuryComposition{Size: int32(c.Jury.Size), PedagogicalDirectors: int32(c.Jury.PedagogicalDirectors),
		Professionals: int32(c.Jury.Professionals), Description: label(c.Jury.Description)}
	out.Jury = jury
	for _, f := range c.Functions {
		af := api.Function{Id: f.ID, Title: label(f.Title), Activities: []api.Activity{}}
		for _, a := range f.Activities {
			af.Activities = append(af.Activities, api.Activity{Id: a.ID, Title: label(a.Title)})
		}
		out.Functions = append(out.Functions, af)
	}
	for _, x := range c.Capacities {
		out.Capacities = append(out.Capacities, api.Capacity{Id: x.ID, Statement: label(x.Statement)})
	}
	for _, x := range c.Components {
		comp := api.Component{Id: api.ComponentId(x.ID), Title: label(x.Title), Form: api.ComponentForm(x.Form), Parts: []api.ComponentPart{},
			Grading: api.Grading{ScaleMin: x.Grading.ScaleMin, ScaleMax: x.Grading.ScaleMax, PassMark: x.Grading.PassMark}}
		if x.Grading.Combination != "" {
			comp.Grading.Combination = ptr(api.GradingCombination(x.Grading.Combination))
		}
		for _, p := range x.Parts {
			comp.Parts = append(comp.Parts, api.ComponentPart{Id: api.ComponentPartId(p.ID), Title: label(p.Title),
				DurationMinutes: optInt32(p.DurationMinutes), BeforeJury: p.BeforeJury})
		}
		out.Components = append(out.Components, comp)
	}
	for _, r := range c.Routes {
		ar := api.AccessRoute{Id: api.RouteId(r.ID), Label: label(r.Label), Open: r.Open, OpensOn: optDate(r.OpensOn), PermanentAcquisitions: r.PermanentAcquisitions}
		if r.Open {
			ar.Jury = &jury
		}
		out.AccessRoutes = append(out.AccessRoutes, ar)
	}
	for _, t := range c.ExcludedTerritories {
		out.ExcludedTerritories = append(out.ExcludedTerritories, api.ExcludedTerritory{Code: t.Code, Name: label(t.Name), PostalCodePrefix: t.PostalCodePrefix})
	}
	for _, p := range c.Periods {
		out.RegistrationPeriods = append(out.RegistrationPeriods, toAPIPeriod(p))
	}
	for _, s := range c.Sites {
		out.Sites = append(out.Sites, api.CertificationSite{Role: api.SiteRole(s.Role), Name: s.Name,
			Address: toAPIAddress(s.Address), TrainingSiteId: mustUUID(s.TrainingSiteID)})
	}
	return out
}

func codedLabels(in []certification.CodedLabel) []api.CodedLabel {
	out := make([]api.CodedLabel, len(in))
	for i, x := range in {
		out[i] = api.CodedLabel{Code: x.Code, Label: x.Label}
	}
	return out
}

func toAPITrainingSite(s certification.TrainingSite) api.TrainingSite {
	roles := make([]api.SiteRole, len(s.Roles))
	for i, r := range s.Roles {
		roles[i] = api.SiteRole(r)
	}
	return api.TrainingSite{Id: mustUUID(s.ID), Name: s.Name, Address: toAPIAddress(s.Address), Roles: roles,
		CertificationCodes: s.CertificationCodes, Active: s.Active, Version: int32(s.Version), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func siteInputFromAPI(in api.TrainingSiteCreate) service.TrainingSiteInput {
	roles := make([]certification.SiteRole, len(in.Roles))
	for i, r := range in.Roles {
		roles[i] = certification.SiteRole(r)
	}
	return service.TrainingSiteInput{Name: in.Name, Address: addressFromAPI(in.Address), Roles: roles, CertificationCodes: in.CertificationCodes}
}

func toAPIUser(u service.User) api.User {
	return api.User{Id: mustUUID(u.ID), Email: openapi_types.Email(u.Email), Role: api.UserRole(u.Role),
		TrainingSiteId: optUUID(u.TrainingSiteID), JuryMemberId: optUUID(u.JuryMemberID), CandidateId: optUUID(u.CandidateID),
		Active: u.Active, Version: int32(u.Version), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func toAPIAuditEvent(e service.AuditEvent) api.AuditEvent {
	out := api.AuditEvent{Id: mustUUID(e.ID), OccurredAt: e.OccurredAt, ActorRole: e.ActorRole, Action: e.Action,
		ResourceType: e.ResourceType, ResourceId: e.ResourceID, Changes: e.Changes, RequestId: e.RequestID}
	if e.ActorID != "" {
		out.ActorId = ptr(e.ActorID)
	}
	if out.Changes == nil {
		out.Changes = map[string]any{}
	}
	return out
}

func roleOf(r api.UserRole) auth.Role { return auth.Role(r) }

// optInt32 is an optional count of the domain as the contract types it. The
// counts it converts (months, minutes, years) are far inside int32.
func optInt32(n *int) *int32 {
	if n == nil {
		return nil
	}
	return ptr(int32(*n))
}

// optInt is an optional count of the contract as the domain types it.
func optInt(n *int32) *int {
	if n == nil {
		return nil
	}
	return ptr(int(*n))
}
