package certification

import (
	"fmt"
	"strings"
	"time"
)

// BirthCountries says how the holders declaration names a country of birth, given
// by its ISO 3166 alpha-2 code: a holder born in France (overseas included) by their
// commune's code, one born abroad by the country's INSEE code.
type BirthCountries interface {
	InFrance(iso string) bool
	Abroad(iso string) bool
}

// CheckDeclarableBirthPlace enforces HOLDERS-DECLARATION at registration: a holder's
// birth place must be one the declaration to the Caisse des Dépôts can carry, so
// that a registration is refused now rather than an award undeclarable later. A
// country needs an INSEE country code; a commune in France is a commune code (99xxx
// codes are countries) or a postal code of at most 9 characters, the flux's limit.
func CheckDeclarableBirthPlace(bp BirthPlace, countries BirthCountries) []Violation {
	switch {
	case countries.InFrance(bp.CountryCode):
		if strings.HasPrefix(bp.INSEECode, "99") {
			return []Violation{{Rule: RuleHoldersDeclaration, Field: "/birth_place/insee_code",
				Message: "a birth in France is declared by the commune's INSEE code; " + bp.INSEECode + " is the code of a country abroad"}}
		}
		if bp.INSEECode == "" && len([]rune(bp.PostalCode)) > 9 {
			return []Violation{{Rule: RuleHoldersDeclaration, Field: "/birth_place/postal_code",
				Message: "the declaration to the Caisse des Dépôts takes a postal code of at most 9 characters"}}
		}
	case !countries.Abroad(bp.CountryCode):
		return []Violation{{Rule: RuleHoldersDeclaration, Field: "/birth_place/country_code",
			Message: fmt.Sprintf("%q has no INSEE country code: a holder born there could not be declared to the Caisse des Dépôts", bp.CountryCode)}}
	}
	return nil
}

// DeclarationState is where an award stands in its declaration to the Caisse des
// Dépôts.
type DeclarationState string

// The states of an award's declaration: not in any file yet; in a file whose
// receipt is awaited; accepted by the Caisse; rejected, with its message, and so due
// in the next file.
const (
	NotDeclared DeclarationState = "not_declared"
	InFile      DeclarationState = "in_file"
	Accepted    DeclarationState = "accepted"
	Rejected    DeclarationState = "rejected"
)

// DeclarationMonths is the legal delay of HOLDERS-DECLARATION: an award is declared
// within three months.
const DeclarationMonths = 3

// DueOn is the last day an award of awardedOn may be declared on.
func DueOn(awardedOn time.Time) time.Time { return AddMonths(awardedOn, DeclarationMonths) }

// DueCutoff is the first award day whose deadline falls on or after day: the awards
// due before day are exactly those awarded before it (DueOn never decreases).
func DueCutoff(day time.Time) time.Time {
	day = Day(day)
	c := AddMonths(day, -DeclarationMonths)
	for DueOn(c).Before(day) {
		c = c.AddDate(0, 0, 1)
	}
	for !DueOn(c.AddDate(0, 0, -1)).Before(day) {
		c = c.AddDate(0, 0, -1)
	}
	return c
}

// CheckDeclarationPeriod checks the period of a holders declaration: from its first
// day to its last.
func CheckDeclarationPeriod(from, to time.Time) []Violation {
	if Day(from).After(Day(to)) {
		return []Violation{{Field: "/from", Message: "the period starts on or before its last day, " + Day(to).Format(time.DateOnly)}}
	}
	return nil
}

// DeclarationFile is a holders declaration made to be sent to the Caisse des Dépôts:
// the awards it carries are recorded with it, each awaiting the Caisse's receipt.
type DeclarationFile struct {
	ID        string
	CreatedAt time.Time
	// AwardedTo is the last award day the file covers.
	AwardedTo time.Time
	// ClientID and ContractID are the certifier's ids at the Caisse when the file
	// was made.
	ClientID   string
	ContractID string
	Records    int
	Accepted   int
	Rejected   int
	// ReceiptImportedAt is when the Caisse's processing receipt was imported; nil
	// while it is awaited.
	ReceiptImportedAt *time.Time
	// ProcessingID is the Caisse's number for its processing of the file, from the
	// receipt.
	ProcessingID string
}

// CheckDeclarationFile refuses a file with no record: a flux declares at least one
// holder, and HOLDERS-DECLARATION has nothing to send.
func CheckDeclarationFile(awardedTo time.Time, records int) error {
	if records == 0 {
		return Check([]Violation{{Rule: RuleHoldersDeclaration, Field: "/awarded_to",
			Message: "no award up to " + Day(awardedTo).Format(time.DateOnly) + " is left to declare: every one is accepted or in a file awaiting its receipt"}})
	}
	return nil
}

// AwardDeclaration is an award and where its declaration stands.
type AwardDeclaration struct {
	DecisionID        string
	CertificateNumber string
	CandidateID       string
	HolderName        string
	AwardedOn         time.Time
	IDTechnique       string
	State             DeclarationState
	// FileID is the latest file the award went into; empty while not declared.
	FileID string
	// Message is the Caisse's message on a rejection.
	Message string
}

// DueOn is the award's legal deadline.
func (a AwardDeclaration) DueOn() time.Time { return DueOn(a.AwardedOn) }

// Receipt is what the Caisse des Dépôts' processing receipt of a file says.
type Receipt struct {
	// FluxID is the idFlux of the file the receipt answers.
	FluxID       string
	ProcessingID string
	Lines        []ReceiptLine
}

// ReceiptLine is the receipt's word on one record.
type ReceiptLine struct {
	IDTechnique string
	Accepted    bool
	Message     string
}

// RecordOutcome is what a record of a file becomes once its receipt is imported.
type RecordOutcome struct {
	IDTechnique string
	State       DeclarationState
	Message     string
}

// MaxRejectionMessage is the longest message of the Caisse an award keeps.
const MaxRejectionMessage = 2000

// maxReceiptViolations bounds the violations a refused receipt lists.
const maxReceiptViolations = 100

// DecideReceipt imports the receipt of a file whose records are the idTechniques
// given, in the file's order: once per file; only the file's own receipt, about its
// own records. Each record is accepted or rejected; one the receipt does not mention
// counts as rejected, so that it goes out again in the next file.
func DecideReceipt(f DeclarationFile, records []string, r Receipt, now time.Time) (DeclarationFile, []RecordOutcome, error) {
	if f.ReceiptImportedAt != nil {
		return f, nil, &ConflictError{Code: "receipt_imported",
			Message: "the receipt of this file was imported on " + f.ReceiptImportedAt.UTC().Format(time.RFC3339) + "; a file has one receipt"}
	}
	if r.FluxID != f.ID {
		return f, nil, Check([]Violation{{Field: "/rapport/idFlux",
			Message: fmt.Sprintf("the receipt answers the flux %q, not this file (%s)", clip(r.FluxID, 100), f.ID)}})
	}
	inFile := make(map[string]bool, len(records))
	for _, id := range records {
		inFile[id] = true
	}
	said := make(map[string]ReceiptLine, len(r.Lines))
	var vs []Violation
	for _, l := range r.Lines {
		if !inFile[l.IDTechnique] {
			if len(vs) < maxReceiptViolations {
				vs = append(vs, Violation{Field: "/rapport", Message: fmt.Sprintf("the receipt names %q, which is not a record of this file", clip(l.IDTechnique, 300))})
			}
			continue
		}
		if prev, ok := said[l.IDTechnique]; ok && prev.Accepted {
			continue
		}
		said[l.IDTechnique] = l
	}
	if err := Check(vs); err != nil {
		return f, nil, err
	}
	out := make([]RecordOutcome, len(records))
	f.Accepted, f.Rejected = 0, 0
	for i, id := range records {
		l, ok := said[id]
		switch {
		case !ok:
			out[i] = RecordOutcome{IDTechnique: id, State: Rejected, Message: "the receipt does not mention this record: it goes out again in the next file"}
		case l.Accepted:
			out[i] = RecordOutcome{IDTechnique: id, State: Accepted}
		default:
			msg := strings.TrimSpace(l.Message)
			if msg == "" {
				msg = "rejected without a message"
			}
			out[i] = RecordOutcome{IDTechnique: id, State: Rejected, Message: clip(msg, MaxRejectionMessage)}
		}
		if out[i].State == Accepted {
			f.Accepted++
		} else {
			f.Rejected++
		}
	}
	f.ReceiptImportedAt, f.ProcessingID = &now, clip(r.ProcessingID, 100)
	return f, out, nil
}

// clip shortens s to at most n characters, marking the cut: for what a receipt
// quotes, which may be anything.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
