package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
)

// The INSERT the store runs for a row, on SQLite or in a MySQL write's batch, is
// the one GORM's Create builds for it on that database, with the same values, for
// every row type it inserts so: every field set, and every field at its zero value
// (whose creation and update times GORM sets to the clock's).
func TestInsertIsGORMs(t *testing.T) {
	at := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	for _, dialector := range []gorm.Dialector{
		mysql.New(mysql.Config{DSN: "u:p@tcp(127.0.0.1:1)/none?parseTime=true", SkipInitializeWithVersion: true}),
		sqlite.New(sqlite.Config{DSN: "file::memory:"}),
	} {
		t.Run(dialector.Name(), func(t *testing.T) {
			db, err := gorm.Open(dialector, &gorm.Config{DryRun: true, DisableAutomaticPing: true, SkipDefaultTransaction: true,
				NowFunc: func() time.Time { return at }})
			if err != nil {
				t.Fatal(err)
			}
			insertIsGORMs(t, db, at)
		})
	}
}

func insertIsGORMs(t *testing.T, db *gorm.DB, at time.Time) {
	s, n, lease := "x", 3, at.Add(time.Hour)
	rows := map[string][2]any{
		"candidate": {&candidateRow{ID: "c1", CertificationCode: "RNCP26206", Route: "vae", TrainingSiteID: &s, EnrolledOn: at,
			FirstName: "Ada", BirthName: "Lovelace", UsageName: &s, Sex: "F", BirthDate: at, BirthINSEECode: &s, BirthPostalCode: &s,
			BirthPlaceName: "Toulouse", BirthCountryCode: "FR", Email: "a@example.org", Phone: &s, Line1: "1 rue", Line2: &s,
			PostalCode: "31000", City: "Toulouse", CountryCode: "FR", Status: "enrolled", VAEAdmissibility: &s, VAEDecidedOn: &at,
			VAEExperienceMonths: &n, VAERequiredMonths: &n, WithdrawnOn: &at, WithdrawalReason: &s, SupersededBy: &s,
			CertificateNumber: &s, IdentityKey: &s, PersonKey: "p", SearchName: "q", Version: 2, CreatedAt: at, UpdatedAt: at.Add(time.Minute)},
			&candidateRow{}},
		"audit event": {&auditEventRow{ID: "a1", OccurredAt: at, ActorID: &s, ActorRole: "admin", Action: "register",
			ResourceType: "candidate", ResourceID: "c1", Changes: `{"a":1}`, RequestID: "r"}, &auditEventRow{}},
		"key record": {&idempotencyRow{PrincipalID: "p", IdemKey: "k", Method: "POST", Path: "/v1/candidates", RequestHash: "h",
			StatusCode: 201, ContentType: "application/json", Location: "/v1/candidates/c1", ETag: `"1"`, ResponseBody: "{}",
			CreatedAt: at, LeaseUntil: &lease}, &idempotencyRow{}},
	}
	for name, pair := range rows {
		for i, row := range pair {
			// Each builds from a copy of its own, since both may set the times.
			mine, theirs := reflect.New(reflect.TypeOf(row).Elem()), reflect.New(reflect.TypeOf(row).Elem())
			mine.Elem().Set(reflect.ValueOf(row).Elem())
			theirs.Elem().Set(reflect.ValueOf(row).Elem())
			query, vars, err := (&tx{db: db}).insertStatement(mine.Interface())
			if err != nil {
				t.Fatal(err)
			}
			dry := db.Create(theirs.Interface())
			if dry.Error != nil {
				t.Fatal(dry.Error)
			}
			if query != dry.Statement.SQL.String() || !reflect.DeepEqual(vars, dry.Statement.Vars) {
				t.Errorf("%s %d:\n got %s %v\nwant %s %v", name, i, query, vars, dry.Statement.SQL.String(), dry.Statement.Vars)
			}
			if !reflect.DeepEqual(mine.Interface(), theirs.Interface()) {
				t.Errorf("%s %d: the row after the build\n got %+v\nwant %+v", name, i, mine.Interface(), theirs.Interface())
			}
		}
	}
}
