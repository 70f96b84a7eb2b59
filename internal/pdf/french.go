package pdf

import (
	"fmt"
	"strings"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

var months = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet",
	"août", "septembre", "octobre", "novembre", "décembre"}

var outcomes = map[certification.Outcome]string{
	certification.OutcomeAward:   "Certification délivrée",
	certification.OutcomePartial: "Validation partielle",
	certification.OutcomeRefusal: "Refus",
}

var seats = map[certification.JuryRole]string{
	certification.PedagogicalDirector: "Directeur pédagogique",
	certification.Professional:        "Professionnel",
}

// date writes a day as French prose does ("1 octobre 2019"). Days of the domain are
// midnight UTC, and instants are read in UTC too, so that the date printed does not
// depend on the server's time zone.
func date(t time.Time) string {
	t = t.UTC()
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er" // the first of a month is written as an ordinal in French
	}
	return fmt.Sprintf("%s %s %d", day, months[t.Month()-1], t.Year())
}

// dateTime writes an instant in UTC and says so, so that every reader reads the
// same time.
func dateTime(t time.Time) string {
	return date(t) + " à " + t.UTC().Format("15:04") + " (UTC)"
}

// component writes a held component and, on a line of its own, its validity: the
// expiry decides whether the candidate must sit it again.
func component(ref certification.Certification, dc certification.DecidedComponent) string {
	name := dc.Component
	for _, c := range ref.Components {
		if c.ID == dc.Component {
			name += " — " + c.Title.FR
			break
		}
	}
	if dc.ValidUntil == nil {
		return name + "\nacquise définitivement le " + date(dc.AcquiredOn)
	}
	return name + "\nacquise le " + date(dc.AcquiredOn) + ", valable jusqu'au " + date(*dc.ValidUntil)
}

// place writes a site's name and postal address on one line; a French address
// needs no country.
func place(s certification.TrainingSite) string {
	parts := []string{s.Name, s.Address.Line1}
	if s.Address.Line2 != nil && *s.Address.Line2 != "" {
		parts = append(parts, *s.Address.Line2)
	}
	parts = append(parts, s.Address.PostalCode+" "+s.Address.City)
	if s.Address.CountryCode != "" && s.Address.CountryCode != "FR" {
		parts = append(parts, s.Address.CountryCode)
	}
	return strings.Join(parts, ", ")
}
