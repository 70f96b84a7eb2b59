// Package cdctest checks a holders declaration the way the Caisse des Dépôts does
// first: against its schema, with xmllint (Debian's libxml2-utils). A test that
// needs it fails without it: a declaration nobody validated is not tested.
package cdctest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Schema is the path of the schema 1.1.2 the flux must validate against, copied
// into the repository from the Caisse des Dépôts' publication.
func Schema() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "holders-declaration-1.1.2.xsd")
}

// Validate fails the test unless doc is valid against the schema.
func Validate(t testing.TB, doc []byte) {
	t.Helper()
	if err := Check(t, doc); err != nil {
		t.Fatalf("the flux does not validate against the schema: %v\n%s", err, doc)
	}
}

// Check runs xmllint --schema on doc and returns its complaint, if any.
func Check(t testing.TB, doc []byte) error {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint is needed to validate the holders declaration (Debian: apt-get install libxml2-utils)")
	}
	path := filepath.Join(t.TempDir(), "flux.xml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", Schema(), path).CombinedOutput()
	if err != nil {
		return &lintError{out: string(out)}
	}
	return nil
}

type lintError struct{ out string }

func (e *lintError) Error() string { return e.out }
