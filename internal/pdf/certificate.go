package pdf

import (
	"errors"
	"fmt"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/apformation/certapi/internal/certification"
)

var titles = map[certification.CertificateKind]string{
	certification.KindCertificate: "Certificat",
	certification.KindAttestation: "Attestation de validation partielle",
}

// Certificate renders a certificate (award) or an attestation (partial validation);
// verifyURL is where anyone can check it.
func Certificate(c certification.Certificate, ref certification.Certification, verifyURL string) ([]byte, error) {
	if err := checkCertificate(c, ref); err != nil {
		return nil, fmt.Errorf("render certificate %s: %w", c.Number, err)
	}
	// A revocation changes what the document says, so it dates the change.
	modified := c.IssuedAt
	if c.Status == certification.CertificateRevoked {
		modified = *c.RevokedAt
	}
	f := newDocument(info{
		title:   titles[c.Kind] + " n° " + c.Number,
		subject: ref.Code + " — " + ref.Title + " — " + c.HolderName,
		author:  ref.Certifier, created: c.IssuedAt, modified: modified,
	})
	f.AddPage()
	f.Ln(15)
	paragraph(f, "B", 24, "C", titles[c.Kind])
	if c.Status == certification.CertificateRevoked {
		revoked(f, *c.RevokedAt)
	}
	f.Ln(12)
	if c.Kind == certification.KindCertificate {
		award(f, c, ref)
	} else {
		attestation(f, c, ref)
	}
	references(f, c, verifyURL)
	b, err := output(f)
	if err != nil {
		return nil, fmt.Errorf("render certificate %s: %w", c.Number, err)
	}
	return b, nil
}

// checkCertificate refuses a document that would misstate what it certifies.
func checkCertificate(c certification.Certificate, ref certification.Certification) error {
	switch {
	case titles[c.Kind] == "":
		return fmt.Errorf("unknown kind %q", c.Kind)
	case c.CertificationCode != ref.Code:
		return fmt.Errorf("the certificate is of %s, not %s", c.CertificationCode, ref.Code)
	case c.Status == certification.CertificateRevoked && c.RevokedAt == nil:
		return errors.New("the certificate is revoked but bears no revocation date")
	}
	return nil
}

// revoked says, under the title and in red, that the document no longer stands: a
// printed copy outlives its revocation.
func revoked(f *fpdf.Fpdf, on time.Time) {
	f.Ln(6)
	f.SetTextColor(190, 0, 0)
	paragraph(f, "B", 16, "C", "RÉVOQUÉ le "+date(on))
	paragraph(f, "", bodySize, "C", "Ce document n'a plus de valeur.")
	f.SetTextColor(0, 0, 0)
}

func award(f *fpdf.Fpdf, c certification.Certificate, ref certification.Certification) {
	paragraph(f, "", 12, "C", ref.Certifier+" certifie que")
	f.Ln(4)
	paragraph(f, "B", 18, "C", c.HolderName)
	f.Ln(4)
	paragraph(f, "", 12, "C", "a obtenu le "+date(c.AwardedOn)+", par décision du jury, la certification professionnelle")
	f.Ln(4)
	registration(f, ref)
}

func attestation(f *fpdf.Fpdf, c certification.Certificate, ref certification.Certification) {
	paragraph(f, "", 12, "C", ref.Certifier+" atteste que")
	f.Ln(4)
	paragraph(f, "B", 18, "C", c.HolderName)
	f.Ln(4)
	paragraph(f, "", 12, "C", "a acquis, par décision du jury du "+date(c.AwardedOn)+", des composantes de la certification professionnelle")
	f.Ln(4)
	registration(f, ref)
	heading(f, "Composantes acquises")
	for _, dc := range c.Components {
		item(f, component(ref, dc))
	}
	f.Ln(lineHeight)
	paragraph(f, "", bodySize, "L", "La certification est délivrée lorsque toutes ses composantes sont acquises et valables le jour de la délibération du jury.")
}

// registration names the certification as the RNCP registers it, each level on a
// line of its own so that no reference is split by a line break.
func registration(f *fpdf.Fpdf, ref certification.Certification) {
	paragraph(f, "B", 16, "C", ref.Title)
	f.Ln(2)
	paragraph(f, "", 11, "C", "enregistrée au Répertoire national des certifications professionnelles sous le code "+ref.Code)
	paragraph(f, "", 11, "C", fmt.Sprintf("niveau %d (cadre européen)", ref.LevelEQF))
	paragraph(f, "", 11, "C", "niveau "+ref.Level1969+" (nomenclature de 1969)")
}

// references gives what lets anyone check the document: its number and the
// address that answers for it.
func references(f *fpdf.Fpdf, c certification.Certificate, verifyURL string) {
	f.Ln(12)
	paragraph(f, "", bodySize, "L", "Numéro : "+c.Number)
	paragraph(f, "", bodySize, "L", "Délivré le "+date(c.IssuedAt))
	f.Write(lineHeight, "Vérification : ")
	f.WriteLinkString(lineHeight, verifyURL, verifyURL)
	f.Ln(lineHeight)
}
