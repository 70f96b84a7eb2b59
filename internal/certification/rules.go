package certification

import (
	"fmt"
	"slices"
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
	RuleWithdrawal         = "WITHDRAWAL"
	RuleCarryOver          = "CARRY-OVER"
	RuleRouteOpening       = "ROUTE-OPENING"
	RuleVAEExperience      = "VAE-EXPERIENCE"
)

// Rules is the catalogue of every rule the API enforces, in the order of RULES.md.
var Rules = []Rule{
	{RuleRouteOpen, Label{
		FR: "Un candidat s'inscrit par une voie d'accès ouverte pour la certification (jamais le contrat d'apprentissage pour RNCP26206).",
		EN: "A candidate registers through a route that is open for the certification (so never apprenticeship for RNCP26206)."}, FromSheet},
	{RuleTerritory, Label{
		FR: "La certification n'est pas délivrée en Nouvelle-Calédonie (codes postaux 988xx, pays NC) ni en Polynésie française (987xx, PF) : aucun site ne peut y être déclaré, et aucune évaluation ni aucun jury ne s'y tient.",
		EN: "The certification is not delivered in New Caledonia (postal codes 988xx, country NC) or French Polynesia (987xx, PF): no training site there can be declared, and no evaluation or jury session takes place there."}, FromSheet},
	{RuleSitePreparation, Label{
		FR: "Un candidat en parcours de formation (formation initiale, formation continue, contrat de professionnalisation) est rattaché à un lieu de préparation déclaré ; les candidatures individuelles et la VAE peuvent ne pas l'être.",
		EN: "A candidate on a training route (initial training, continuing education, professionalisation contract) is attached to a declared preparation site; individual applications and VAE candidates may have none."}, FromSheet},
	{RuleSiteCertification, Label{
		FR: "Les évaluations et les jurys se tiennent dans un lieu de certification déclaré.",
		EN: "Evaluations and jury sessions take place at a declared certification site."}, FromSheet},
	{RuleRegistrationPeriod, Label{
		FR: "Un candidat ne peut être inscrit qu'à une date comprise dans une période d'enregistrement au RNCP. Un jury délivre la certification à une date comprise dans une période ou, après la fin de la dernière, aux seuls candidats inscrits pendant celle-ci, dans un délai de grâce fixé par la certification. Hors période, l'erreur nomme la dernière période et sa date de fin.",
		EN: "A candidate can be enrolled only on a date inside one of the certification's RNCP registration periods. A jury awards on a date inside a period or, after the last period ended, only to candidates enrolled while it ran, within a grace period that is a setting of the certification. Outside them, the error names the last period and when it ended."}, FromSheet},
	{RuleComponents, Label{
		FR: "La certification comprend les évaluations E1, E2, E3 et E4 ; E4 comprend un dossier écrit et une soutenance orale de 45 minutes devant le jury.",
		EN: "The certification is made of E1, E2, E3 and E4; E4 has a written dossier and an oral defence of 45 minutes before the jury."}, FromSheet},
	{RuleGrading, Label{
		FR: "Chaque évaluation est notée de 0 à 20 avec une note de passage de 10, fixées par certification ; la note d'E4 combine ses deux parties, qui doivent chacune être notées.",
		EN: "Each component is graded 0-20 with a pass mark of 10, both set per certification; E4's grade combines its two parts, each of which must be graded."}, FromDefault},
	{RuleValidity, Label{
		FR: "Une composante acquise le reste 5 ans à compter de la date à laquelle le jury l'a validée, jusqu'au cinquième anniversaire de cette date inclus (un 29 février court jusqu'au 28 février) ; au-delà, elle doit être repassée. Une composante validée par la VAE est acquise définitivement (loi du 8 août 2016).",
		EN: "An acquired component stays acquired for 5 years from the date the jury validated it, through the fifth anniversary of that date included (a 29 February runs to 28 February); after that it must be taken again. A component validated through VAE is acquired permanently (law of 8 August 2016)."}, FromSheet},
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
	{RuleWithdrawal, Label{
		FR: "Un candidat qui a abandonné ne peut plus, à compter de la date de son abandon, être convoqué, noté, inscrit à une soutenance ni faire l'objet d'une décision ; son relevé l'indique et il n'est jamais certifiable après cette date. Ses acquis antérieurs lui restent.",
		EN: "A withdrawn candidate can no longer be scheduled, graded, booked for a defence or decided upon, from the withdrawal date on; their transcript says so and is never awardable after that date. What they acquired before stays theirs."}, FromPractice},
	{RuleCarryOver, Label{
		FR: "Les acquis appartiennent à la personne : lorsqu'elle s'inscrit de nouveau à la même certification (après un abandon, un refus ou une validation partielle), chaque composante encore valide compte pour la nouvelle inscription, avec sa date d'origine.",
		EN: "Acquisitions belong to the person: when the same person registers again for the same certification (after a withdrawal, a refusal or a partial validation), every component still valid counts on the new registration, with its original date."}, FromPractice},
	{RuleRouteOpening, Label{
		FR: "Une voie d'accès peut ouvrir à une date (« Par expérience dispositif VAE prévu en 2014 » : la VAE à partir du 1er janvier 2014 pour RNCP26206) ; une inscription par cette voie avant cette date est refusée.",
		EN: "A route may open on a date (VAE from 2014-01-01 for RNCP26206); enrolment through it before that date is refused."}, FromSheet},
	{RuleVAEExperience, Label{
		FR: "Une demande de VAE n'est recevable qu'avec l'expérience que la loi exigeait à la date de la demande : 3 ans avant le 1er octobre 2017, 1 an à partir de cette date (loi du 8 août 2016, décret du 4 juillet 2017), aucune à partir du 23 décembre 2022 (loi du 21 décembre 2022) ; la décision de recevabilité enregistre l'expérience retenue.",
		EN: "A VAE application is admissible only with the experience the law required on the date of the application: 3 years before 2017-10-01, 1 year from 2017-10-01, none from 2022-12-23; the admissibility decision records the experience it relied on."}, FromLaw},
}

// CheckTerritory enforces TERRITORY for the address of a place of delivery (a
// training site, and through it an evaluation or a jury session): "Accessible en
// Nouvelle Calédonie: NON; Accessible en Polynésie Française: NON". A French postal
// code starting with an excluded territory's prefix, or the territory's own country
// code, is refused. field is the JSON pointer of the address in the request.
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
	// BirthCountries is how the holders declaration names countries of birth; nil
	// leaves the birth country unchecked.
	BirthCountries BirthCountries
}

// CheckRegistration applies every rule of a candidate's registration and returns all
// the violations at once: ROUTE-OPEN, ROUTE-OPENING, SITE-PREPARATION,
// REGISTRATION-PERIOD and, for the birth place, HOLDERS-DECLARATION. TERRITORY is not among them: it bars places of delivery, not
// a candidate who lives there and trains and sits elsewhere.
func CheckRegistration(r Registration) []Violation {
	c := r.Candidate
	var vs []Violation
	vs = append(vs, CheckRouteOpen(c.Route, r.Certification.Routes)...)
	vs = append(vs, CheckRouteOpening(c.Route, c.EnrolledOn, r.Certification.Routes)...)
	vs = append(vs, CheckSitePreparation(c.Route, r.Certification.Code, c.TrainingSiteID, r.Site)...)
	vs = append(vs, CheckRegistrationPeriod("/enrolled_on", c.EnrolledOn, r.Certification.Periods)...)
	return append(vs, CheckRegistrationRequest(c, r.BirthCountries)...)
}

// CheckRegistrationRequest applies the rules of a registration that need nothing
// but the request: a birth place the holders declaration can carry
// (HOLDERS-DECLARATION; countries may be nil to skip it), a birth date before the
// enrolment. CheckRegistration applies them too.
func CheckRegistrationRequest(c Candidate, countries BirthCountries) []Violation {
	var vs []Violation
	if c.BirthPlace.INSEECode == "" && c.BirthPlace.PostalCode == "" {
		vs = append(vs, Violation{Field: "/birth_place", Message: "a birth place has an insee_code or a postal_code"})
	}
	if countries != nil {
		vs = append(vs, CheckDeclarableBirthPlace(c.BirthPlace, countries)...)
	}
	if !c.BirthDate.Before(c.EnrolledOn) {
		vs = append(vs, Violation{Field: "/birth_date", Message: "the birth date is before the enrolment date"})
	}
	return vs
}

// CheckRouteOpening enforces ROUTE-OPENING: "Par expérience dispositif VAE prévu en
// 2014". Enrolment through a route before the day it opened is refused.
func CheckRouteOpening(route RouteID, enrolledOn time.Time, routes []Route) []Violation {
	for _, r := range routes {
		if r.ID == route && r.OpensOn != nil && Day(enrolledOn).Before(Day(*r.OpensOn)) {
			return []Violation{{Rule: RuleRouteOpening, Field: "/route",
				Message: fmt.Sprintf("the route %s opened on %s: no enrolment through it on %s", route, r.OpensOn.Format(time.DateOnly), Day(enrolledOn).Format(time.DateOnly))}}
		}
	}
	return nil
}

// CheckWithdrawal enforces WITHDRAWAL: from the day a candidate withdrew, nothing is
// scheduled, graded, booked or decided for them. An act is refused when any of the
// days it concerns (today, the day of the sitting or of the session) falls on or
// after the withdrawal.
func CheckWithdrawal(field string, c Candidate, days ...time.Time) []Violation {
	if c.WithdrawnOn == nil {
		return nil
	}
	for _, d := range days {
		if !Day(d).Before(*c.WithdrawnOn) {
			return []Violation{{Rule: RuleWithdrawal, Field: field,
				Message: "the candidate withdrew on " + c.WithdrawnOn.Format(time.DateOnly) + ": nothing is scheduled, graded, booked or decided for them from that day"}}
		}
	}
	return nil
}

// VAEExperienceRequired is the professional experience, in months, the law required
// of a VAE application made on day (VAE-EXPERIENCE), and the law that set it.
func VAEExperienceRequired(day time.Time) (months int, law string) {
	switch d := Day(day); {
	case !d.Before(time.Date(2022, 12, 23, 0, 0, 0, 0, time.UTC)):
		return 0, "loi du 21 décembre 2022"
	case !d.Before(time.Date(2017, 10, 1, 0, 0, 0, 0, time.UTC)):
		return 12, "loi du 8 août 2016 et décret du 4 juillet 2017"
	default:
		return 36, "code du travail avant la loi du 8 août 2016"
	}
}

// CheckVAEExperience enforces VAE-EXPERIENCE: an application declared admissible had
// the experience the law required on the day it was made (the enrolment). An
// inadmissible decision needs none.
func CheckVAEExperience(c Candidate, decision VAEAdmissibility, experienceMonths *int) []Violation {
	if decision != VAEAdmissible {
		return nil
	}
	need, law := VAEExperienceRequired(c.EnrolledOn)
	switch {
	case experienceMonths == nil:
		return []Violation{{Rule: RuleVAEExperience, Field: "/experience_months",
			Message: "an admissibility decision records the experience it relied on, in months"}}
	case *experienceMonths < need:
		return []Violation{{Rule: RuleVAEExperience, Field: "/experience_months",
			Message: fmt.Sprintf("an application made on %s needs %d months of experience (%s); %d are declared",
				c.EnrolledOn.Format(time.DateOnly), need, law, *experienceMonths)}}
	}
	return nil
}

// CheckVAEAdmissible enforces VAE-ADMISSIBILITY: a VAE candidate is booked before
// the jury, or decided upon, only once their application is admissible.
func CheckVAEAdmissible(field string, c Candidate) []Violation {
	if c.Route != RouteVAE || c.VAEAdmissibility == VAEAdmissible {
		return nil
	}
	state := c.VAEAdmissibility
	if state == "" {
		state = VAEPending
	}
	return []Violation{{Rule: RuleVAEAdmissibility, Field: field,
		Message: fmt.Sprintf("the VAE application is %s, not admissible: the jury does not examine it", state)}}
}

// CheckAwardPeriod enforces REGISTRATION-PERIOD for an award on day: inside a
// registration period; or, after the last period ended, to a candidate enrolled
// while it ran, within the certification's grace period.
func CheckAwardPeriod(field string, day, enrolledOn time.Time, periods []RegistrationPeriod, graceMonths int) []Violation {
	if _, ok := PeriodOn(day, periods); ok {
		return nil
	}
	var last *RegistrationPeriod
	for i := range periods {
		if last == nil || periods[i].EffectiveUntil.After(last.EffectiveUntil) {
			last = &periods[i]
		}
	}
	if last != nil && day.After(last.EffectiveUntil) {
		graceEnd := AddMonths(last.EffectiveUntil, graceMonths)
		// Periods that ended on the same last day are each the last one, whatever
		// order they are listed in.
		enrolledInLast := false
		for _, p := range periods {
			enrolledInLast = enrolledInLast || (Day(p.EffectiveUntil).Equal(Day(last.EffectiveUntil)) && p.Contains(enrolledOn))
		}
		if enrolledInLast && !Day(day).After(graceEnd) {
			return nil
		}
		return []Violation{{Rule: RuleRegistrationPeriod, Field: field, Message: fmt.Sprintf(
			"the certification's last registration period (%s) ended on %s: it is awarded after that only to candidates enrolled while it ran, until %s (enrolled on %s)",
			last.LegalAct, last.EffectiveUntil.Format(time.DateOnly), graceEnd.Format(time.DateOnly), Day(enrolledOn).Format(time.DateOnly))}}
	}
	return CheckRegistrationPeriod(field, day, periods)
}

// CheckJuryComposition enforces JURY-COMPOSITION: "Composition des jurys: 5
// personnes : le Directeur Pédagogique et 4 professionnels". While a session is
// planned its members may be incomplete but never exceed the composition; to
// deliberate (exact) it must have exactly the composition.
func CheckJuryComposition(field string, members []JuryMember, want JuryComposition, exact bool) []Violation {
	directors, professionals := 0, 0
	for _, m := range members {
		switch m.Role {
		case PedagogicalDirector:
			directors++
		case Professional:
			professionals++
		}
	}
	has := fmt.Sprintf("it has %d member(s): %d pedagogical director(s) and %d professional(s)", len(members), directors, professionals)
	wants := fmt.Sprintf("a jury has exactly %d members, %d pedagogical director(s) and %d professionals", want.Size, want.PedagogicalDirectors, want.Professionals)
	over := len(members) > want.Size || directors > want.PedagogicalDirectors || professionals > want.Professionals
	if over || (exact && (len(members) != want.Size || directors != want.PedagogicalDirectors || professionals != want.Professionals)) {
		return []Violation{{Rule: RuleJuryComposition, Field: field, Message: wants + "; " + has}}
	}
	return nil
}

// CheckJuryIndependence enforces JURY-INDEPENDENCE: a member with a declared link to
// the candidate (on this registration or another of the same person's), or to the
// training site that prepares them, takes no part in their decision, so a session in
// which such a member sits cannot decide on them.
func CheckJuryIndependence(field string, members []JuryMember, c Candidate, personIDs ...string) []Violation {
	var vs []Violation
	for _, m := range members {
		for _, l := range m.Links {
			switch {
			case l.CandidateID != "" && (l.CandidateID == c.ID || slices.Contains(personIDs, l.CandidateID)):
				vs = append(vs, Violation{Rule: RuleJuryIndependence, Field: field,
					Message: fmt.Sprintf("%s (%s) has declared a link to the candidate (%s): this session cannot decide on them; replace the member or take the candidate to another session", m.FullName, m.Organisation, l.Kind)})
			case l.TrainingSiteID != "" && l.TrainingSiteID == c.TrainingSiteID:
				vs = append(vs, Violation{Rule: RuleJuryIndependence, Field: field,
					Message: fmt.Sprintf("%s (%s) has declared a link to the candidate's training site (%s): this session cannot decide on them; replace the member or take the candidate to another session", m.FullName, m.Organisation, l.Kind)})
			}
		}
	}
	return vs
}

// CheckDefenceSlot enforces DEFENCE-SLOT for a defence of the candidate at slot:
// it lies on the session's day, and overlaps neither another defence of the session
// nor another sitting of the candidate (a sitting without a slot occupies its
// instant). others are the non-cancelled sittings to compare with, the defence
// itself excluded.
func CheckDefenceSlot(slot Slot, session JurySession, candidateID string, sessionDefences, candidateSittings []Evaluation) []Violation {
	var vs []Violation
	if !Day(slot.Start).Equal(Day(session.HeldOn)) || !Day(slot.End.Add(-time.Second)).Equal(Day(session.HeldOn)) {
		vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/scheduled_at",
			Message: fmt.Sprintf("the defence slot (%s to %s) lies within the session's day, %s (UTC)", slot.Start.Format(time.RFC3339), slot.End.Format(time.RFC3339), session.HeldOn.Format(time.DateOnly))})
	}
	for _, d := range sessionDefences {
		if d.CandidateID != candidateID && slot.Overlaps(d.Slot()) {
			vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/scheduled_at",
				Message: fmt.Sprintf("the session already hears a defence from %s to %s", d.ScheduledAt.Format(time.RFC3339), d.Slot().End.Format(time.RFC3339))})
			break
		}
	}
	for _, s := range candidateSittings {
		if slot.Overlaps(s.Slot()) {
			vs = append(vs, Violation{Rule: RuleDefenceSlot, Field: "/scheduled_at",
				Message: fmt.Sprintf("the candidate has a sitting of %s at %s", s.Component, s.ScheduledAt.Format(time.RFC3339))})
			break
		}
	}
	return vs
}
