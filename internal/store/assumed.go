package store

import (
	"errors"
	"slices"
	"strings"

	"github.com/apformation/certapi/internal/certification"
	mysqldriver "github.com/go-sql-driver/mysql"
)

// A MySQL write that needs a training site takes it from a cache rather than
// reading it, and its commit checks that the site, and the referentials of the
// certifications it is declared for, are still at the versions it assumed. A site
// changes seldom, and its read was a round trip and the dearest statement of a
// registration; the check rides with the commit's batch. When another writer,
// here or in another instance, changed one of them meanwhile, the check fails,
// nothing commits, the site leaves the cache and the write runs again on what it
// then reads (errStale). The check runs after the write's own statements, whose
// foreign keys hold the site and the certification rows until the commit: what it
// finds is what the commit commits against. It rides in the write's audit event's
// INSERT when nothing but the Idempotency-Key record's follows that INSERT (see
// checkAssumed), and is a statement of its own otherwise; writes committed
// together (see together.go) share one such statement, after all their INSERTs.
// SQLite writes read the site as before (a local read costs no round trip).

// cachedSite is a site as a committed write read it, with the versions of the
// certifications it is declared for.
type cachedSite struct {
	site certification.TrainingSite
	refs []siteReferential
}

type siteReferential struct {
	code    string
	version int
}

// assumption names a row a write took from the cache: a site, or a
// certification's referential.
type assumption struct {
	site bool
	key  string
}

// errStale ends the attempt of a write whose commit found a row it took from the
// cache changed meanwhile: Write runs it again.
var errStale = errors.New("store: a cached row changed before the write committed")

// cachedTrainingSite returns the cached site id, if this is a MySQL write and the
// cache holds it, and notes the versions the write then assumes.
func (t *tx) cachedTrainingSite(id string) (certification.TrainingSite, bool) {
	if t.batch == nil {
		return certification.TrainingSite{}, false
	}
	c, ok := t.store.sites.Load(id)
	if !ok {
		return certification.TrainingSite{}, false
	}
	e := c.(cachedSite)
	if !t.unchanged(id, e.refs) {
		return certification.TrainingSite{}, false
	}
	t.assume(assumption{site: true, key: id}, e.site.Version)
	for _, r := range e.refs {
		t.assume(assumption{key: r.code}, r.version)
		t.sawReferential(r.code, r.version)
	}
	s := e.site
	s.CertificationCodes = slices.Clone(s.CertificationCodes)
	s.Roles = slices.Clone(s.Roles)
	return s, true
}

// unchanged tells whether this write left a site, and the certifications it is
// declared for, as the cache has them: what it changed, it reads.
func (t *tx) unchanged(id string, refs []siteReferential) bool {
	if t.changed[assumption{site: true, key: id}] {
		return false
	}
	for _, r := range refs {
		if t.changed[assumption{key: r.code}] {
			return false
		}
	}
	return true
}

// keepSite caches a site this MySQL write read, once the write commits, unless
// the write changes it, or its certifications, after reading it.
func (t *tx) keepSite(s certification.TrainingSite, refs []siteReferential) {
	if t.batch == nil {
		return
	}
	if t.committedSites == nil {
		t.committedSites = map[string]cachedSite{}
	}
	t.committedSites[s.ID] = cachedSite{site: s, refs: refs}
}

func (t *tx) assume(a assumption, version int) {
	if t.assumed == nil {
		t.assumed = map[assumption]int{}
	}
	t.assumed[a] = version
}

// lockedAt checks an assumption against the version a locking read of the row
// found: the same, the row is locked now and needs no check at commit; another,
// the attempt is stale.
func (t *tx) lockedAt(a assumption, version int) error {
	v, ok := t.assumed[a]
	if !ok {
		return nil
	}
	if v != version {
		return t.stale()
	}
	delete(t.assumed, a)
	return nil
}

// changing comes before a write changes a row: one it took from the cache and did
// not lock since is stale by then, as far as this attempt can tell.
func (t *tx) changing(a assumption) error {
	if t.batch == nil {
		return nil
	}
	if _, ok := t.assumed[a]; ok {
		return t.stale()
	}
	if t.changed == nil {
		t.changed = map[assumption]bool{}
	}
	t.changed[a] = true
	return nil
}

// forgetChanged drops from the cache, once this write committed, the sites it
// changed and those declared for a certification it changed: the next write reads
// them rather than fail its check once.
func (t *tx) forgetChanged() {
	if len(t.changed) == 0 {
		return
	}
	t.store.sites.Range(func(id, c any) bool {
		if !t.unchanged(id.(string), c.(cachedSite).refs) {
			t.store.sites.Delete(id)
		}
		return true
	})
}

// stale drops from the cache the sites this attempt took from it and ends it.
func (t *tx) stale() error {
	for a := range t.assumed {
		if a.site {
			t.store.sites.Delete(a.key)
		}
	}
	return errStale
}

// checkAssumed makes the batch fail, before its COMMIT, when a row the write took
// from the cache is no longer at the version it assumed. When the batch holds the
// write's audit event, which every write that changes something appends, the
// check goes into that INSERT: the event's id becomes
//
//	(SELECT ? FROM DUAL WHERE (SELECT version FROM training_sites WHERE id = ?) <=> ? AND ...)
//
// which is NULL when a version moved on (or the row is gone), and a single-row
// INSERT of NULL into a NOT NULL column fails, on MySQL as on MariaDB, strict or
// not, with error 1048. This costs the server less than a statement of its own:
// in certload statements, a registration's batch costs it 2.60 times the floor's
// INSERT this way, and 2.87 times with the check as a statement of its own.
// Otherwise the check is such a statement, which fails with error 1242, a
// subquery returning more than one row. (DO would not do: it turns the error into
// a warning.)
func (t *tx) checkAssumed() {
	if len(t.assumed) == 0 {
		return
	}
	as := make([]assumedVersion, 0, len(t.assumed))
	for a, v := range t.assumed {
		as = append(as, assumedVersion{a, v})
	}
	cond, args := assumedCondition(as)
	if t.batch.checkInAudit(cond, args) {
		return
	}
	t.batch.add(checkStatement(cond), args...)
}

// assumedVersion is a row taken from the cache and the version it was taken at.
type assumedVersion struct {
	assumption
	version int
}

// assumedCondition holds when every row of as is still at its version.
func assumedCondition(as []assumedVersion) (string, []any) {
	var cond strings.Builder
	args := make([]any, 0, 2*len(as))
	for _, a := range as {
		if len(args) > 0 {
			cond.WriteString(" AND")
		}
		if a.site {
			cond.WriteString(" (SELECT version FROM training_sites WHERE id = ?) <=> ?")
		} else {
			cond.WriteString(" (SELECT version FROM certifications WHERE code = ?) <=> ?")
		}
		args = append(args, a.key, a.version)
	}
	return cond.String(), args
}

// checkStatement is the statement that fails, with error 1242, unless cond holds.
func checkStatement(cond string) string {
	return "SET @certapi_assumed = (SELECT 1 UNION ALL SELECT 1 FROM DUAL WHERE NOT (" + cond + "))"
}

// assumedChanged tells whether err is the failure of checkAssumed's check.
func (t *tx) assumedChanged(err error) bool {
	var me *mysqldriver.MySQLError
	if len(t.assumed) == 0 || !errors.As(err, &me) {
		return false
	}
	return me.Number == 1242 || t.batch.checked && me.Number == 1048
}
