package certification_test

import (
	"testing"
	"time"

	"github.com/apformation/certapi/internal/certification"
)

// PUBLICATION: a result no jury has deliberated on is hidden from the candidate,
// and from their preparation site's staff when it is a defence; results held by
// the day of the latest session that published a decision on the candidate show.
func TestHidesResultOf(t *testing.T) {
	day := func(s string) *time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	held := time.Date(2019, 9, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		v    certification.Visibility
		comp certification.Component
		want bool
	}{
		{"the certifier's staff see everything", certification.Everything, e1, false},
		{"a candidate, no deliberation yet", certification.Visibility{Hide: true}, e1, true},
		{"a candidate, deliberated on before the sitting", certification.Visibility{Hide: true, DeliberatedThrough: day("2019-09-01")}, e1, true},
		{"a candidate, deliberated on the day of the sitting", certification.Visibility{Hide: true, DeliberatedThrough: day("2019-09-02")}, e1, false},
		{"a candidate, deliberated on after", certification.Visibility{Hide: true, DeliberatedThrough: day("2019-10-01")}, e4, false},
		{"a candidate's defence, no deliberation", certification.Visibility{Hide: true}, e4, true},
		{"site staff, a component they grade", certification.Visibility{Hide: true, DefencesOnly: true}, e1, false},
		{"site staff, a defence before the jury", certification.Visibility{Hide: true, DefencesOnly: true}, e4, true},
		{"site staff, a defence deliberated on", certification.Visibility{Hide: true, DefencesOnly: true, DeliberatedThrough: day("2019-09-30")}, e4, false},
	}
	for _, c := range cases {
		if got := c.v.HidesResultOf(c.comp, held); got != c.want {
			t.Errorf("%s: hidden %t, want %t", c.name, got, c.want)
		}
	}
}
