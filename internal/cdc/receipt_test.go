package cdc_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/certification"
)

// A receipt as the Caisse's portal delivers it.
const receipt = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema">
    <nomFichier>0190a1b2-0000-7000-8000-0000000000fa.xml</nomFichier>
    <idFlux>0190a1b2-0000-7000-8000-0000000000fa</idFlux>
    <idTraitement>51354</idTraitement>
    <PassagesKO>
        <passage>
            <idTechnique>d2</idTechnique>
            <messageErreur>Aucun titulaire ne correspond aux critères obligatoires</messageErreur>
        </passage>
        <passage>
            <idTechnique>d3</idTechnique>
            <messageErreur>Le passage de certification d3 existe déjà en base</messageErreur>
        </passage>
    </PassagesKO>
    <PassagesOK>
        <idTechnique>d1</idTechnique>
        <idTechnique>d4</idTechnique>
    </PassagesOK>
</rapport>`

func TestParseReceipt(t *testing.T) {
	got, err := cdc.ParseReceipt(strings.NewReader(receipt))
	if err != nil {
		t.Fatal(err)
	}
	want := certification.Receipt{FluxID: "0190a1b2-0000-7000-8000-0000000000fa", ProcessingID: "51354", Lines: []certification.ReceiptLine{
		{IDTechnique: "d2", Message: "Aucun titulaire ne correspond aux critères obligatoires"},
		{IDTechnique: "d3", Accepted: true, Message: "Le passage de certification d3 existe déjà en base"},
		{IDTechnique: "d1", Accepted: true},
		{IDTechnique: "d4", Accepted: true},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// Prefixed elements are read by their local names.
func TestParseReceiptWithPrefixes(t *testing.T) {
	doc := `<ns2:rapport xmlns:ns2="urn:cdc:cpf:pc5:rapport:schema"><ns2:idFlux>f</ns2:idFlux>
<ns2:PassagesKO><ns2:passage><ns2:idTechnique>a</ns2:idTechnique><ns2:messageErreur>Plusieurs titulaires ont été identifiés</ns2:messageErreur></ns2:passage></ns2:PassagesKO>
<ns2:PassagesOK/></ns2:rapport>`
	got, err := cdc.ParseReceipt(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got.FluxID != "f" || len(got.Lines) != 1 || got.Lines[0] != (certification.ReceiptLine{IDTechnique: "a", Message: "Plusieurs titulaires ont été identifiés"}) {
		t.Fatalf("%+v", got)
	}
}

func TestParseReceiptRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":                      "",
		"not XML":                    "idTechnique;statut\nd1;OK\n",
		"not well-formed":            "<rapport><idFlux>f</rapport>",
		"another document":           `<flux xmlns="urn:cdc:cpf:pc5:schema:1.0.0"><idFlux>f</idFlux></flux>`,
		"no idFlux":                  "<rapport><PassagesOK><idTechnique>d1</idTechnique></PassagesOK></rapport>",
		"a rejection without its id": "<rapport><idFlux>f</idFlux><PassagesKO><passage><messageErreur>x</messageErreur></passage></PassagesKO></rapport>",
		"an undefined entity":        "<rapport><idFlux>&boom;</idFlux></rapport>",
	} {
		if _, err := cdc.ParseReceipt(strings.NewReader(doc)); !errors.Is(err, cdc.ErrNotReceipt) {
			t.Errorf("%s: %v, want ErrNotReceipt", name, err)
		}
	}
}
