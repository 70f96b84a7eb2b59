package store

import (
	"encoding/json"

	"github.com/apformation/certapi/internal/service"
)

func (t *tx) AppendAudit(e service.AuditEvent) error {
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return err
	}
	if e.Changes == nil {
		changes = []byte("{}")
	}
	t.resource = e.ResourceID
	// In a MySQL write's batch, the commit may put its check into this INSERT
	// (see checkAssumed).
	return t.insertBy(&auditEventRow{
		ID: e.ID, OccurredAt: e.OccurredAt, ActorID: nilIfEmpty(e.ActorID), ActorRole: e.ActorRole,
		Action: e.Action, ResourceType: e.ResourceType, ResourceID: e.ResourceID,
		Changes: string(changes), RequestID: e.RequestID,
	}, (*batch).addAudit)
}

func (t *tx) AuditEvents(f service.AuditFilter) ([]service.AuditEvent, error) {
	q := t.db.Model(&auditEventRow{})
	if f.ResourceType != "" {
		q = q.Where("resource_type = ?", f.ResourceType)
	}
	if f.ResourceID != "" {
		q = q.Where("resource_id = ?", f.ResourceID)
	}
	if f.ActorID != "" {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.From != nil {
		q = q.Where("occurred_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("occurred_at < ?", f.To.UTC())
	}
	var rows []auditEventRow
	if err := keyset(q, "id", f.Page).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]service.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = service.AuditEvent{ID: r.ID, OccurredAt: r.OccurredAt.UTC(), ActorID: deref(r.ActorID), ActorRole: r.ActorRole,
			Action: r.Action, ResourceType: r.ResourceType, ResourceID: r.ResourceID, RequestID: r.RequestID}
		if err := json.Unmarshal([]byte(r.Changes), &out[i].Changes); err != nil {
			return nil, err
		}
	}
	return out, nil
}
