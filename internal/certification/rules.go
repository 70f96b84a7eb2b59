package certification

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// RuleSource says where a rule comes from; the RNCP sheet wins over the others.
type RuleSource string

// The sources of rules.
const (
	FromSheet    RuleSource = "sheet"
	FromPractice RuleSource = "practice"
	FromDefault  RuleSource = "default"
	FromLaw      RuleSource = "law"
)

// Rule is an entry of the rules catalogue.
type Rule struct {
	ID        string
	Statement Label
	Source    RuleSource
}

// Rule ids, as shared/domain/RULES.md numbers them; violations carry them.
const (
	RuleRouteOpen          = "ROUTE-OPEN"
	RuleTerritory          = "TERRITORY"
	RuleSitePreparation    = "SITE-PREPARATION"
	RuleSiteCertification  = "SITE-CERTIFICATION"
	RuleRegistrationPeriod = "REGISTRATION-PERIOD"
	RuleComponents         = "COMPONENTS"
	RuleGrading            = "GRADING"
	RuleValidity           = "VALIDITY"
	RuleAward              = "AWARD"
	RuleJuryComposition    = "JURY-COMPOSITION"
	RuleJuryIndependence   = "JURY-INDEPENDENCE"
	RuleDefenceSlot        = "DEFENCE-SLOT"
	RuleVAEAdmissibility   = "VAE-ADMISSIBILITY"
	RuleMinutes            = "MINUTES"
	RulePublication        = "PUBLICATION"
	RuleHoldersDeclaration = "HOLDERS-DECLARATION"
)

// Rules is the catalogue of every rule the API enforces, in the order of RULES.md.
var Rules = []Rule{
	{RuleRouteOpen, Label{
		FR: "Un candidat s'inscrit par une voie d'accès ouverte pour la certification (jamais le contrat d'apprentissage pour RNCP26206).",
		EN: "A candidate registers through a route that is open for the certification (so never apprenticeship for RNCP26206)."}, FromSheet},
	{RuleTerritory, Label{
		FR: "Un candidat domicilié en Nouvelle-Calédonie (codes postaux 988xx) ou en Polynésie française (987xx) ne peut s'inscrire ; aucun site ne peut y être déclaré.",
		EN: "A candidate whose address is in New Caledonia (postal codes 988xx) or French Polynesia (987xx) cannot register; no site there can be declared."}, FromSheet},
	{RuleSitePreparation, Label{
		FR: "Un candidat en parcours de formation (formation initiale, formation continue, contrat de professionnalisation) est rattaché à un lieu de préparation déclaré ; les candidatures individuelles et la VAE peuvent ne pas l'être.",
		EN: "A candidate on a training route (initial training, continuing education, professionalisation contract) is attached to a declared preparation site; individual applications and VAE candidates may have none."}, FromSheet},
	{RuleSiteCertification, Label{
		FR: "Les évaluations et les jurys se tiennent dans un lieu de certification déclaré.",
		EN: "Evaluations and jury sessions take place at a declared certification site."}, FromSheet},
	{RuleRegistrationPeriod, Label{
		FR: "Un candidat ne peut être inscrit, et un jury ne peut délivrer la certification, qu'à une date comprise dans une période d'enregistrement au RNCP ; hors période, l'erreur nomme la dernière période et sa date de fin.",
		EN: "A candidate can be enrolled, and a jury can award the certification, only on a date inside one of its RNCP registration periods; outside them, the error names the last period and when it ended."}, FromSheet},
	{RuleComponents, Label{
		FR: "La certification comprend les évaluations E1, E2, E3 et E4 ; E4 comprend un dossier écrit et une soutenance orale de 45 minutes devant le jury.",
		EN: "The certification is made of E1, E2, E3 and E4; E4 has a written dossier and an oral defence of 45 minutes before the jury."}, FromSheet},
	{RuleGrading, Label{
		FR: "Chaque évaluation est notée de 0 à 20 avec une note de passage de 10, fixées par certification ; la note d'E4 combine ses deux parties, qui doivent chacune être notées.",
		EN: "Each component is graded 0-20 with a pass mark of 10, both set per certification; E4's grade combines its two parts, each of which must be graded."}, FromDefault},
	{RuleValidity, Label{
		FR: "Une composante acquise le reste 5 ans à compter de la date à laquelle le jury l'a validée ; au-delà, elle doit être repassée.",
		EN: "An acquired component stays acquired for 5 years from the date the jury validated it; after that it must be taken again."}, FromSheet},
	{RuleAward, Label{
		FR: "Le jury délivre la certification lorsque les quatre composantes sont acquises et encore valides le jour de la délibération ; sinon il prononce une validation partielle (les composantes acquises, chacune avec sa date d'expiration) ou un refus.",
		EN: "The jury awards the certification when all four components are acquired and still valid on the day of deliberation; otherwise it records a partial validation (the acquired components, each with its expiry date) or a refusal."}, FromSheet},
	{RuleJuryComposition, Label{
		FR: "Un jury compte exactement 5 membres : un seul Directeur Pédagogique et quatre professionnels ; il ne peut délibérer autrement.",
		EN: "A jury session has exactly 5 members: exactly one Directeur Pédagogique and four professionals; it cannot deliberate otherwise."}, FromSheet},
	{RuleJuryIndependence, Label{
		FR: "Un membre du jury ayant un lien déclaré avec un candidat (formateur, employeur ou autre lien) ne prend pas part à la décision le concernant : un jury où il siège ne peut statuer sur ce candidat.",
		EN: "A jury member with a link to a candidate declared on the member takes no part in that candidate's decision: a session in which such a member sits cannot decide on that candidate."}, FromPractice},
	{RuleDefenceSlot, Label{
		FR: "Les soutenances d'E4 sont planifiées en créneaux de 45 minutes dans un jury ; les créneaux d'un candidat, et ceux du jury, ne se chevauchent pas.",
		EN: "E4 oral defences are scheduled as 45-minute slots in a jury session; a candidate's slots, and the jury's, do not overlap."}, FromSheet},
	{RuleVAEAdmissibility, Label{
		FR: "Un candidat VAE n'est examiné par le jury qu'une fois sa candidature déclarée recevable.",
		EN: "A VAE candidate is examined by the jury only once their application has been declared admissible."}, FromPractice},
	{RuleMinutes, Label{
		FR: "Chaque jury clos a un procès-verbal : date, lieu, membres présents et, par candidat, la décision, les composantes validées et le motif ; signé par chaque membre présent.",
		EN: "Each closed session has minutes: date, site, members present, and per candidate the outcome, validated components and reason; signed by every member present."}, FromPractice},
	{RulePublication, Label{
		FR: "Les résultats ne sont visibles hors du certificateur (candidats, partenaires) qu'une fois la délibération close ; une délibération close n'est jamais modifiée, seulement corrigée par une nouvelle décision qui la référence.",
		EN: "Results become visible outside the certifier only once the jury's deliberation is closed; a closed deliberation is never edited, only corrected by a new, referenced decision."}, FromSheet},
	{RuleHoldersDeclaration, Label{
		FR: "Chaque délivrance est déclarée à la Caisse des Dépôts dans les 3 mois, dans un fichier XML valide selon le schéma holders-declaration 1.1.2.",
		EN: "Every award is declared to the Caisse des Dépôts within 3 months, in an XML file valid against the holders-declaration 1.1.2 schema."}, FromLaw},
}

// CheckTerritory enforces TERRITORY for an address: "Accessible en Nouvelle Calédonie:
// NON; Accessible en Polynésie Française: NON". A French postal code starting with an
// excluded territory's prefix, or the territory's own country code, is refused.
// field is the JSON pointer of the address in the request.
func CheckTerritory(field string, a Address, excluded []Territory) []Violation {
	french := strings.EqualFold(a.CountryCode, "FR")
	for _, t := range excluded {
		if french && strings.HasPrefix(strings.TrimSpace(a.PostalCode), t.PostalCodePrefix) {
			return []Violation{{Rule: RuleTerritory, Field: field + "/postal_code",
				Message: fmt.Sprintf("the certification is not accessible in %s (postal codes %sxx)", t.Name.EN, t.PostalCodePrefix)}}
		}
		if strings.EqualFold(a.CountryCode, t.Code) {
			return []Violation{{Rule: RuleTerritory, Field: field + "/country_code",
				Message: fmt.Sprintf("the certification is not accessible in %s", t.Name.EN)}}
		}
	}
	return nil
}

// CheckRegistrationPeriod enforces REGISTRATION-PERIOD: the certification must be
// registered in the RNCP on day ("Enregistrement pour un an avec effet au 4 janvier
// 2019, jusqu'au 4 janvier 2020"). Outside every period, the message names the last
// period that ended and its end date.
func CheckRegistrationPeriod(field string, day time.Time, periods []RegistrationPeriod) []Violation {
	if _, ok := PeriodOn(day, periods); ok {
		return nil
	}
	msg := fmt.Sprintf("the certification is not registered in the RNCP on %s", day.Format(time.DateOnly))
	var last *RegistrationPeriod
	for i := range periods {
		p := periods[i]
		if p.EffectiveUntil.Before(Day(day)) && (last == nil || p.EffectiveUntil.After(last.EffectiveUntil)) {
			last = &p
		}
	}
	if last != nil {
		msg += fmt.Sprintf(": its last registration period (%s) ended on %s", last.LegalAct, last.EffectiveUntil.Format(time.DateOnly))
	} else if len(periods) > 0 {
		msg += ": its first registration period has not begun"
	}
	return []Violation{{Rule: RuleRegistrationPeriod, Field: field, Message: msg}}
}

// PeriodOn returns the registration period in force on day, the latest to begin when
// several overlap.
func PeriodOn(day time.Time, periods []RegistrationPeriod) (RegistrationPeriod, bool) {
	in := make([]RegistrationPeriod, 0, 1)
	for _, p := range periods {
		if p.Contains(day) {
			in = append(in, p)
		}
	}
	if len(in) == 0 {
		return RegistrationPeriod{}, false
	}
	sort.Slice(in, func(i, j int) bool { return in[i].EffectiveFrom.After(in[j].EffectiveFrom) })
	return in[0], true
}

// CheckPeriodBounds checks a new registration period: it must end after it begins.
func CheckPeriodBounds(from, until time.Time) []Violation {
	if !Day(until).After(Day(from)) {
		return []Violation{{Field: "/effective_until", Message: "effective_until must be after effective_from"}}
	}
	return nil
}

// CheckSiteRoles checks a training site's declaration: at least one role, no role twice.
func CheckSiteRoles(roles []SiteRole) []Violation {
	seen := map[SiteRole]bool{}
	for _, r := range roles {
		if r != SitePreparation && r != SiteCertification {
			return []Violation{{Field: "/roles", Message: fmt.Sprintf("unknown role %q", r)}}
		}
		if seen[r] {
			return []Violation{{Field: "/roles", Message: fmt.Sprintf("role %q is given twice", r)}}
		}
		seen[r] = true
	}
	if len(roles) == 0 {
		return []Violation{{Field: "/roles", Message: "a site has at least one role"}}
	}
	return nil
}

// CheckRouteOpen enforces ROUTE-OPEN: "Conditions d'inscription à la certification …
// En contrat d'apprentissage : NON". The route must be one the certification is open
// through.
func CheckRouteOpen(route RouteID, routes []Route) []Violation {
	for _, r := range routes {
		if r.ID == route {
			if r.Open {
				return nil
			}
			return []Violation{{Rule: RuleRouteOpen, Field: "/route",
				Message: fmt.Sprintf("the route %s (%s) is closed for this certification", route, r.Label.FR)}}
		}
	}
	return []Violation{{Rule: RuleRouteOpen, Field: "/route", Message: fmt.Sprintf("the route %s does not lead to this certification", route)}}
}

// CheckSitePreparation enforces SITE-PREPARATION: "Lieu(x) de préparation à la
// certification déclarés par l'organisme certificateur". A candidate on a training
// route is attached to a declared, active preparation site of the certification;
// individual applications and VAE candidates may have none, but a site they do give
// must be one. siteID is what the request names; site is what it names, nil when
// no such site exists.
func CheckSitePreparation(route RouteID, certificationCode, siteID string, site *TrainingSite) []Violation {
	const field = "/training_site_id"
	switch {
	case siteID == "" && TrainingRoutes[route]:
		return []Violation{{Rule: RuleSitePreparation, Field: field,
			Message: fmt.Sprintf("a candidate on the %s route is attached to a declared preparation site", route)}}
	case siteID == "":
		return nil
	case site == nil:
		return []Violation{{Rule: RuleSitePreparation, Field: field, Message: "no such training site"}}
	}
	declared := false
	for _, c := range site.CertificationCodes {
		declared = declared || c == certificationCode
	}
	if !site.Active || !site.HasRole(SitePreparation) || !declared {
		return []Violation{{Rule: RuleSitePreparation, Field: field,
			Message: fmt.Sprintf("%s (%s) is not an active preparation site declared for %s", site.Name, site.Address.Line1, certificationCode)}}
	}
	return nil
}

// Registration is what a candidate's registration is checked against.
type Registration struct {
	Candidate     Candidate
	Certification Certification
	// Site is the training site the candidate names; nil when none is named or
	// none exists.
	Site *TrainingSite
}

// CheckRegistration applies every rule of a candidate's registration and returns all
// the violations at once: ROUTE-OPEN, TERRITORY, SITE-PREPARATION, REGISTRATION-PERIOD.
func CheckRegistration(r Registration) []Violation {
	c := r.Candidate
	var vs []Violation
	vs = append(vs, CheckRouteOpen(c.Route, r.Certification.Routes)...)
	vs = append(vs, CheckTerritory("/address", c.Address, r.Certification.ExcludedTerritories)...)
	vs = append(vs, CheckSitePreparation(c.Route, r.Certification.Code, c.TrainingSiteID, r.Site)...)
	vs = append(vs, CheckRegistrationPeriod("/enrolled_on", c.EnrolledOn, r.Certification.Periods)...)
	if c.BirthPlace.INSEECode == "" && c.BirthPlace.PostalCode == "" {
		vs = append(vs, Violation{Field: "/birth_place", Message: "a birth place has an insee_code or a postal_code"})
	}
	if !c.BirthDate.Before(c.EnrolledOn) {
		vs = append(vs, Violation{Field: "/birth_date", Message: "the birth date is before the enrolment date"})
	}
	return vs
}
