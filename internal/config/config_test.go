package config_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/apformation/certapi/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || !c.Embedded() || !c.Migrate || c.DataDir != "./data" || c.TokenTTL != 15*time.Minute || c.BodyLimit != "1M" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestMySQLIsNotMigratedUnlessAsked(t *testing.T) {
	c, err := config.Load(env(map[string]string{"CERTAPI_DATABASE_URL": "mysql://app:s3cret@db:3306/certapi"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Embedded() || c.Migrate {
		t.Fatalf("mysql: embedded=%t migrate=%t", c.Embedded(), c.Migrate)
	}
	if _, err := c.SigningKey(); err == nil {
		t.Fatal("MySQL without CERTAPI_JWT_KEY must be refused")
	}
	c, _ = config.Load(env(map[string]string{"CERTAPI_DATABASE_URL": "mysql://app:s3cret@db:3306/certapi", "CERTAPI_MIGRATE": "true"}))
	if !c.Migrate {
		t.Fatal("CERTAPI_MIGRATE=true ignored")
	}
}

func TestSecretsAreMasked(t *testing.T) {
	for _, url := range []string{"mysql://app:s3cret@db:3306/certapi", "app:s3cret@tcp(db:3306)/certapi"} {
		c, err := config.Load(env(map[string]string{"CERTAPI_DATABASE_URL": url, "CERTAPI_JWT_KEY": strings.Repeat("s3cret", 6),
			"CERTAPI_BOOTSTRAP_ADMIN_EMAIL": "a@b.example", "CERTAPI_BOOTSTRAP_ADMIN_PASSWORD": "s3cret-s3cret"}))
		if err != nil {
			t.Fatal(err)
		}
		if s := c.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "***") {
			t.Errorf("%s printed as %s", url, s)
		}
	}
	c, _ := config.Load(env(map[string]string{"CERTAPI_DATABASE_URL": "mysql://app@db:3306/certapi"}))
	if !strings.Contains(c.String(), "mysql://app@db:3306/certapi") {
		t.Errorf("a URL without password is printed as is: %s", c.String())
	}
}

func TestInvalidSettingsAreRefused(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"short key":          {"CERTAPI_JWT_KEY": "short"},
		"bad duration":       {"CERTAPI_TOKEN_TTL": "soon"},
		"negative duration":  {"CERTAPI_READ_TIMEOUT": "-1s"},
		"bad boolean":        {"CERTAPI_MIGRATE": "perhaps"},
		"admin without pass": {"CERTAPI_BOOTSTRAP_ADMIN_EMAIL": "a@b.example"},
		"short CDC client":   {"CERTAPI_CDC_CLIENT_ID": "03BHY31"},
		"long CDC contract":  {"CERTAPI_CDC_CONTRACT_ID": "MCFCER000775MCFCER000"},
	} {
		if _, err := config.Load(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// On the embedded default the signing key is generated once and kept, so that
// tokens survive a restart.
func TestGeneratedKeyIsKept(t *testing.T) {
	dir := t.TempDir()
	c, _ := config.Load(env(map[string]string{"CERTAPI_DATA_DIR": dir}))
	k1, err := c.SigningKey()
	if err != nil || len(k1) < 32 {
		t.Fatalf("key: %d bytes, %v", len(k1), err)
	}
	k2, err := c.SigningKey()
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatal("the generated key changed between two starts")
	}
}

// Every variable the configuration reads is documented for --help, and every one
// documented is read.
func TestEveryVariableIsDocumented(t *testing.T) {
	read := map[string]bool{}
	if _, err := config.Load(func(k string) string { read[k] = true; return "" }); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, v := range config.Vars {
		if !strings.HasPrefix(v.Name, "CERTAPI_") || v.Help == "" || documented[v.Name] {
			t.Errorf("variable %+v", v)
		}
		documented[v.Name] = true
		if !read[v.Name] {
			t.Errorf("%s is documented but never read", v.Name)
		}
	}
	for k := range read {
		if !documented[k] {
			t.Errorf("%s is read but not documented", k)
		}
	}
}

// The certifier's ids at the Caisse des Dépôts are read as given; unset, the holders
// declaration is refused until they are.
func TestCDCIds(t *testing.T) {
	c, err := config.Load(env(map[string]string{"CERTAPI_CDC_CLIENT_ID": " 03BHY312 ", "CERTAPI_CDC_CONTRACT_ID": "MCFCER000775"}))
	if err != nil || c.CDCClientID != "03BHY312" || c.CDCContractID != "MCFCER000775" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := config.Load(env(nil)); err != nil || c.CDCClientID != "" || c.CDCContractID != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
}
