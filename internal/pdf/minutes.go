package pdf

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/go-pdf/fpdf"

	"github.com/apformation/certapi/internal/certification"
)

// Minutes renders the procès-verbal of a closed jury session.
func Minutes(m certification.Minutes) ([]byte, error) {
	if err := checkMinutes(m); err != nil {
		return nil, fmt.Errorf("render minutes of session %s: %w", m.Session.ID, err)
	}
	ref, closed := m.Certification, *m.Session.ClosedAt
	f := newDocument(info{
		title:   "Procès-verbal de délibération du jury — " + ref.Code + " — session " + m.Session.ID,
		subject: "Délibération du jury du " + date(m.Session.HeldOn) + " — " + ref.Code + " " + ref.Title,
		author:  ref.Certifier, created: closed, modified: closed,
	})
	// Every page names its session and says how many there are, so that a missing
	// or stray page of a signed procès-verbal shows.
	f.AliasNbPages("")
	footer := "Procès-verbal — " + ref.Code + " — session " + m.Session.ID + " — page "
	f.SetFooterFunc(func() {
		f.SetY(-margin + 5)
		f.SetFont(family, "", 8)
		f.CellFormat(0, 5, footer+strconv.Itoa(f.PageNo())+"/{nb}", "", 0, "C", false, 0, "")
	})
	f.AddPage()
	minutesHeader(f, m)
	heading(f, "Membres du jury présents")
	for _, mem := range m.Members {
		item(f, mem.FullName+" — "+seats[mem.Role]+" — "+mem.Organisation)
	}
	heading(f, "Décisions")
	for i, e := range m.Entries {
		minutesEntry(f, ref, i+1, e)
	}
	minutesSignatures(f, m)
	b, err := output(f)
	if err != nil {
		return nil, fmt.Errorf("render minutes of session %s: %w", m.Session.ID, err)
	}
	return b, nil
}

// checkMinutes refuses minutes the document cannot state truthfully: a session
// still open, a member who has not signed, or a seat or outcome it has no words for.
func checkMinutes(m certification.Minutes) error {
	if m.Session.ClosedAt == nil {
		return errors.New("the session is not closed")
	}
	for _, mem := range m.Members {
		if _, ok := seats[mem.Role]; !ok {
			return fmt.Errorf("member %s has an unknown seat %q", mem.FullName, mem.Role)
		}
		if mem.SignedAt.IsZero() {
			return fmt.Errorf("member %s has not signed", mem.FullName)
		}
	}
	for _, e := range m.Entries {
		if _, ok := outcomes[e.Outcome]; !ok {
			return fmt.Errorf("decision %s has an unknown outcome %q", e.ID, e.Outcome)
		}
	}
	return nil
}

func minutesHeader(f *fpdf.Fpdf, m certification.Minutes) {
	ref := m.Certification
	paragraph(f, "B", 16, "C", "Procès-verbal de délibération du jury")
	f.Ln(2)
	paragraph(f, "B", 12, "C", ref.Code+" — "+ref.Title)
	paragraph(f, "", bodySize, "C", "Certificateur : "+ref.Certifier)
	f.Ln(lineHeight)
	paragraph(f, "", bodySize, "L", "Date de la session : "+date(m.Session.HeldOn))
	paragraph(f, "", bodySize, "L", "Lieu : "+place(m.Site))
	paragraph(f, "", bodySize, "L", "Référence de la session : "+m.Session.ID)
}

// minutesEntry writes one decision. Its reference is printed because a later
// correction names the decision it corrects by it.
func minutesEntry(f *fpdf.Fpdf, ref certification.Certification, n int, e certification.MinutesEntry) {
	f.Ln(3)
	keepSpace(f, 4*lineHeight)
	paragraph(f, "B", bodySize, "L", strconv.Itoa(n)+". "+e.CandidateName)
	indent(f, 5, func() {
		paragraph(f, "", bodySize, "L", "Décision : "+outcomes[e.Outcome]+" (référence "+e.ID+")")
		if e.Revision > 1 {
			paragraph(f, "", bodySize, "L", "Rectification de la décision "+e.CorrectsID)
		}
		if len(e.Components) == 0 {
			paragraph(f, "", bodySize, "L", "Aucune composante acquise.")
		} else {
			paragraph(f, "", bodySize, "L", "Composantes acquises :")
			indent(f, 5, func() {
				for _, c := range e.Components {
					item(f, component(ref, c))
				}
			})
		}
		paragraph(f, "", bodySize, "L", "Motif : "+e.Reason)
	})
}

func minutesSignatures(f *fpdf.Fpdf, m certification.Minutes) {
	heading(f, "Signatures")
	for _, mem := range m.Members {
		item(f, mem.FullName+" — signé le "+dateTime(mem.SignedAt))
	}
	f.Ln(lineHeight)
	paragraph(f, "B", bodySize, "L", "Clos le "+dateTime(*m.Session.ClosedAt))
}
