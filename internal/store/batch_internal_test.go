package store

import (
	"reflect"
	"testing"
)

// The check of the rows a write took from the cache goes into its audit event's
// INSERT, as the event's id, when nothing but the Idempotency-Key record's comes
// after that INSERT; after any other statement it stays out, for a statement of
// its own that runs after that one.
func TestCheckGoesIntoTheLastAuditEvent(t *testing.T) {
	const (
		audit = "INSERT INTO `audit_events` (`id`,`action`) VALUES (?,?)"
		other = "INSERT INTO `candidates` (`id`) VALUES (?)"
		claim = "INSERT INTO `idempotency_keys` (`idem_key`) VALUES (?)"
		cond  = " (SELECT version FROM training_sites WHERE id = ?) <=> ?"
	)
	for _, c := range []struct {
		name   string
		build  func(b *batch)
		folded bool
		sql    string
		vars   []any
	}{
		{name: "the audit event, then the key record", folded: true,
			build: func(b *batch) { b.add(other, "c1"); b.addAudit(audit, "e1", "register"); b.addClaim(claim, "k1") },
			sql:   other + ";\n" + "INSERT INTO `audit_events` (`id`,`action`) VALUES ((SELECT ? FROM DUAL WHERE" + cond + "),?)" + ";\n" + claim,
			vars:  []any{"c1", "e1", "site", 3, "register", "k1"}},
		{name: "the last of two audit events", folded: true,
			build: func(b *batch) { b.addAudit(audit, "e1", "a"); b.addAudit(audit, "e2", "b") },
			sql:   audit + ";\n" + "INSERT INTO `audit_events` (`id`,`action`) VALUES ((SELECT ? FROM DUAL WHERE" + cond + "),?)",
			vars:  []any{"e1", "a", "e2", "site", 3, "b"}},
		{name: "another statement after the audit event",
			build: func(b *batch) { b.addAudit(audit, "e1", "a"); b.add(other, "c1") }},
		{name: "no audit event",
			build: func(b *batch) { b.add(other, "c1"); b.addClaim(claim, "k1") }},
		{name: "a batch sent since the audit event",
			build: func(b *batch) { b.addAudit(audit, "e1", "a"); b.sql.Reset(); b.vars, b.audit = nil, auditInsert{} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &batch{}
			c.build(b)
			sql, vars := b.sql.String(), b.vars
			if got := b.checkInAudit(cond, []any{"site", 3}); got != c.folded {
				t.Fatalf("checkInAudit = %v, want %v", got, c.folded)
			}
			if !c.folded {
				if b.sql.String() != sql || !reflect.DeepEqual(b.vars, vars) || b.checked {
					t.Fatalf("the batch changed: %q %v", b.sql.String(), b.vars)
				}
				return
			}
			if b.sql.String() != c.sql || !reflect.DeepEqual(b.vars, c.vars) || !b.checked {
				t.Fatalf("the batch:\n%q %v\nwant\n%q %v", b.sql.String(), b.vars, c.sql, c.vars)
			}
			if b.checkInAudit(cond, []any{"site", 3}) {
				t.Fatal("the check went in twice")
			}
		})
	}
}
