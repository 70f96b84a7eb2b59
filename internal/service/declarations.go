package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/idempotency"
)

// DeclarationsTx is what the declarations use cases read and write in a unit of work.
type DeclarationsTx interface {
	// CertificationCodes lists the codes of the certifications, in order.
	CertificationCodes() ([]string, error)
	// HolderAwards reads a page of the awards to declare, with their holders: the
	// valid certificates of current award decisions, in decision order.
	HolderAwards(f AwardFilter) ([]cdc.Award, error)
	// AwardDeclarations reads a page of the awards and where their declarations
	// stand, the earliest deadline first.
	AwardDeclarations(f AwardDeclarationFilter) ([]certification.AwardDeclaration, error)

	DeclarationFiles(p Page) ([]certification.DeclarationFile, error)
	DeclarationFile(id string) (certification.DeclarationFile, error)
	LockDeclarationFile(id string) (certification.DeclarationFile, error)
	InsertDeclarationFile(f certification.DeclarationFile) error
	UpdateDeclarationFile(f certification.DeclarationFile) error
	// InsertDeclarationRecords adds records to a file and puts their awards in it;
	// ErrDeclarationFileRace when another file took one of them meanwhile.
	InsertDeclarationRecords(fileID string, records []DeclarationRecord, at time.Time) error
	// DeclarationRecords reads a page of a file's records, in the file's order,
	// after the ordinal after.
	DeclarationRecords(fileID string, after, limit int) ([]DeclarationRecord, error)
	// DeclarationRecordIDs lists the idTechniques of a file's records, in order.
	DeclarationRecordIDs(fileID string) ([]string, error)
	// SettleDeclarationRecords records what the receipt made of a file's records,
	// and sets their awards' declaration states.
	SettleDeclarationRecords(fileID string, outcomes []certification.RecordOutcome, at time.Time) error
}

// AwardFilter selects awards to declare.
type AwardFilter struct {
	CertificationCode string
	// From and To bound the award day, both included.
	From, To *time.Time
	// Undeclared keeps the awards that no file holds, or whose record the Caisse
	// rejected.
	Undeclared bool
	// After is the decision id the page starts after.
	After string
	Limit int
}

// AwardDeclarationFilter selects awards by where their declaration stands.
type AwardDeclarationFilter struct {
	State certification.DeclarationState
	// AwardedBefore keeps the awards of the days before it that the Caisse has not
	// accepted.
	AwardedBefore *time.Time
	After         *AwardCursor
	Limit         int
}

// AwardCursor is where a page of awards in deadline order starts after.
type AwardCursor struct {
	AwardedOn  time.Time
	DecisionID string
}

// DeclarationRecord is one record of a declaration file.
type DeclarationRecord struct {
	Ordinal    int
	DecisionID string
	Record     cdc.Record
	State      certification.DeclarationState
	Message    string
}

// ErrDeclarationFileRace is a declaration file made while another took some of the
// same awards: an award goes into one file at a time.
var ErrDeclarationFileRace = &certification.ConflictError{Code: "declaration_file_concurrent",
	Message: "another declaration file took some of these awards meanwhile: list the files, and make this one again for what is left"}

// declarationPage is how many awards or records a page of a flux reads: enough that
// the queries cost little beside the writing, few enough that memory stays flat.
const declarationPage = 1000

// maxDeclarationViolations bounds the violations a refused declaration lists.
const maxDeclarationViolations = 100

// HoldersFlux is a holders declaration ready to be written: its records are read
// page by page as it is written, so that memory stays flat however many there are.
type HoldersFlux struct {
	s      *Service
	header cdc.Header
	// next returns the next page of records; none when the flux is complete.
	next func(ctx context.Context) ([]cdc.Record, error)
}

// FluxID is the flux's idFlux.
func (f *HoldersFlux) FluxID() string { return f.header.FluxID }

// WriteTo writes the flux to w. An error once writing has begun leaves w with part of
// a flux: it is logged here, and the caller cuts the transfer short.
func (f *HoldersFlux) WriteTo(ctx context.Context, w io.Writer) error {
	err := f.write(ctx, w)
	if err != nil {
		f.s.log.ErrorContext(ctx, "holders declaration cut short", "flux", f.header.FluxID, "error", err.Error())
	}
	return err
}

func (f *HoldersFlux) write(ctx context.Context, w io.Writer) error {
	fw, err := cdc.NewWriter(w, f.header)
	if err != nil {
		return err
	}
	for {
		records, err := f.next(ctx)
		if err != nil {
			return err
		}
		if len(records) == 0 {
			return fw.Close()
		}
		for _, r := range records {
			if err := fw.Write(r); err != nil {
				return err
			}
		}
	}
}

// awardPages reads the awards a filter selects a page at a time, certification by
// certification (a flux groups them so), each page along the decisions' order from
// where the last stopped.
type awardPages struct {
	read   func(fn func(Tx) error) error
	filter AwardFilter
	codes  []string
	loaded bool
}

func newAwardPages(read func(fn func(Tx) error) error, f AwardFilter) *awardPages {
	f.Limit = declarationPage
	return &awardPages{read: read, filter: f}
}

// next returns the next page of awards; none once every award is read.
func (p *awardPages) next() ([]cdc.Award, error) {
	if !p.loaded {
		if err := p.read(func(tx Tx) error {
			var err error
			p.codes, err = tx.CertificationCodes()
			return err
		}); err != nil {
			return nil, err
		}
		p.loaded = true
	}
	for len(p.codes) > 0 {
		p.filter.CertificationCode = p.codes[0]
		var page []cdc.Award
		if err := p.read(func(tx Tx) error {
			var err error
			page, err = tx.HolderAwards(p.filter)
			return err
		}); err != nil {
			return nil, err
		}
		if len(page) < p.filter.Limit {
			p.codes, p.filter.After = p.codes[1:], ""
		} else {
			p.filter.After = page[len(page)-1].DecisionID
		}
		if len(page) > 0 {
			return page, nil
		}
	}
	return nil, nil
}

// eachAward calls fn on every award the filter selects.
func eachAward(read func(fn func(Tx) error) error, f AwardFilter, fn func(cdc.Award) error) error {
	pages := newAwardPages(read, f)
	for {
		page, err := pages.next()
		if err != nil || len(page) == 0 {
			return err
		}
		for _, a := range page {
			if err := fn(a); err != nil {
				return err
			}
		}
	}
}

// ExportHolders prepares the holders declaration of the awards of [from, to], as a
// flux of its own that nothing records (HOLDERS-DECLARATION). Every record is
// checked before anything is written: the Caisse rejects a flux whole, so a flux
// with one record it cannot carry is refused with every such record named.
func (s *Service) ExportHolders(ctx context.Context, issuer cdc.Issuer, from, to time.Time) (*HoldersFlux, error) {
	from, to = certification.Day(from), certification.Day(to)
	if err := certification.Check(issuer.Check(), certification.CheckDeclarationPeriod(from, to)); err != nil {
		return nil, err
	}
	read := func(fn func(Tx) error) error { return s.store.Read(ctx, fn) }
	f := AwardFilter{From: &from, To: &to}
	n := 0
	var vs []certification.Violation
	err := eachAward(read, f, func(a cdc.Award) error {
		_, bad := cdc.RecordOf(a)
		vs = appendCapped(vs, bad)
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := certification.Check(vs); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, certification.Check([]certification.Violation{{Rule: certification.RuleHoldersDeclaration, Field: "/from",
			Message: fmt.Sprintf("no award from %s to %s: a flux declares at least one holder", from.Format(time.DateOnly), to.Format(time.DateOnly))}})
	}
	return s.awardsFlux(cdc.Header{FluxID: newID(), At: s.Now(), Issuer: issuer}, f), nil
}

// awardsFlux streams the awards the filter selects, a page at a time.
func (s *Service) awardsFlux(h cdc.Header, f AwardFilter) *HoldersFlux {
	var ctx context.Context
	pages := newAwardPages(func(fn func(Tx) error) error { return s.store.Read(ctx, fn) }, f)
	next := func(c context.Context) ([]cdc.Record, error) {
		ctx = c
		page, err := pages.next()
		if err != nil {
			return nil, err
		}
		records := make([]cdc.Record, len(page))
		for i, a := range page {
			var vs []certification.Violation
			if records[i], vs = cdc.RecordOf(a); len(vs) > 0 {
				return nil, certification.Check(vs)
			}
		}
		return records, nil
	}
	return &HoldersFlux{s: s, header: h, next: next}
}

// appendCapped adds violations up to the bound a problem lists.
func appendCapped(vs, more []certification.Violation) []certification.Violation {
	for _, v := range more {
		if len(vs) == maxDeclarationViolations {
			break
		}
		vs = append(vs, v)
	}
	return vs
}

// CreateDeclarationFile puts into a new file every award up to awardedTo that no
// file holds, or whose record the Caisse rejected (it goes out again with the same
// idTechnique); each is then in that file until its receipt is imported. An award
// already in a file awaiting its receipt stays out.
func (s *Service) CreateDeclarationFile(ctx context.Context, issuer cdc.Issuer, awardedTo time.Time) (certification.DeclarationFile, error) {
	awardedTo = certification.Day(awardedTo)
	if err := certification.Check(issuer.Check()); err != nil {
		return certification.DeclarationFile{}, err
	}
	var f certification.DeclarationFile
	err := s.store.Write(ctx, func(tx Tx) error {
		now := s.Now()
		f = certification.DeclarationFile{ID: newID(), CreatedAt: now, AwardedTo: awardedTo,
			ClientID: issuer.ClientID, ContractID: issuer.ContractID}
		if err := tx.InsertDeclarationFile(f); err != nil {
			return err
		}
		var vs []certification.Violation
		batch := make([]DeclarationRecord, 0, declarationPage)
		// A file refused for a record it cannot carry writes no more records: it
		// is rolled back once every such record is named.
		flush := func() error {
			defer func() { batch = batch[:0] }()
			if len(batch) == 0 || len(vs) > 0 {
				return nil
			}
			return tx.InsertDeclarationRecords(f.ID, batch, now)
		}
		read := func(fn func(Tx) error) error { return fn(tx) }
		err := eachAward(read, AwardFilter{To: &awardedTo, Undeclared: true}, func(a cdc.Award) error {
			r, bad := cdc.RecordOf(a)
			vs = appendCapped(vs, bad)
			f.Records++
			batch = append(batch, DeclarationRecord{Ordinal: f.Records, DecisionID: a.DecisionID, Record: r, State: certification.InFile})
			if len(batch) == declarationPage {
				return flush()
			}
			return nil
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			return err
		}
		if err := certification.Check(vs); err != nil {
			return err
		}
		if err := certification.CheckDeclarationFile(awardedTo, f.Records); err != nil {
			return err
		}
		if err := tx.UpdateDeclarationFile(f); err != nil {
			return err
		}
		idempotency.Result(ctx, f)
		return s.audit(ctx, tx, "create", "declaration_file", f.ID, map[string]any{"awarded_to": awardedTo.Format(time.DateOnly),
			"records": f.Records, "client_id": f.ClientID, "contract_id": f.ContractID})
	})
	return f, err
}

// ListDeclarationFiles lists the declaration files, newest first.
func (s *Service) ListDeclarationFiles(ctx context.Context, p Page) ([]certification.DeclarationFile, error) {
	return read(ctx, s, func(tx Tx) ([]certification.DeclarationFile, error) { return tx.DeclarationFiles(p) })
}

// GetDeclarationFile returns a declaration file.
func (s *Service) GetDeclarationFile(ctx context.Context, id string) (certification.DeclarationFile, error) {
	return read(ctx, s, func(tx Tx) (certification.DeclarationFile, error) { return tx.DeclarationFile(id) })
}

// DeclarationFileFlux prepares a file's XML, written again from the records the file
// keeps, under the ids and time it was made with: the same flux, whatever changed
// since.
func (s *Service) DeclarationFileFlux(ctx context.Context, id string) (*HoldersFlux, error) {
	f, err := s.GetDeclarationFile(ctx, id)
	if err != nil {
		return nil, err
	}
	after := 0
	next := func(ctx context.Context) ([]cdc.Record, error) {
		var page []DeclarationRecord
		if err := s.store.Read(ctx, func(tx Tx) error {
			var err error
			page, err = tx.DeclarationRecords(f.ID, after, declarationPage)
			return err
		}); err != nil {
			return nil, err
		}
		out := make([]cdc.Record, len(page))
		for i, r := range page {
			out[i] = r.Record
			after = r.Ordinal
		}
		return out, nil
	}
	h := cdc.Header{FluxID: f.ID, At: f.CreatedAt, Issuer: cdc.Issuer{ClientID: f.ClientID, ContractID: f.ContractID}}
	return &HoldersFlux{s: s, header: h, next: next}, nil
}

// ImportDeclarationReceipt imports the Caisse des Dépôts' processing receipt of a
// file, once: accepted records make their awards declared; rejected ones, with the
// Caisse's message, wait for the next file.
func (s *Service) ImportDeclarationReceipt(ctx context.Context, id string, body []byte) (certification.DeclarationFile, error) {
	var f certification.DeclarationFile
	err := s.store.Write(ctx, func(tx Tx) error {
		var err error
		if f, err = tx.LockDeclarationFile(id); err != nil {
			return err
		}
		r, err := parseReceipt(body)
		if err != nil {
			return err
		}
		ids, err := tx.DeclarationRecordIDs(f.ID)
		if err != nil {
			return err
		}
		now := s.Now()
		after, outcomes, err := certification.DecideReceipt(f, ids, r, now)
		if err != nil {
			return err
		}
		if err := tx.SettleDeclarationRecords(f.ID, outcomes, now); err != nil {
			return err
		}
		if err := tx.UpdateDeclarationFile(after); err != nil {
			return err
		}
		f = after
		return s.audit(ctx, tx, "import_receipt", "declaration_file", f.ID, map[string]any{"accepted": f.Accepted,
			"rejected": f.Rejected, "processing_id": f.ProcessingID})
	})
	return f, err
}

// parseReceipt reads a receipt; a body that is none is a violation to report, not
// a failure.
func parseReceipt(body []byte) (certification.Receipt, error) {
	r, err := cdc.ParseReceipt(bytes.NewReader(body))
	if errors.Is(err, cdc.ErrNotReceipt) {
		msg := err.Error()
		if rs := []rune(msg); len(rs) > 500 {
			msg = string(rs[:500]) + "…"
		}
		return r, certification.Check([]certification.Violation{{Field: "/rapport", Message: msg}})
	}
	return r, err
}

// ListAwardDeclarations lists the awards and where their declarations stand, the
// earliest deadline first; dueBefore keeps those the Caisse has not accepted whose
// deadline falls before that day.
func (s *Service) ListAwardDeclarations(ctx context.Context, state certification.DeclarationState, dueBefore *time.Time, after *AwardCursor, limit int) ([]certification.AwardDeclaration, error) {
	f := AwardDeclarationFilter{State: state, After: after, Limit: limit}
	if dueBefore != nil {
		c := certification.DueCutoff(*dueBefore)
		f.AwardedBefore = &c
	}
	return read(ctx, s, func(tx Tx) ([]certification.AwardDeclaration, error) { return tx.AwardDeclarations(f) })
}
