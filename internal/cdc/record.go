// Package cdc writes the holders declaration to the Caisse des Dépôts (the
// "accrochage des certifications": the flux of schema 1.1.2, namespace
// urn:cdc:cpf:pc5:schema:1.0.0) and reads the processing receipt the Caisse answers
// a flux with. It owns the format and its mappings: access routes to modaliteAcces,
// ISO 3166 countries to the INSEE "pays" reference (pays.csv). What is declared, and
// when, is the service's.
package cdc

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apformation/certapi/internal/certification"
)

// Issuer identifies the certifier to the Caisse des Dépôts: the client id (8
// characters) and the contract id the Caisse gave it. The certifier issues the flux
// itself, so it is both emetteur and certificateur.
type Issuer struct {
	ClientID   string
	ContractID string
}

// Check refuses an issuer the flux cannot name, so that no file is made that the
// Caisse would reject whole.
func (i Issuer) Check() []certification.Violation {
	var vs []certification.Violation
	if utf8.RuneCountInString(i.ClientID) != 8 {
		vs = append(vs, certification.Violation{Rule: certification.RuleHoldersDeclaration,
			Message: "the certifier's client id at the Caisse des Dépôts (CERTAPI_CDC_CLIENT_ID) is not configured as its 8 characters"})
	}
	if n := utf8.RuneCountInString(i.ContractID); n < 1 || n > 20 {
		vs = append(vs, certification.Violation{Rule: certification.RuleHoldersDeclaration,
			Message: "the certifier's contract id at the Caisse des Dépôts (CERTAPI_CDC_CONTRACT_ID) is not configured (1 to 20 characters)"})
	}
	return vs
}

// Record is one passageCertification of the flux: an award and its holder, as
// declared. A declaration file keeps its records as they were sent (JSON with these
// names), so that its XML can be written again word for word.
type Record struct {
	IDTechnique       string `json:"id_technique"`
	CertificationCode string `json:"certification_code"`
	AwardedOn         string `json:"awarded_on"`
	EnrolledOn        string `json:"enrolled_on"`
	Access            string `json:"access"`
	VAEPath           string `json:"vae_path,omitempty"`
	BirthName         string `json:"birth_name"`
	UsageName         string `json:"usage_name,omitempty"`
	FirstName         string `json:"first_name"`
	BirthDate         string `json:"birth_date"`
	Sex               string `json:"sex"`
	// BirthINSEE is the commune's INSEE code for a birth in France, the country's
	// (99xxx) for a birth abroad; BirthPostal a postal code in France when the
	// commune's code is not known.
	BirthINSEE  string `json:"birth_insee,omitempty"`
	BirthPostal string `json:"birth_postal,omitempty"`
	// BirthCommune is the birth place's name, left out when longer than the flux
	// takes (it is optional there; never cut).
	BirthCommune     string `json:"birth_commune,omitempty"`
	BirthCountry     string `json:"birth_country,omitempty"`
	BirthCountryName string `json:"birth_country_name,omitempty"`
}

// Access is how the flux says a holder came to the certification.
type Access struct {
	// Modalite is modaliteAcces; VAEPath is voieAccessVAE, for VAE only.
	Modalite string
	VAEPath  string
}

// accessOf maps the access routes of RULES.md to modaliteAcces. A VAE is a
// VAE_CLASSIQUE: the API records no congé VAE.
var accessOf = map[certification.RouteID]Access{
	certification.RouteInitialTraining:             {Modalite: "FORMATION_INITIALE_HORS_APPRENTISSAGE"},
	certification.RouteApprenticeship:              {Modalite: "FORMATION_INITIALE_APPRENTISSAGE"},
	certification.RouteContinuingEducation:         {Modalite: "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION"},
	certification.RouteProfessionalisationContract: {Modalite: "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION"},
	certification.RouteIndividualApplication:       {Modalite: "CANDIDAT_LIBRE"},
	certification.RouteVAE:                         {Modalite: "VAE", VAEPath: "VAE_CLASSIQUE"},
}

// AccessOf returns the flux's access of a route; false for a route it has none for.
func AccessOf(r certification.RouteID) (Access, bool) {
	a, ok := accessOf[r]
	return a, ok
}

// Award is what one record is made of: a published award, its certificate, and
// its holder's registration.
type Award struct {
	DecisionID        string
	CertificationCode string
	AwardedOn         time.Time
	Holder            certification.Candidate
}

// IDTechnique is the record's technical id: the award decision's id, the same in
// every file the award goes into, so that the Caisse recognises a record sent again.
func IDTechnique(decisionID string) string { return decisionID }

// maxName is the flux's limit on names and labels.
const maxName = 60

// RecordOf makes the record of an award, or says every reason the flux cannot carry
// it: names are never cut, a birth country must have its INSEE code. Registration
// refuses such holders; what a record refuses here is older data.
func RecordOf(a Award) (Record, []certification.Violation) {
	h := a.Holder
	r := Record{IDTechnique: IDTechnique(a.DecisionID), CertificationCode: a.CertificationCode,
		AwardedOn: certification.Day(a.AwardedOn).Format(time.DateOnly), EnrolledOn: certification.Day(h.EnrolledOn).Format(time.DateOnly),
		BirthName: strings.TrimSpace(h.BirthName), UsageName: strings.TrimSpace(h.UsageName), FirstName: strings.TrimSpace(h.FirstName),
		BirthDate: certification.Day(h.BirthDate).Format(time.DateOnly), Sex: h.Sex}
	var vs []certification.Violation
	bad := func(format string, args ...any) {
		vs = append(vs, certification.Violation{Rule: certification.RuleHoldersDeclaration,
			Message: fmt.Sprintf("candidate %s: ", h.ID) + fmt.Sprintf(format, args...)})
	}
	if acc, ok := AccessOf(h.Route); ok {
		r.Access, r.VAEPath = acc.Modalite, acc.VAEPath
	} else {
		bad("the route %q has no modaliteAcces", h.Route)
	}
	for _, n := range []struct{ what, v string }{{"birth name", r.BirthName}, {"first name", r.FirstName}, {"usage name", r.UsageName}} {
		if l := utf8.RuneCountInString(n.v); l > maxName {
			bad("the %s has %d characters; the Caisse des Dépôts takes %d, and a name is never cut: correct the candidate's record", n.what, l, maxName)
		}
	}
	if r.BirthName == "" || r.FirstName == "" {
		bad("a holder is declared with a birth name and a first name")
	}
	if r.UsageName != "" && strings.EqualFold(r.UsageName, r.BirthName) {
		r.UsageName = ""
	}
	if y := h.BirthDate.Year(); y < 1900 || y > 2099 {
		bad("the birth year %d is outside the years the flux takes (1900 to 2099)", y)
	}
	if h.Sex != "F" && h.Sex != "M" {
		bad("the sex %q is neither F nor M", h.Sex)
	}
	if utf8.RuneCountInString(strings.TrimSpace(h.BirthPlace.Name)) <= maxName {
		r.BirthCommune = strings.TrimSpace(h.BirthPlace.Name)
	}
	bp := h.BirthPlace
	switch {
	case franceISO[bp.CountryCode]:
		switch {
		case bp.INSEECode != "" && !strings.HasPrefix(bp.INSEECode, "99"):
			r.BirthINSEE = bp.INSEECode
		case bp.PostalCode != "" && utf8.RuneCountInString(bp.PostalCode) <= 9:
			r.BirthPostal = bp.PostalCode
		default:
			bad("a birth in France is declared by the commune's INSEE code or a postal code of at most 9 characters")
		}
	default:
		c, ok := CountryOf(bp.CountryCode)
		if !ok {
			bad("the birth country %q has no INSEE country code", bp.CountryCode)
			break
		}
		r.BirthINSEE, r.BirthCountry, r.BirthCountryName = c.INSEE, c.Code(), c.Name
	}
	return r, vs
}

// certificationType is the register a certification code belongs to: RNCP26206 is
// of the RNCP, RS5286 of the Répertoire spécifique.
func certificationType(code string) string {
	i := strings.IndexFunc(code, func(r rune) bool { return r < 'A' || r > 'Z' })
	if i <= 0 {
		return code
	}
	return code[:i]
}
