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
			build: func(b *batch) { b.addAudit(audit, "e1", "a"); b.reset() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &batch{}
			c.build(b)
			sql, vars := b.text()
			if got := b.checkInAudit(cond, []any{"site", 3}); got != c.folded {
				t.Fatalf("checkInAudit = %v, want %v", got, c.folded)
			}
			if !c.folded {
				if gotSQL, gotVars := b.text(); gotSQL != sql || !reflect.DeepEqual(gotVars, vars) || b.checked {
					t.Fatalf("the batch changed: %q %v", gotSQL, gotVars)
				}
				return
			}
			if gotSQL, gotVars := b.text(); gotSQL != c.sql || !reflect.DeepEqual(gotVars, c.vars) || !b.checked {
				t.Fatalf("the batch:\n%q %v\nwant\n%q %v", gotSQL, gotVars, c.sql, c.vars)
			}
			if b.checkInAudit(cond, []any{"site", 3}) {
				t.Fatal("the check went in twice")
			}
		})
	}
}

// Writes committed together send, for the writes of one shape, one INSERT of all
// their rows per statement, in their order; then those of another shape; then
// the check of every row they took from the cache, once each; then COMMIT.
func TestTogetherInsertsTheRowsOfOneShapeAtOnce(t *testing.T) {
	const (
		audit = "INSERT INTO `audit_events` (`id`,`action`) VALUES (?,?)"
		cand  = "INSERT INTO `candidates` (`id`) VALUES (?)"
	)
	job := func(assumed map[assumption]int, stmts ...batched) *writeJob {
		return &writeJob{t: &tx{batch: &batch{stmts: stmts}, assumed: assumed}}
	}
	site := map[assumption]int{{site: true, key: "s1"}: 3}
	group := []*writeJob{
		job(site, batched{cand, []any{"c1"}}, batched{audit, []any{"e1", "register"}}),
		job(nil, batched{audit, []any{"e3", "grade"}}),
		job(site, batched{cand, []any{"c2"}}, batched{audit, []any{"e2", "register"}}),
		job(map[assumption]int{{key: "RNCP26206"}: 2}, batched{audit, []any{"e4", "grade"}}),
	}
	query, vars := together(group)
	want := "INSERT INTO `candidates` (`id`) VALUES (?), (?);\n" +
		"INSERT INTO `audit_events` (`id`,`action`) VALUES (?,?), (?,?);\n" +
		"INSERT INTO `audit_events` (`id`,`action`) VALUES (?,?), (?,?);\n" +
		"SET @certapi_assumed = (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE NOT ( (SELECT version FROM training_sites WHERE id = ?) <=> ? AND" +
		" (SELECT version FROM certifications WHERE code = ?) <=> ?));\nCOMMIT"
	wantVars := []any{"c1", "c2", "e1", "register", "e2", "register", "e3", "grade", "e4", "grade", "s1", 3, "RNCP26206", 2}
	if query != want || !reflect.DeepEqual(vars, wantVars) {
		t.Fatalf("together:\n%s\n%v\nwant\n%s\n%v", query, vars, want, wantVars)
	}
}
