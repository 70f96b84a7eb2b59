package cdc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Namespace is the flux's namespace (schema 1.1.2 keeps the 1.0.0 namespace).
const Namespace = "urn:cdc:cpf:pc5:schema:1.0.0"

const xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"

// Header is what the flux says of itself: its id (idFlux, at most 50 characters),
// when it was made, and who issues it.
type Header struct {
	FluxID string
	At     time.Time
	Issuer Issuer
}

// ErrEmpty is a flux closed without a record: the schema wants at least one.
var ErrEmpty = errors.New("a flux declares at least one holder")

// Writer writes a flux record by record, as its records come: nothing but the
// element being written is held in memory. Records come grouped by certification
// code (each group is a certification element). Text is escaped by the encoder.
// Each record is one line: a flux of many holders stays compact, and readable a
// record at a time.
type Writer struct {
	enc  *xml.Encoder
	code string
	n    int
	err  error
}

// NewWriter writes the flux's header to w and returns the writer of its records.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if len(h.FluxID) == 0 || len(h.FluxID) > 50 {
		return nil, fmt.Errorf("idFlux %q: 1 to 50 characters", h.FluxID)
	}
	if vs := h.Issuer.Check(); len(vs) > 0 {
		return nil, fmt.Errorf("issuer: %s", vs[0].Message)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return nil, err
	}
	fw := &Writer{enc: xml.NewEncoder(w)}
	fw.start("flux", xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: Namespace},
		xml.Attr{Name: xml.Name{Local: "xmlns:xsi"}, Value: xsiNamespace})
	fw.text("idFlux", h.FluxID)
	fw.text("horodatage", timestamp(h.At))
	fw.start("emetteur")
	fw.text("idClient", h.Issuer.ClientID)
	fw.start("certificateurs")
	fw.start("certificateur")
	fw.text("idClient", h.Issuer.ClientID)
	fw.text("idContrat", h.Issuer.ContractID)
	fw.start("certifications")
	return fw, fw.err
}

// timestamp is horodatage as the schema's pattern has it: seconds, and an offset
// written +hh:mm (never Z).
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05") + "+00:00"
}

// Write adds a record to the flux.
func (fw *Writer) Write(r Record) error {
	if fw.err != nil {
		return fw.err
	}
	if r.CertificationCode != fw.code {
		if fw.code != "" {
			fw.newline()
			fw.end("passageCertifications")
			fw.end("certification")
		}
		fw.code = r.CertificationCode
		fw.newline()
		fw.start("certification")
		fw.text("type", certificationType(r.CertificationCode))
		fw.text("code", r.CertificationCode)
		fw.text("natureDeposant", "CERTIFICATEUR")
		fw.start("passageCertifications")
	}
	fw.newline()
	fw.start("passageCertification")
	fw.text("idTechnique", r.IDTechnique)
	fw.text("obtentionCertification", "PAR_ADMISSION")
	fw.text("donneeCertifiee", "true")
	fw.text("dateDebutValidite", r.AwardedOn)
	fw.nil("dateFinValidite")
	fw.text("presenceNiveauLangueEuro", "false")
	fw.text("presenceNiveauNumeriqueEuro", "false")
	fw.nil("scoring")
	fw.nil("mentionValidee")
	fw.start("modalitesInscription")
	fw.text("modaliteAcces", r.Access)
	if r.VAEPath != "" {
		fw.text("voieAccessVAE", r.VAEPath)
	}
	if r.EnrolledOn != "" {
		fw.text("dateInscription", r.EnrolledOn)
	}
	fw.end("modalitesInscription")
	fw.start("identificationTitulaire")
	fw.start("titulaire")
	fw.text("nomNaissance", r.BirthName)
	if r.UsageName != "" {
		fw.text("nomUsage", r.UsageName)
	} else {
		fw.nil("nomUsage")
	}
	fw.text("prenom1", r.FirstName)
	birth, err := time.Parse(time.DateOnly, r.BirthDate)
	if err != nil && fw.err == nil {
		fw.err = fmt.Errorf("record %s: birth date %q: %w", r.IDTechnique, r.BirthDate, err)
	}
	fw.text("anneeNaissance", strconv.Itoa(birth.Year()))
	fw.text("moisNaissance", strconv.Itoa(int(birth.Month())))
	fw.text("jourNaissance", strconv.Itoa(birth.Day()))
	fw.text("sexe", r.Sex)
	fw.start("codeCommuneNaissance")
	if r.BirthINSEE != "" {
		fw.start("codeInseeNaissance")
		fw.text("codeInsee", r.BirthINSEE)
		fw.end("codeInseeNaissance")
	} else {
		fw.start("codePostalNaissance")
		fw.text("codePostal", r.BirthPostal)
		fw.end("codePostalNaissance")
	}
	fw.end("codeCommuneNaissance")
	if r.BirthCommune != "" {
		fw.text("libelleCommuneNaissance", r.BirthCommune)
	}
	if r.BirthCountry != "" {
		fw.text("codePaysNaissance", r.BirthCountry)
		fw.text("libellePaysNaissance", r.BirthCountryName)
	}
	fw.end("titulaire")
	fw.end("identificationTitulaire")
	fw.end("passageCertification")
	if fw.err == nil {
		fw.n++
	}
	return fw.err
}

// Close ends the flux; ErrEmpty when no record was written, since the schema
// refuses an empty flux.
func (fw *Writer) Close() error {
	if fw.err != nil {
		return fw.err
	}
	if fw.n == 0 {
		return ErrEmpty
	}
	fw.newline()
	fw.end("passageCertifications")
	fw.end("certification")
	for _, name := range []string{"certifications", "certificateur", "certificateurs", "emetteur", "flux"} {
		fw.end(name)
	}
	fw.newline()
	if fw.err == nil {
		fw.err = fw.enc.Close()
	}
	return fw.err
}

// Records is how many records were written.
func (fw *Writer) Records() int { return fw.n }

func (fw *Writer) start(name string, attrs ...xml.Attr) {
	if fw.err == nil {
		fw.err = fw.enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs})
	}
}

func (fw *Writer) end(name string) {
	if fw.err == nil {
		fw.err = fw.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
	}
}

func (fw *Writer) text(name, value string) {
	fw.start(name)
	if fw.err == nil {
		fw.err = fw.enc.EncodeToken(xml.CharData(value))
	}
	fw.end(name)
}

// newline ends a line of the flux: whitespace between elements, which the schema
// ignores.
func (fw *Writer) newline() {
	if fw.err == nil {
		fw.err = fw.enc.EncodeToken(xml.CharData("\n"))
	}
}

// nil writes an element the schema requires but this declaration has no value for.
func (fw *Writer) nil(name string) {
	fw.start(name, xml.Attr{Name: xml.Name{Local: "xsi:nil"}, Value: "true"})
	fw.end(name)
}
