package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/apformation/certapi/internal/cdc"
	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"gorm.io/gorm"
)

// declarationModels are the row structs of the declarations.
var declarationModels = []any{&declarationFileRow{}, &declarationRecordRow{}, &awardDeclarationRow{}}

type declarationFileRow struct {
	ID                string `gorm:"primaryKey"`
	CreatedAt         time.Time
	AwardedTo         time.Time
	ClientID          string
	ContractID        string
	Records           int
	Accepted          int
	Rejected          int
	ReceiptImportedAt *time.Time
	ProcessingID      *string
}

func (declarationFileRow) TableName() string { return "declaration_files" }

type declarationRecordRow struct {
	FileID      string `gorm:"primaryKey"`
	Ordinal     int    `gorm:"primaryKey"`
	DecisionID  string
	IDTechnique string `gorm:"column:id_technique"`
	Record      string
	State       string
	Message     *string
}

func (declarationRecordRow) TableName() string { return "declaration_records" }

type awardDeclarationRow struct {
	DecisionID string `gorm:"primaryKey"`
	FileID     string
	State      string
	Message    *string
	UpdatedAt  time.Time
}

func (awardDeclarationRow) TableName() string { return "award_declarations" }

// currentAwards are the awards to declare: the valid certificates (not attestations)
// of published award decisions no correction superseded. c is the certificate, d
// the decision, a the award's declaration, if any.
const currentAwards = `certificates c
JOIN decisions d ON d.id = c.decision_id
LEFT JOIN award_declarations a ON a.decision_id = c.decision_id`

func (t *tx) awards() *gorm.DB {
	return t.db.Table(currentAwards).
		Where("c.kind = ? AND c.status = ? AND d.superseded_by IS NULL AND d.published_at IS NOT NULL",
			string(certification.KindCertificate), string(certification.CertificateValid))
}

func (t *tx) CertificationCodes() ([]string, error) {
	var codes []string
	err := t.db.Model(&certificationRow{}).Order("code").Pluck("code", &codes).Error
	return codes, err
}

// holderColumns are what a declaration says of a holder: their registration's
// route and day, names, sex, birth day and place.
const holderColumns = "k.id, k.route, k.enrolled_on, k.first_name, k.birth_name, k.usage_name, k.sex, k.birth_date, " +
	"k.birth_insee_code, k.birth_postal_code, k.birth_place_name, k.birth_country_code"

// HolderAwards pages by decision id, the certificates' unique key: each page goes on
// along that index from where the last stopped, so a flux reads its awards once
// whatever their number.
func (t *tx) HolderAwards(f service.AwardFilter) ([]cdc.Award, error) {
	q := t.awards().Joins("JOIN candidates k ON k.id = c.candidate_id")
	if f.CertificationCode != "" {
		q = q.Where("c.certification_code = ?", f.CertificationCode)
	}
	if f.From != nil {
		q = q.Where("c.awarded_on >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("c.awarded_on <= ?", *f.To)
	}
	if f.Undeclared {
		q = q.Where("(a.state IS NULL OR a.state = ?)", string(certification.Rejected))
	}
	if f.After != "" {
		q = q.Where("c.decision_id > ?", f.After)
	}
	rows, err := q.Select("c.decision_id, c.certification_code, c.awarded_on, " + holderColumns).
		Order("c.decision_id").Limit(f.Limit).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]cdc.Award, 0, f.Limit)
	for rows.Next() {
		var a cdc.Award
		var k candidateRow
		if err := rows.Scan(&a.DecisionID, &a.CertificationCode, &a.AwardedOn, &k.ID, &k.Route, &k.EnrolledOn, &k.FirstName, &k.BirthName,
			&k.UsageName, &k.Sex, &k.BirthDate, &k.BirthINSEECode, &k.BirthPostalCode, &k.BirthPlaceName, &k.BirthCountryCode); err != nil {
			return nil, err
		}
		a.AwardedOn, a.Holder = certification.Day(a.AwardedOn), candidateFromRow(k)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AwardDeclarations pages by award day and decision: the earliest deadline first.
// One extra row is read, so the caller knows whether a next page exists.
func (t *tx) AwardDeclarations(f service.AwardDeclarationFilter) ([]certification.AwardDeclaration, error) {
	q := t.awards()
	switch f.State {
	case "":
	case certification.NotDeclared:
		q = q.Where("a.state IS NULL")
	default:
		q = q.Where("a.state = ?", string(f.State))
	}
	if f.AwardedBefore != nil {
		q = q.Where("c.awarded_on < ? AND (a.state IS NULL OR a.state <> ?)", *f.AwardedBefore, string(certification.Accepted))
	}
	if f.After != nil {
		q = q.Where("(c.awarded_on > ? OR (c.awarded_on = ? AND c.decision_id > ?))", f.After.AwardedOn, f.After.AwardedOn, f.After.DecisionID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	rows, err := q.Select("c.decision_id, c.number, c.candidate_id, c.holder_name, c.awarded_on, a.state, a.file_id, a.message").
		Order("c.awarded_on, c.decision_id").Limit(limit + 1).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []certification.AwardDeclaration
	for rows.Next() {
		var d certification.AwardDeclaration
		var state, fileID, message *string
		if err := rows.Scan(&d.DecisionID, &d.CertificateNumber, &d.CandidateID, &d.HolderName, &d.AwardedOn, &state, &fileID, &message); err != nil {
			return nil, err
		}
		d.AwardedOn, d.IDTechnique = certification.Day(d.AwardedOn), cdc.IDTechnique(d.DecisionID)
		d.State, d.FileID, d.Message = certification.NotDeclared, deref(fileID), deref(message)
		if state != nil {
			d.State = certification.DeclarationState(*state)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (t *tx) DeclarationFiles(p service.Page) ([]certification.DeclarationFile, error) {
	q := t.db.Model(&declarationFileRow{})
	if p.After != "" {
		q = q.Where("id < ?", p.After)
	}
	limit := p.Limit
	if limit <= 0 {
		limit = 20
	}
	var rows []declarationFileRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]certification.DeclarationFile, len(rows))
	for i, r := range rows {
		out[i] = declarationFileFromRow(r)
	}
	return out, nil
}

func (t *tx) DeclarationFile(id string) (certification.DeclarationFile, error) {
	var r declarationFileRow
	if err := t.db.Take(&r, "id = ?", id).Error; err != nil {
		return certification.DeclarationFile{}, notFound(err, "declaration file %s", id)
	}
	return declarationFileFromRow(r), nil
}

func (t *tx) LockDeclarationFile(id string) (certification.DeclarationFile, error) {
	var r declarationFileRow
	if err := t.forUpdate().Take(&r, "id = ?", id).Error; err != nil {
		return certification.DeclarationFile{}, notFound(err, "declaration file %s", id)
	}
	return declarationFileFromRow(r), nil
}

func (t *tx) InsertDeclarationFile(f certification.DeclarationFile) error {
	row := declarationFileToRow(f)
	return t.db.Create(&row).Error
}

func (t *tx) UpdateDeclarationFile(f certification.DeclarationFile) error {
	row := declarationFileToRow(f)
	return t.db.Model(&row).Select("records", "accepted", "rejected", "receipt_imported_at", "processing_id").Updates(&row).Error
}

// InsertDeclarationRecords puts awards into a file: a new declaration for an award
// never declared, and for one the Caisse rejected, its declaration moves to this
// file, on the condition that it is still rejected. Another file that took an
// award first shows as a duplicate key, or as a rejection no longer there.
func (t *tx) InsertDeclarationRecords(fileID string, records []service.DeclarationRecord, at time.Time) error {
	if len(records) == 0 {
		return nil
	}
	rows := make([]declarationRecordRow, len(records))
	ids := make([]string, len(records))
	for i, r := range records {
		raw, err := json.Marshal(r.Record)
		if err != nil {
			return err
		}
		rows[i] = declarationRecordRow{FileID: fileID, Ordinal: r.Ordinal, DecisionID: r.DecisionID,
			IDTechnique: r.Record.IDTechnique, Record: string(raw), State: string(r.State), Message: nilIfEmpty(r.Message)}
		ids[i] = r.DecisionID
	}
	if err := t.db.CreateInBatches(rows, 200).Error; err != nil {
		return err
	}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		var existing []string
		if err := t.db.Model(&awardDeclarationRow{}).Where("decision_id IN ?", chunk).Pluck("decision_id", &existing).Error; err != nil {
			return err
		}
		if len(existing) > 0 {
			res := t.db.Model(&awardDeclarationRow{}).Where("decision_id IN ? AND state = ?", existing, string(certification.Rejected)).
				Updates(map[string]any{"file_id": fileID, "state": string(certification.InFile), "message": nil, "updated_at": at})
			if res.Error != nil {
				return res.Error
			}
			if int(res.RowsAffected) != len(existing) {
				return service.ErrDeclarationFileRace
			}
		}
		had := map[string]bool{}
		for _, id := range existing {
			had[id] = true
		}
		var fresh []awardDeclarationRow
		for _, id := range chunk {
			if !had[id] {
				fresh = append(fresh, awardDeclarationRow{DecisionID: id, FileID: fileID, State: string(certification.InFile), UpdatedAt: at})
			}
		}
		if len(fresh) > 0 {
			err := t.db.Create(&fresh).Error
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return service.ErrDeclarationFileRace
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) DeclarationRecords(fileID string, after, limit int) ([]service.DeclarationRecord, error) {
	var rows []declarationRecordRow
	err := t.db.Where("file_id = ? AND ordinal > ?", fileID, after).Order("ordinal").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]service.DeclarationRecord, len(rows))
	for i, r := range rows {
		out[i] = service.DeclarationRecord{Ordinal: r.Ordinal, DecisionID: r.DecisionID,
			State: certification.DeclarationState(r.State), Message: deref(r.Message)}
		if err := json.Unmarshal([]byte(r.Record), &out[i].Record); err != nil {
			return nil, fmt.Errorf("record %d of declaration file %s: %w", r.Ordinal, fileID, err)
		}
	}
	return out, nil
}

func (t *tx) DeclarationRecordIDs(fileID string) ([]string, error) {
	var ids []string
	err := t.db.Model(&declarationRecordRow{}).Where("file_id = ?", fileID).Order("ordinal").Pluck("id_technique", &ids).Error
	return ids, err
}

// SettleDeclarationRecords writes the outcomes grouped by state and message, a few
// hundred records a statement, then sets each award's declaration from its record
// in this file.
func (t *tx) SettleDeclarationRecords(fileID string, outcomes []certification.RecordOutcome, at time.Time) error {
	type key struct{ state, message string }
	groups := map[key][]string{}
	var order []key
	for _, o := range outcomes {
		k := key{string(o.State), o.Message}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], o.IDTechnique)
	}
	for _, k := range order {
		ids := groups[k]
		for start := 0; start < len(ids); start += 500 {
			err := t.db.Model(&declarationRecordRow{}).Where("file_id = ? AND id_technique IN ?", fileID, ids[start:min(start+500, len(ids))]).
				Updates(map[string]any{"state": k.state, "message": nilIfEmpty(k.message)}).Error
			if err != nil {
				return err
			}
		}
	}
	record := "(SELECT r.%s FROM declaration_records r WHERE r.file_id = award_declarations.file_id AND r.decision_id = award_declarations.decision_id)"
	return t.db.Model(&awardDeclarationRow{}).Where("file_id = ?", fileID).Updates(map[string]any{
		"state":      gorm.Expr(fmt.Sprintf(record, "state")),
		"message":    gorm.Expr(fmt.Sprintf(record, "message")),
		"updated_at": at,
	}).Error
}

func declarationFileFromRow(r declarationFileRow) certification.DeclarationFile {
	return certification.DeclarationFile{ID: r.ID, CreatedAt: r.CreatedAt.UTC(), AwardedTo: certification.Day(r.AwardedTo),
		ClientID: r.ClientID, ContractID: r.ContractID, Records: r.Records, Accepted: r.Accepted, Rejected: r.Rejected,
		ReceiptImportedAt: utcPtr(r.ReceiptImportedAt), ProcessingID: deref(r.ProcessingID)}
}

func declarationFileToRow(f certification.DeclarationFile) declarationFileRow {
	return declarationFileRow{ID: f.ID, CreatedAt: f.CreatedAt, AwardedTo: f.AwardedTo, ClientID: f.ClientID, ContractID: f.ContractID,
		Records: f.Records, Accepted: f.Accepted, Rejected: f.Rejected, ReceiptImportedAt: f.ReceiptImportedAt,
		ProcessingID: nilIfEmpty(f.ProcessingID)}
}
