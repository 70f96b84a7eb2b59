package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apformation/certapi/internal/auth"
)

// The key and clock of the tokens the fuzz targets verify. The committed corpus
// holds tokens signed with this key at this time.
var (
	fuzzKey   = []byte("certapi-fuzz-signing-key-32bytes")
	fuzzNow   = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	fuzzOther = []byte("another-key-of-at-least-32-bytes")
)

// signed is a token signed with key by HMAC-SHA256 under the header and claims
// given as JSON, whatever they say: a token this service never issued.
func signed(key []byte, header, claims string) string {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

// FuzzVerify checks the reading of a bearer token. For any string, Verify
//   - never panics, and refuses with ErrBadToken and no subject;
//   - accepts only what this Tokens could have issued: three segments of canonical
//     unpadded base64url, a header naming HS256, an HMAC-SHA256 under its key over
//     the first two, its issuer, an expiry after now by its clock, a not-before not
//     after it, and a subject, the one it returns.
//
// The checks are written out here, on the bytes, rather than left to the JWT
// library the code under test uses.
func FuzzVerify(f *testing.F) {
	now := fuzzNow
	tokens, err := auth.NewTokens(fuzzKey, 15*time.Minute, func() time.Time { return now })
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := tokens.Issue("0190a0a0-0000-7000-8000-000000000001", auth.RoleAdmin)
	exp := now.Add(time.Hour).Unix()
	claims := func(extra string) string {
		return `{"iss":"certapi","aud":"certapi","sub":"u1","iat":1795000000,"nbf":1795000000,"exp":` + itoa(exp) + extra + `}`
	}
	unsigned := func(header string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims(""))) + "."
	}
	for _, seed := range []string{
		valid,
		"", ".", "..", "a.b.c", "not.a.token", "Bearer " + valid, strings.Repeat("x", 600),
		// No signature, or another algorithm over the same key.
		unsigned(`{"alg":"none","typ":"JWT"}`), unsigned(`{"alg":"None"}`), unsigned(`{"alg":"HS256"}`),
		signed(fuzzKey, `{"alg":"HS512","typ":"JWT"}`, claims("")),
		signed(fuzzKey, `{"alg":"hs256","typ":"JWT"}`, claims("")),
		signed(fuzzKey, `{"alg":"RS256","typ":"JWT"}`, claims("")),
		// HS256 under this key, with claims it never issues.
		signed(fuzzKey, `{"alg":"HS256","typ":"JWT"}`, claims("")),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"other","aud":"certapi","sub":"u1","exp":`+itoa(exp)+`}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":"u1"}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":"u1","exp":"`+itoa(exp)+`"}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":"u1","exp":`+itoa(now.Unix())+`}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":"u1","exp":1e400}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":"u1","exp":-1e300}`),
		signed(fuzzKey, `{"alg":"HS256"}`, claims(`,"nbf":`+itoa(exp-1))),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","exp":`+itoa(exp)+`}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":"","exp":`+itoa(exp)+`}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","aud":"certapi","sub":7,"exp":`+itoa(exp)+`}`),
		signed(fuzzKey, `{"alg":"HS256"}`, `{"iss":"certapi","iss":"other","aud":"certapi","sub":"u1","exp":`+itoa(exp)+`}`),
		signed(fuzzKey, `{"alg":"HS256","alg":"none"}`, claims("")),
		signed(fuzzKey, `{"alg":"HS256"}`, `[]`),
		signed(fuzzKey, `{"alg":"HS256"}`, `null`),
		signed(fuzzOther, `{"alg":"HS256"}`, claims("")),
		// A valid token respelt: padded, with a line break, with the unused bits of
		// its signature set, with a fourth segment.
		valid + "=", valid + "==", valid[:len(valid)-5] + "\n" + valid[len(valid)-5:],
		respelt(valid, 1), respelt(valid, 3), valid + ".", valid + ".x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		sub, err := tokens.Verify(token)
		if err != nil {
			if !errors.Is(err, auth.ErrBadToken) || sub != "" {
				t.Fatalf("%q: refused with %q, %v; want ErrBadToken and no subject", token, sub, err)
			}
			return
		}
		if why := notIssued(token, sub, now); why != "" {
			t.Fatalf("%q verifies as %q, but %s", token, sub, why)
		}
	})
}

// notIssued says why token could not have been issued by the fuzz targets' Tokens
// for subject sub at now, or "" when it could.
func notIssued(token, sub string, now time.Time) string {
	segs := strings.Split(token, ".")
	if len(segs) != 3 {
		return "it does not have three segments"
	}
	enc := base64.RawURLEncoding.Strict()
	var raw [3][]byte
	for i, s := range segs {
		b, err := enc.DecodeString(s)
		if err != nil || enc.EncodeToString(b) != s {
			return "segment " + itoa(int64(i)) + " is not canonical base64url"
		}
		raw[i] = b
	}
	var header struct{ Alg string }
	if json.Unmarshal(raw[0], &header) != nil || header.Alg != "HS256" {
		return "its header names no HS256"
	}
	mac := hmac.New(sha256.New, fuzzKey)
	mac.Write([]byte(segs[0] + "." + segs[1]))
	if !hmac.Equal(mac.Sum(nil), raw[2]) {
		return "it is not signed with the key"
	}
	var claims struct {
		Iss string
		Sub string
		Exp *float64
		Nbf *float64
	}
	switch {
	case json.Unmarshal(raw[1], &claims) != nil:
		return "its claims do not read"
	case claims.Iss != "certapi":
		return "its issuer is " + claims.Iss
	case claims.Exp == nil || *claims.Exp <= float64(now.Unix()):
		return "it has no expiry after now"
	case claims.Nbf != nil && *claims.Nbf >= float64(now.Unix()+1):
		return "it is not valid before a later time"
	case claims.Sub == "" || claims.Sub != sub:
		return "its subject is " + claims.Sub
	}
	return ""
}

// FuzzVerifyIssued checks the tokens Issue signs, for any subject, time of issue
// (from 2020, to the second), lifetime (up to 18 hours) and time of use. Verify
//   - accepts the token exactly from its time of issue until its lifetime has
//     passed, by the clock the Tokens is given, and returns its subject;
//   - refuses it under another key;
//   - refuses any change to its bytes: one replaced, inserted or deleted, the
//     token cut short, or its signature respelt with the unused bits of its last
//     character set.
func FuzzVerifyIssued(f *testing.F) {
	f.Add("0190a0a0-0000-7000-8000-000000000001", uint32(217_000_000), uint16(900), int64(0), uint8(0), uint16(10), byte('A'))
	f.Add("0190a0a0-0000-7000-8000-000000000001", uint32(217_000_000), uint16(900), int64(899_999), uint8(1), uint16(200), byte('\n'))
	f.Add("0190a0a0-0000-7000-8000-000000000001", uint32(217_000_000), uint16(900), int64(900_000), uint8(2), uint16(36), byte(0))
	f.Add("u", uint32(0), uint16(1), int64(-1), uint8(3), uint16(50), byte('.'))
	f.Add("u", uint32(0), uint16(0), int64(0), uint8(0), uint16(0xffff), byte('B'))
	f.Add("", uint32(1), uint16(60), int64(30_000), uint8(1), uint16(0), byte(' '))
	f.Add("\xff", uint32(1), uint16(60), int64(30_000), uint8(0), uint16(1), byte('='))
	f.Fuzz(func(t *testing.T, subject string, issuedAt uint32, ttl uint16, elapsed int64, op uint8, pos uint16, b byte) {
		at := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(issuedAt) * time.Second)
		lifetime := time.Duration(ttl) * time.Second
		now := at
		tokens, err := auth.NewTokens(fuzzKey, lifetime, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		token, err := tokens.Issue(subject, auth.RoleDirector)
		if err != nil {
			t.Fatalf("issue for %q: %v", subject, err)
		}

		// By the clock: valid from the second of issue, not at its expiry.
		e := time.Duration(elapsed%(1<<40)) * time.Millisecond
		now = at.Add(e)
		sub, err := tokens.Verify(token)
		if want := subject != "" && e >= 0 && e < lifetime; (err == nil) != want {
			t.Fatalf("a %s token for %q used %s after issue: %q %v, want valid=%t", lifetime, subject, e, sub, err, want)
		}
		if err == nil && utf8.ValidString(subject) && sub != subject {
			t.Fatalf("a token for %q verifies as %q", subject, sub)
		}

		now = at
		if _, err := tokens.Verify(token); err != nil {
			return // no time at which to try the rest
		}
		other, _ := auth.NewTokens(fuzzOther, lifetime, func() time.Time { return now })
		if _, err := other.Verify(token); err == nil {
			t.Fatalf("%q verifies under another key", token)
		}
		for bits := 1; bits < 4; bits++ {
			if sub, err := tokens.Verify(respelt(token, bits)); err == nil {
				t.Fatalf("%q, %q respelt, verifies as %q", respelt(token, bits), token, sub)
			}
		}
		mutated := mutate(token, op, int(pos), b)
		if mutated == token {
			return
		}
		if sub, err := tokens.Verify(mutated); err == nil {
			t.Fatalf("%q, a change to %q, verifies as %q", mutated, token, sub)
		}
	})
}

// respelt is token with the unused low bits of its last character set to bits (1
// to 3). An HMAC-SHA256 signature is 32 bytes, 43 base64url characters of which the
// last carries 4 bits and 2 unused ones: a lenient decoder reads the same bytes.
func respelt(token string, bits int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, token[len(token)-1])
	if last < 0 {
		return token
	}
	return token[:len(token)-1] + string(alphabet[last&^3|bits&3])
}

// mutate changes token at pos: op 0 replaces the byte there with b, 1 inserts b
// before it, 2 deletes it, 3 cuts the token there.
func mutate(token string, op uint8, pos int, b byte) string {
	pos %= len(token) + 1
	switch op % 4 {
	case 0:
		if pos == len(token) {
			return token
		}
		return token[:pos] + string([]byte{b}) + token[pos+1:]
	case 1:
		return token[:pos] + string([]byte{b}) + token[pos:]
	case 2:
		if pos == len(token) {
			return token
		}
		return token[:pos] + token[pos+1:]
	default:
		return token[:pos]
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
