// Package pdf owns the printed form of the certifier's documents: the procès-verbal
// of a jury session and the certificate or attestation a decision issues, rendered
// as PDF in French. The fonts are compiled into the binary, so rendering reads
// nothing from disk or network, and any name the Go fonts can draw prints as typed.
package pdf

import (
	"bytes"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

const (
	family   = "Go"
	margin   = 20.0 // mm, on every side
	bodySize = 10.5 // pt
	// leading is the line height in mm per point of font size: 1.4 times the size,
	// a point being 0.353 mm.
	leading    = 0.5
	lineHeight = bodySize * leading
)

// info is what a document says about itself, and the instants it bears.
type info struct {
	title, subject, author string
	created, modified      time.Time
}

// newDocument starts an A4 document in the embedded Unicode fonts.
func newDocument(in info) *fpdf.Fpdf {
	f := fpdf.New("P", "mm", "A4", "")
	f.AddUTF8FontFromBytes(family, "", goregular.TTF)
	f.AddUTF8FontFromBytes(family, "B", gobold.TTF)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin)
	f.SetTitle(in.title, true)
	f.SetSubject(in.subject, true)
	f.SetAuthor(in.author, true)
	f.SetCreator(in.author, true)
	f.SetLang("fr-FR")
	// The same input gives the same bytes: the dates come from the data, not the
	// clock, and fpdf's catalogs are written in a fixed order.
	f.SetCreationDate(in.created)
	f.SetModificationDate(in.modified)
	f.SetCatalogSort(true)
	return f
}

// output closes the document. fpdf keeps the first error a drawing call meets and
// turns every later call into a no-op, so drawing is not checked call by call:
// Output returns that error.
func output(f *fpdf.Fpdf) ([]byte, error) {
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// keepSpace starts a new page unless h mm remain above the bottom margin, so that a
// heading never ends a page without the text it introduces.
func keepSpace(f *fpdf.Fpdf, h float64) {
	if _, pageHeight := f.GetPageSize(); f.GetY()+h > pageHeight-margin {
		f.AddPage()
	}
}

// heading writes a section title in bold, with the first lines of its section
// kept on the same page.
func heading(f *fpdf.Fpdf, text string) {
	f.Ln(lineHeight)
	keepSpace(f, 4*lineHeight)
	paragraph(f, "B", 12, "L", text)
}

// paragraph writes text wrapped to the page width; MultiCell breaks pages itself.
func paragraph(f *fpdf.Fpdf, style string, size float64, align, text string) {
	f.SetFont(family, style, size)
	f.MultiCell(0, size*leading, text, "", align, false)
	f.SetFont(family, "", bodySize)
}

// item writes one entry of a list, its wrapped lines aligned after the bullet.
func item(f *fpdf.Fpdf, text string) {
	f.CellFormat(5, lineHeight, "•", "", 0, "L", false, 0, "")
	indent(f, 5, func() { f.MultiCell(0, lineHeight, text, "", "L", false) })
}

// indent draws with the left margin moved w mm to the right, so that the lines a
// page break carries over stay indented too.
func indent(f *fpdf.Fpdf, w float64, draw func()) {
	left, _, _, _ := f.GetMargins()
	f.SetLeftMargin(left + w)
	f.SetX(left + w)
	draw()
	f.SetLeftMargin(left)
	f.SetX(left)
}
