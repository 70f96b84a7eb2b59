package certification

import "time"

// Label is a text in French, the language of the RNCP sheet, and in English.
type Label struct {
	FR string
	EN string
}

// CodedLabel is an entry of a classification (NSF, ROME, sector).
type CodedLabel struct {
	Code  string
	Label string
}

// Certification is the referential of one certification, as its RNCP sheet gives it.
type Certification struct {
	Code          string
	Title         string
	Certifier     string
	Signatory     string
	Level1969     string
	LevelEQF      int
	Summary       string
	NSF           []CodedLabel
	ROME          []CodedLabel
	Sectors       []CodedLabel
	Functions     []Function
	Capacities    []Capacity
	Components    []Component
	Routes        []Route
	Jury          JuryComposition
	ValidityYears *int // nil: acquired components never expire
	// AwardGraceMonths is how long after its last registration period ended a jury
	// may still award the certification to candidates enrolled while it ran.
	AwardGraceMonths    int
	ExcludedTerritories []Territory
	Periods             []RegistrationPeriod
	Sites               []DeclaredSite
	Version             int
}

// Function is a function (fonction) of the job and its activities.
type Function struct {
	ID         string
	Title      Label
	Activities []Activity
}

// Activity is one activity of a function.
type Activity struct {
	ID    string
	Title Label
}

// Capacity is one attested capacity (capacité attestée).
type Capacity struct {
	ID        string
	Statement Label
}

// Component is one of the évaluations a candidate must pass.
type Component struct {
	ID      string
	Title   Label
	Form    string
	Parts   []ComponentPart
	Grading Grading
}

// Defence returns the component's oral part before the jury, if it has one (E4's
// defence): such a component is sat in a jury session's slot.
func (c Component) Defence() (ComponentPart, bool) {
	for _, p := range c.Parts {
		if p.BeforeJury {
			return p, true
		}
	}
	return ComponentPart{}, false
}

// ComponentPart is a part of a component graded on its own (E4: dossier and defence).
type ComponentPart struct {
	ID              string
	Title           Label
	DurationMinutes *int
	BeforeJury      bool
}

// Minutes is how long the part lasts; a part before the jury without a stated
// duration takes the sheet's 45 minutes (DEFENCE-SLOT).
func (p ComponentPart) Minutes() int {
	if p.DurationMinutes != nil && *p.DurationMinutes > 0 {
		return *p.DurationMinutes
	}
	return 45
}

// Grading is how a component is graded: its scale, its pass mark and, for a
// component made of parts, how their grades combine.
type Grading struct {
	ScaleMin    float64
	ScaleMax    float64
	PassMark    float64
	Combination string
}

// RouteID names an access route (voie d'accès).
type RouteID string

// The access routes of the RNCP sheet.
const (
	RouteInitialTraining             RouteID = "initial_training"
	RouteApprenticeship              RouteID = "apprenticeship"
	RouteContinuingEducation         RouteID = "continuing_education"
	RouteProfessionalisationContract RouteID = "professionalisation_contract"
	RouteIndividualApplication       RouteID = "individual_application"
	RouteVAE                         RouteID = "vae"
)

// Route is an access route and whether the certification is open through it.
type Route struct {
	ID    RouteID
	Label Label
	Open  bool
	// OpensOn is the first day enrolment through the route is possible; nil: since
	// the certification exists (ROUTE-OPENING).
	OpensOn *time.Time
	// PermanentAcquisitions: components validated through this route never expire
	// (VALIDITY: parts obtained by VAE, since the law of 8 August 2016).
	PermanentAcquisitions bool
}

// Route returns the route of the certification with the id, if it has one.
func (c Certification) Route(id RouteID) (Route, bool) {
	for _, r := range c.Routes {
		if r.ID == id {
			return r, true
		}
	}
	return Route{}, false
}

// ValidityFor returns how long a component validated through the route stays
// acquired: nil when it never expires (VALIDITY).
func (c Certification) ValidityFor(route RouteID) *int {
	if r, ok := c.Route(route); ok && r.PermanentAcquisitions {
		return nil
	}
	return c.ValidityYears
}

// JuryComposition is who sits on a jury for this certification.
type JuryComposition struct {
	Size                 int
	PedagogicalDirectors int
	Professionals        int
	Description          Label
}

// Territory is a territory where the certification is not accessible.
type Territory struct {
	Code             string
	Name             Label
	PostalCodePrefix string
}

// RegistrationPeriod is an interval during which the certification is registered in
// the RNCP. EffectiveUntil is the end date the legal act states; the period includes
// it.
type RegistrationPeriod struct {
	ID                string
	CertificationCode string
	LegalAct          string
	EffectiveFrom     time.Time
	EffectiveUntil    time.Time
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Contains reports whether the day d falls inside the period.
func (p RegistrationPeriod) Contains(d time.Time) bool {
	d = Day(d)
	return !d.Before(Day(p.EffectiveFrom)) && !d.After(Day(p.EffectiveUntil))
}

// DeclaredSite is a site the certifier declared for the certification, in one role.
type DeclaredSite struct {
	Role           SiteRole
	Name           string
	Address        Address
	TrainingSiteID string
}

// SiteRole is what a training site is declared for.
type SiteRole string

// The roles of a training site.
const (
	SitePreparation   SiteRole = "preparation"
	SiteCertification SiteRole = "certification"
)

// Address is a postal address.
type Address struct {
	Line1       string  `json:"line1"`
	Line2       *string `json:"line2"`
	PostalCode  string  `json:"postal_code"`
	City        string  `json:"city"`
	CountryCode string  `json:"country_code"`
}

// TrainingSite is a place where candidates are prepared and/or assessed.
type TrainingSite struct {
	ID                 string
	Name               string
	Address            Address
	Roles              []SiteRole
	CertificationCodes []string
	Active             bool
	Version            int
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// HasRole reports whether the site is declared in role r.
func (s TrainingSite) HasRole(r SiteRole) bool {
	for _, have := range s.Roles {
		if have == r {
			return true
		}
	}
	return false
}

// Day returns the calendar day of t, as midnight UTC: dates of the domain are days,
// not instants.
func Day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
