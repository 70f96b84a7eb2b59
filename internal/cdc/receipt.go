package cdc

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apformation/certapi/internal/certification"
)

// The processing receipt (accusé de traitement) the Caisse des Dépôts answers a flux
// with, as its portal delivers it:
//
//	<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
//	  <nomFichier>….xml</nomFichier>
//	  <idFlux>the flux's idFlux</idFlux>
//	  <idTraitement>51354</idTraitement>
//	  <PassagesKO>
//	    <passage>
//	      <idTechnique>…</idTechnique>
//	      <messageErreur>Aucun titulaire ne correspond aux critères obligatoires</messageErreur>
//	    </passage>
//	  </PassagesKO>
//	  <PassagesOK>
//	    <idTechnique>…</idTechnique>
//	  </PassagesOK>
//	</rapport>
//
// Elements are matched by local name, whatever namespace prefix they carry.

// alreadyDeclared is how the Caisse rejects a record it holds already: the record was
// accepted by an earlier flux, so it counts as accepted.
const alreadyDeclared = "existe déjà"

// ErrNotReceipt is a body that is not a processing receipt.
var ErrNotReceipt = errors.New("not a processing receipt of the Caisse des Dépôts")

// ParseReceipt reads a processing receipt.
func ParseReceipt(r io.Reader) (certification.Receipt, error) {
	var out certification.Receipt
	dec := xml.NewDecoder(r)
	var path []string
	var text strings.Builder
	var pending certification.ReceiptLine
	root := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrNotReceipt, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) == 0 {
				if t.Name.Local != "rapport" {
					return out, fmt.Errorf("%w: its root element is %q, not rapport", ErrNotReceipt, clip(t.Name.Local))
				}
				root = true
			}
			path = append(path, t.Name.Local)
			text.Reset()
			if at(path, "PassagesKO", "passage") {
				pending = certification.ReceiptLine{}
			}
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			switch {
			case at(path, "rapport", "idFlux"):
				out.FluxID = v
			case at(path, "rapport", "idTraitement"):
				out.ProcessingID = v
			case at(path, "PassagesOK", "idTechnique"):
				out.Lines = append(out.Lines, certification.ReceiptLine{IDTechnique: v, Accepted: true})
			case at(path, "passage", "idTechnique"):
				pending.IDTechnique = v
			case at(path, "passage", "messageErreur"):
				pending.Message = v
			case at(path, "PassagesKO", "passage"):
				if pending.IDTechnique == "" {
					return out, fmt.Errorf("%w: a rejected passage without its idTechnique", ErrNotReceipt)
				}
				pending.Accepted = strings.Contains(strings.ToLower(pending.Message), alreadyDeclared)
				out.Lines = append(out.Lines, pending)
			}
			path = path[:len(path)-1]
			text.Reset()
		}
	}
	if !root {
		return out, fmt.Errorf("%w: the body is empty", ErrNotReceipt)
	}
	if out.FluxID == "" {
		return out, fmt.Errorf("%w: it names no idFlux", ErrNotReceipt)
	}
	return out, nil
}

// at reports whether the element being closed is child in parent.
func at(path []string, parent, child string) bool {
	n := len(path)
	return n >= 2 && path[n-1] == child && path[n-2] == parent
}

// clip shortens what a body names for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
