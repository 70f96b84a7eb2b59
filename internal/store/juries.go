package store

import (
	"time"

	"github.com/apformation/certapi/internal/certification"
	"github.com/apformation/certapi/internal/service"
	"gorm.io/gorm"
)

func (t *tx) JuryMembers(f service.JuryMemberFilter) ([]certification.JuryMember, error) {
	q := t.db.Model(&juryMemberRow{})
	if !f.IncludeInactive {
		q = q.Where("active = ?", true)
	}
	if f.Role != "" {
		q = q.Where("role = ?", string(f.Role))
	}
	if f.OnlyID != "" {
		q = q.Where("id = ?", f.OnlyID)
	}
	var rows []juryMemberRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.membersFromRows(rows)
}

func (t *tx) JuryMember(id string) (certification.JuryMember, error) {
	return t.oneMember(t.db, id)
}

func (t *tx) LockJuryMember(id string) (certification.JuryMember, error) {
	return t.oneMember(t.forUpdate(), id)
}

func (t *tx) oneMember(db *gorm.DB, id string) (certification.JuryMember, error) {
	var r juryMemberRow
	if err := db.Take(&r, "id = ?", id).Error; err != nil {
		return certification.JuryMember{}, notFound(err, "jury member %s", id)
	}
	ms, err := t.membersFromRows([]juryMemberRow{r})
	if err != nil {
		return certification.JuryMember{}, err
	}
	return ms[0], nil
}

func (t *tx) JuryMembersByID(ids []string) (map[string]certification.JuryMember, error) {
	out := map[string]certification.JuryMember{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []juryMemberRow
	if err := t.db.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, err
	}
	ms, err := t.membersFromRows(rows)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out[m.ID] = m
	}
	return out, nil
}

func (t *tx) InsertJuryMember(m certification.JuryMember) error {
	row := memberToRow(m)
	if err := t.db.Create(&row).Error; err != nil {
		return err
	}
	return t.setMemberLinks(m)
}

func (t *tx) UpdateJuryMember(m certification.JuryMember) error {
	row := memberToRow(m)
	if err := t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error; err != nil {
		return err
	}
	return t.setMemberLinks(m)
}

func (t *tx) setMemberLinks(m certification.JuryMember) error {
	if err := t.db.Where("jury_member_id = ?", m.ID).Delete(&juryMemberLinkRow{}).Error; err != nil {
		return err
	}
	if len(m.Links) == 0 {
		return nil
	}
	rows := make([]juryMemberLinkRow, len(m.Links))
	for i, l := range m.Links {
		rows[i] = juryMemberLinkRow{JuryMemberID: m.ID, Ordinal: i, Kind: string(l.Kind),
			CandidateID: nilIfEmpty(l.CandidateID), TrainingSiteID: nilIfEmpty(l.TrainingSiteID)}
	}
	return t.db.Create(&rows).Error
}

func (t *tx) membersFromRows(rows []juryMemberRow) ([]certification.JuryMember, error) {
	out := make([]certification.JuryMember, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var links []juryMemberLinkRow
	if err := t.db.Where("jury_member_id IN ?", ids).Order("jury_member_id, ordinal").Find(&links).Error; err != nil {
		return nil, err
	}
	byMember := map[string][]certification.MemberLink{}
	for _, l := range links {
		byMember[l.JuryMemberID] = append(byMember[l.JuryMemberID], certification.MemberLink{Kind: certification.LinkKind(l.Kind),
			CandidateID: deref(l.CandidateID), TrainingSiteID: deref(l.TrainingSiteID)})
	}
	for _, r := range rows {
		m := certification.JuryMember{ID: r.ID, FullName: r.FullName, Role: certification.JuryRole(r.Role), Organisation: r.Organisation,
			Email: r.Email, Phone: deref(r.Phone), Links: byMember[r.ID], Active: r.Active, Version: r.Version,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		if m.Links == nil {
			m.Links = []certification.MemberLink{}
		}
		out = append(out, m)
	}
	return out, nil
}

func memberToRow(m certification.JuryMember) juryMemberRow {
	return juryMemberRow{ID: m.ID, FullName: m.FullName, Role: string(m.Role), Organisation: m.Organisation, Email: m.Email,
		Phone: nilIfEmpty(m.Phone), Active: m.Active, Version: m.Version, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

func (t *tx) OpenSessionsOf(memberID string) ([]certification.JurySession, error) {
	var rows []jurySessionRow
	err := t.db.Where("status <> ? AND id IN (?)", string(certification.SessionClosed),
		t.db.Model(&jurySessionMemberRow{}).Select("jury_session_id").Where("jury_member_id = ?", memberID)).
		Order("held_on, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	return t.sessionsFromRows(rows)
}

func (t *tx) JurySessions(f service.JurySessionFilter) ([]certification.JurySession, error) {
	q := t.db.Model(&jurySessionRow{})
	if f.CertificationCode != "" {
		q = q.Where("certification_code = ?", f.CertificationCode)
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.From != nil {
		q = q.Where("held_on >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("held_on <= ?", *f.To)
	}
	if f.MemberID != "" {
		q = q.Where("id IN (?)", t.db.Model(&jurySessionMemberRow{}).Select("jury_session_id").Where("jury_member_id = ?", f.MemberID))
	}
	var rows []jurySessionRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.sessionsFromRows(rows)
}

func (t *tx) JurySession(id string) (certification.JurySession, error) {
	return t.oneSession(t.db, id)
}

func (t *tx) LockJurySession(id string) (certification.JurySession, error) {
	return t.oneSession(t.forUpdate(), id)
}

func (t *tx) oneSession(db *gorm.DB, id string) (certification.JurySession, error) {
	var r jurySessionRow
	if err := db.Take(&r, "id = ?", id).Error; err != nil {
		return certification.JurySession{}, notFound(err, "jury session %s", id)
	}
	ss, err := t.sessionsFromRows([]jurySessionRow{r})
	if err != nil {
		return certification.JurySession{}, err
	}
	return ss[0], nil
}

func (t *tx) InsertJurySession(s certification.JurySession) error {
	row := sessionToRow(s)
	if err := t.db.Create(&row).Error; err != nil {
		return err
	}
	return t.setSessionMembers(s)
}

func (t *tx) UpdateJurySession(s certification.JurySession) error {
	row := sessionToRow(s)
	if err := t.db.Model(&row).Select("*").Omit("created_at").Updates(&row).Error; err != nil {
		return err
	}
	return t.setSessionMembers(s)
}

// setSessionMembers writes the session's members in their order, with their
// signatures.
func (t *tx) setSessionMembers(s certification.JurySession) error {
	if err := t.db.Where("jury_session_id = ?", s.ID).Delete(&jurySessionMemberRow{}).Error; err != nil {
		return err
	}
	if len(s.MemberIDs) == 0 {
		return nil
	}
	signed := map[string]time.Time{}
	for _, sig := range s.Signatures {
		signed[sig.MemberID] = sig.SignedAt
	}
	rows := make([]jurySessionMemberRow, len(s.MemberIDs))
	for i, id := range s.MemberIDs {
		rows[i] = jurySessionMemberRow{JurySessionID: s.ID, JuryMemberID: id, Ordinal: i}
		if at, ok := signed[id]; ok {
			at = at.UTC()
			rows[i].SignedAt = &at
		}
	}
	return t.db.Create(&rows).Error
}

func (t *tx) sessionsFromRows(rows []jurySessionRow) ([]certification.JurySession, error) {
	out := make([]certification.JurySession, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var members []jurySessionMemberRow
	if err := t.db.Where("jury_session_id IN ?", ids).Order("jury_session_id, ordinal").Find(&members).Error; err != nil {
		return nil, err
	}
	bySession := map[string][]jurySessionMemberRow{}
	for _, m := range members {
		bySession[m.JurySessionID] = append(bySession[m.JurySessionID], m)
	}
	for _, r := range rows {
		s := certification.JurySession{ID: r.ID, CertificationCode: r.CertificationCode, TrainingSiteID: r.TrainingSiteID,
			HeldOn: certification.Day(r.HeldOn), MemberIDs: []string{}, Status: certification.SessionStatus(r.Status),
			DeliberationStartedAt: utcPtr(r.DeliberationStartedAt), ClosedAt: utcPtr(r.ClosedAt),
			Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
		for _, m := range bySession[r.ID] {
			s.MemberIDs = append(s.MemberIDs, m.JuryMemberID)
			if m.SignedAt != nil {
				s.Signatures = append(s.Signatures, certification.Signature{MemberID: m.JuryMemberID, SignedAt: m.SignedAt.UTC()})
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func sessionToRow(s certification.JurySession) jurySessionRow {
	return jurySessionRow{ID: s.ID, CertificationCode: s.CertificationCode, TrainingSiteID: s.TrainingSiteID, HeldOn: s.HeldOn,
		Status: string(s.Status), DeliberationStartedAt: s.DeliberationStartedAt, ClosedAt: s.ClosedAt,
		Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// candidatesOfMember selects the ids of the candidates a member's sessions hear or
// decide on.
func (t *tx) candidatesOfMember(memberID string) *gorm.DB {
	sessions := t.db.Model(&jurySessionMemberRow{}).Select("jury_session_id").Where("jury_member_id = ?", memberID)
	return t.db.Raw("SELECT candidate_id FROM evaluations WHERE jury_session_id IN (?) AND status <> ? UNION SELECT candidate_id FROM decisions WHERE jury_session_id IN (?)",
		sessions, string(certification.SittingCancelled), sessions)
}

func (t *tx) SitsWithCandidate(memberID, candidateID string) (bool, error) {
	if memberID == "" {
		return false, nil
	}
	var n int64
	err := t.db.Model(&candidateRow{}).Where("id = ? AND id IN (?)", candidateID, t.candidatesOfMember(memberID)).Count(&n).Error
	return n > 0, err
}

func (t *tx) Decisions(f service.DecisionFilter) ([]certification.Decision, error) {
	q := t.db.Model(&decisionRow{})
	if f.SessionID != "" {
		q = q.Where("jury_session_id = ?", f.SessionID)
	}
	if f.CandidateID != "" {
		q = q.Where("candidate_id = ?", f.CandidateID)
	}
	if f.PublishedOnly {
		q = q.Where("published_at IS NOT NULL")
	}
	if f.DraftsOnly {
		q = q.Where("published_at IS NULL")
	}
	var rows []decisionRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.decisionsFromRows(rows)
}

func (t *tx) Decision(id string) (certification.Decision, error) {
	var r decisionRow
	if err := t.db.Take(&r, "id = ?", id).Error; err != nil {
		return certification.Decision{}, notFound(err, "decision %s", id)
	}
	return t.oneDecision(r)
}

func (t *tx) CurrentDecision(sessionID, candidateID string) (certification.Decision, error) {
	var r decisionRow
	err := t.db.Where("jury_session_id = ? AND candidate_id = ? AND superseded_by IS NULL", sessionID, candidateID).
		Order("revision DESC").Take(&r).Error
	if err != nil {
		return certification.Decision{}, notFound(err, "decision on candidate %s in session %s", candidateID, sessionID)
	}
	return t.oneDecision(r)
}

func (t *tx) LatestAward(candidateID string) (certification.Decision, error) {
	var r decisionRow
	err := t.db.Where("candidate_id = ? AND outcome = ? AND published_at IS NOT NULL AND superseded_by IS NULL",
		candidateID, string(certification.OutcomeAward)).Order("published_at DESC, id DESC").Take(&r).Error
	if err != nil {
		return certification.Decision{}, notFound(err, "award of candidate %s", candidateID)
	}
	return t.oneDecision(r)
}

func (t *tx) LatestPublished(candidateID string) (certification.Decision, error) {
	var r decisionRow
	err := t.db.Where("candidate_id = ? AND published_at IS NOT NULL AND superseded_by IS NULL", candidateID).
		Order("published_at DESC, id DESC").Take(&r).Error
	if err != nil {
		return certification.Decision{}, notFound(err, "published decision of candidate %s", candidateID)
	}
	return t.oneDecision(r)
}

func (t *tx) PendingDecision(candidateID, except string) (certification.Decision, error) {
	var r decisionRow
	err := t.db.Where("candidate_id = ? AND jury_session_id <> ? AND published_at IS NULL", candidateID, except).Take(&r).Error
	if err != nil {
		return certification.Decision{}, notFound(err, "draft decision of candidate %s", candidateID)
	}
	return t.oneDecision(r)
}

func (t *tx) DeliberatedThrough(candidateID string) (*time.Time, error) {
	var rows []jurySessionRow
	err := t.db.Where("id IN (?)", t.db.Model(&decisionRow{}).Select("jury_session_id").
		Where("candidate_id = ? AND published_at IS NOT NULL", candidateID)).Order("held_on DESC").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	d := certification.Day(rows[0].HeldOn)
	return &d, nil
}

func (t *tx) oneDecision(r decisionRow) (certification.Decision, error) {
	ds, err := t.decisionsFromRows([]decisionRow{r})
	if err != nil {
		return certification.Decision{}, err
	}
	return ds[0], nil
}

func (t *tx) InsertDecision(d certification.Decision) error {
	row := decisionToRow(d)
	if err := duplicate(t.db.Create(&row).Error, "decision_exists", "the session has decided on this candidate already"); err != nil {
		return err
	}
	if len(d.Components) == 0 {
		return nil
	}
	rows := make([]decisionComponentRow, len(d.Components))
	for i, c := range d.Components {
		rows[i] = decisionComponentRow{DecisionID: d.ID, Component: c.Component, EvaluationID: c.EvaluationID,
			AcquiredOn: c.AcquiredOn, ValidUntil: c.ValidUntil, ValidatedNow: c.ValidatedNow, Ordinal: i}
	}
	return t.db.Create(&rows).Error
}

// UpdateDecision writes what changes of a decision once made: its publication and
// the correction that supersedes it.
func (t *tx) UpdateDecision(d certification.Decision) error {
	return t.db.Model(&decisionRow{}).Where("id = ?", d.ID).
		Updates(map[string]any{"published_at": d.PublishedAt, "superseded_by": nilIfEmpty(d.SupersededBy)}).Error
}

func (t *tx) DeleteDecision(id string) error {
	if err := t.db.Where("decision_id = ?", id).Delete(&decisionComponentRow{}).Error; err != nil {
		return err
	}
	return t.db.Where("id = ?", id).Delete(&decisionRow{}).Error
}

func (t *tx) decisionsFromRows(rows []decisionRow) ([]certification.Decision, error) {
	out := make([]certification.Decision, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var comps []decisionComponentRow
	if err := t.db.Where("decision_id IN ?", ids).Order("decision_id, ordinal").Find(&comps).Error; err != nil {
		return nil, err
	}
	var certs []certificateRow
	if err := t.db.Select("number", "decision_id").Where("decision_id IN ?", ids).Find(&certs).Error; err != nil {
		return nil, err
	}
	numbers := map[string]string{}
	for _, c := range certs {
		numbers[c.DecisionID] = c.Number
	}
	byDecision := map[string][]certification.DecidedComponent{}
	for _, c := range comps {
		byDecision[c.DecisionID] = append(byDecision[c.DecisionID], decidedFromRow(c))
	}
	for _, r := range rows {
		out = append(out, certification.Decision{ID: r.ID, JurySessionID: r.JurySessionID, CandidateID: r.CandidateID,
			Outcome: certification.Outcome(r.Outcome), Components: byDecision[r.ID], Reason: r.Reason, Revision: r.Revision,
			CorrectsID: deref(r.CorrectsID), SupersededBy: deref(r.SupersededBy), DecidedAt: r.DecidedAt.UTC(),
			DecidedBy: r.DecidedBy, PublishedAt: utcPtr(r.PublishedAt), CertificateNumber: numbers[r.ID]})
	}
	return out, nil
}

func decidedFromRow(c decisionComponentRow) certification.DecidedComponent {
	return certification.DecidedComponent{Component: c.Component, EvaluationID: c.EvaluationID,
		AcquiredOn: certification.Day(c.AcquiredOn), ValidUntil: dayPtr(c.ValidUntil), ValidatedNow: c.ValidatedNow}
}

func decisionToRow(d certification.Decision) decisionRow {
	return decisionRow{ID: d.ID, JurySessionID: d.JurySessionID, CandidateID: d.CandidateID, Outcome: string(d.Outcome),
		Reason: d.Reason, Revision: d.Revision, CorrectsID: nilIfEmpty(d.CorrectsID), SupersededBy: nilIfEmpty(d.SupersededBy),
		DecidedAt: d.DecidedAt, DecidedBy: d.DecidedBy, PublishedAt: d.PublishedAt}
}

func (t *tx) Certificate(number string) (certification.Certificate, error) {
	return t.oneCertificate(t.db.Where("number = ?", number), "certificate "+number)
}

func (t *tx) LockCertificate(number string) (certification.Certificate, error) {
	return t.oneCertificate(t.forUpdate().Where("number = ?", number), "certificate "+number)
}

func (t *tx) CertificateOfDecision(decisionID string) (certification.Certificate, error) {
	return t.oneCertificate(t.db.Where("decision_id = ?", decisionID), "certificate of decision "+decisionID)
}

func (t *tx) oneCertificate(q *gorm.DB, what string) (certification.Certificate, error) {
	var r certificateRow
	if err := q.Take(&r).Error; err != nil {
		return certification.Certificate{}, notFound(err, "%s", what)
	}
	cs, err := t.certificatesFromRows([]certificateRow{r})
	if err != nil {
		return certification.Certificate{}, err
	}
	return cs[0], nil
}

func (t *tx) CertificatesOfCandidate(candidateID string, p service.Page) ([]certification.Certificate, error) {
	var rows []certificateRow
	if err := keyset(t.db.Where("candidate_id = ?", candidateID), "decision_id", p).Find(&rows).Error; err != nil {
		return nil, err
	}
	return t.certificatesFromRows(rows)
}

func (t *tx) InsertCertificate(c certification.Certificate) error {
	row := certificateToRow(c)
	return t.db.Create(&row).Error
}

func (t *tx) UpdateCertificate(c certification.Certificate) error {
	row := certificateToRow(c)
	return t.db.Model(&row).Select("status", "revoked_at", "revocation_reason", "version").Updates(&row).Error
}

// certificatesFromRows reads certificates with the components an attestation lists,
// which are its decision's.
func (t *tx) certificatesFromRows(rows []certificateRow) ([]certification.Certificate, error) {
	var decisionIDs []string
	for _, r := range rows {
		if r.Kind == string(certification.KindAttestation) {
			decisionIDs = append(decisionIDs, r.DecisionID)
		}
	}
	byDecision := map[string][]certification.DecidedComponent{}
	if len(decisionIDs) > 0 {
		var comps []decisionComponentRow
		if err := t.db.Where("decision_id IN ?", decisionIDs).Order("decision_id, ordinal").Find(&comps).Error; err != nil {
			return nil, err
		}
		for _, c := range comps {
			byDecision[c.DecisionID] = append(byDecision[c.DecisionID], decidedFromRow(c))
		}
	}
	out := make([]certification.Certificate, len(rows))
	for i, r := range rows {
		out[i] = certification.Certificate{Number: r.Number, Kind: certification.CertificateKind(r.Kind), DecisionID: r.DecisionID,
			CandidateID: r.CandidateID, CertificationCode: r.CertificationCode, HolderName: r.HolderName,
			AwardedOn: certification.Day(r.AwardedOn), Components: byDecision[r.DecisionID], IssuedAt: r.IssuedAt.UTC(),
			Status: certification.CertificateStatus(r.Status), RevokedAt: utcPtr(r.RevokedAt),
			RevocationReason: deref(r.RevocationReason), Version: r.Version}
	}
	return out, nil
}

func certificateToRow(c certification.Certificate) certificateRow {
	return certificateRow{Number: c.Number, Kind: string(c.Kind), DecisionID: c.DecisionID, CandidateID: c.CandidateID,
		CertificationCode: c.CertificationCode, HolderName: c.HolderName, AwardedOn: c.AwardedOn, IssuedAt: c.IssuedAt,
		Status: string(c.Status), RevokedAt: c.RevokedAt, RevocationReason: nilIfEmpty(c.RevocationReason), Version: c.Version}
}
