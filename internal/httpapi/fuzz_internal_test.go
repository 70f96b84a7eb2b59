package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apformation/certapi/api"
	"github.com/apformation/certapi/internal/service"
	"github.com/google/uuid"
)

// FuzzCheckOneJSONValue checks the strict reading of request bodies. For any body,
// checkOneJSONValue
//   - never panics;
//   - accepts exactly the bodies that are one JSON value, alone but for white space,
//     whose objects each name every member once, at every depth, names compared
//     after their escapes are decoded ("a" and "\u0061" are the same name);
//   - accepts nothing that encoding/json, which decodes the body next, refuses.
//
// The test finds duplicate names with a walk of the text of its own rather than
// with json.Decoder.Token, which the code under test uses.
func FuzzCheckOneJSONValue(f *testing.F) {
	for _, seed := range []string{
		`{"first_name":"Ada","last_name":"Lovelace","address":{"line1":"1 rue","line2":null}}`,
		`[1,2.5,-3e2,true,false,null,"x",{},[]]`,
		`"just a string"`, `0`, ` {"a":1} `, "{\"a\":1}\r\n\t",
		// Trailing data, and data that is not JSON at all.
		`{"a":1}{"a":2}`, `{"a":1} x`, `[1] ]`, `1 2`, `{"a":1},`, "{\"a\":1}\x00", ``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{1:2}`,
		`nul`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `"\x"`, "\"a\tb\"", `'a'`, `NaN`, `Infinity`,
		// Duplicate names, plain, escaped, nested, and the same name in sibling objects.
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"x":{"b":1,"b":2}}`, `[{"a":1},{"a":1}]`, `{"a":{"a":{"a":1}}}`,
		`{"grade":"12","grade":"9.999999999"}`, `{"a":1,"A":2}`, `{"\ud800":1,"\udbff":2}`, "{\"\xff\":1,\"\xfe\":2}",
		// Numbers encoding/json reads, exactly or not.
		`9.999999999`, `1e400`, `-1e-400`, `123456789012345678901234567890`, `{"grade":1E+308}`,
		// Deep nesting, at and just past the depth encoding/json accepts.
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkOneJSONValue(body)
		valid := json.Valid(body)
		unique := valid && namesUnique(body)
		if err == nil {
			if !valid {
				t.Fatalf("accepted %q, which encoding/json refuses", clip(body))
			}
			// Numbers as json.Number: a number too large for a float64 is a type's
			// limit, left to the field that reads it (grades are read exactly).
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			var v any
			if uerr := dec.Decode(&v); uerr != nil {
				t.Fatalf("accepted %q, which encoding/json cannot decode: %v", clip(body), uerr)
			}
			if !unique {
				t.Fatalf("accepted %q, which names a member twice", clip(body))
			}
		} else if unique {
			t.Fatalf("refused %q, one JSON value with unique names: %v", clip(body), err)
		}
	})
}

// clip shortens a body for a failure message.
func clip(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:100:100], "..."...)
	}
	return b
}

// namesUnique reports whether every object of data, a valid JSON text, names each
// of its members once.
func namesUnique(data []byte) bool {
	w := jsonWalker{s: data}
	return w.value()
}

// jsonWalker walks a JSON text known to be valid: it only has to find where each
// value starts and ends, never to report a syntax error.
type jsonWalker struct {
	s []byte
	i int
}

func (w *jsonWalker) space() {
	for w.i < len(w.s) && strings.IndexByte(" \t\r\n", w.s[w.i]) >= 0 {
		w.i++
	}
}

// value reads one value and reports whether its objects name their members once.
func (w *jsonWalker) value() bool {
	w.space()
	switch w.s[w.i] {
	case '{':
		w.i++
		seen := map[string]bool{}
		for {
			w.space()
			if w.s[w.i] == '}' {
				w.i++
				return true
			}
			if w.s[w.i] == ',' {
				w.i++
				w.space()
			}
			name := w.str()
			if seen[name] {
				return false
			}
			seen[name] = true
			w.space()
			w.i++ // the colon
			if !w.value() {
				return false
			}
		}
	case '[':
		w.i++
		for {
			w.space()
			if w.s[w.i] == ']' {
				w.i++
				return true
			}
			if w.s[w.i] == ',' {
				w.i++
			}
			if !w.value() {
				return false
			}
		}
	case '"':
		w.str()
	default:
		for w.i < len(w.s) && strings.IndexByte(",]} \t\r\n", w.s[w.i]) < 0 {
			w.i++
		}
	}
	return true
}

// str reads a string and returns it decoded, as encoding/json decodes a member name.
func (w *jsonWalker) str() string {
	start := w.i
	for w.i++; w.s[w.i] != '"'; w.i++ {
		if w.s[w.i] == '\\' {
			w.i++
		}
	}
	w.i++
	var s string
	_ = json.Unmarshal(w.s[start:w.i], &s)
	return s
}

// The keys the lists are paged by: ids, which are canonical UUIDs, and certification
// codes; written out here rather than taken from the code under test.
var (
	fuzzUUIDKey = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	fuzzCodeKey = regexp.MustCompile(`^[A-Z0-9]{1,20}$`)
	fuzzRuleKey = regexp.MustCompile(`^[A-Z0-9]+(-[A-Z0-9]+)+$`)
)

// FuzzPage checks the reading of a list's cursor. For any cursor and limit, page
//   - never panics, and keeps the limit it is given;
//   - reads no cursor, or an empty one, as the first page;
//   - answers any other cursor either with a 400 on /cursor, or with the position
//     after a key a list is paged by, of which the cursor is the one encoding: a
//     malformed cursor is an error, never a position past every item that reads as
//     the end of the list;
//   - reads back the cursor trim issues after any id, certification code or rule id.
func FuzzPage(f *testing.F) {
	issued := func(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }
	for _, seed := range []struct {
		cursor string
		limit  int32
	}{
		{"", 20},
		{issued("01900000-0000-7000-8000-000000000000"), 20},
		{issued("0199f3c2-7a1b-7c3d-9e4f-a0b1c2d3e4f5"), 1},
		{issued("RNCP26206"), 100},
		{issued("REGISTRATION-PERIOD"), 20},
		{issued("REGISTRATION-"), 20},                // a rule id cut short
		{issued("-PERIOD"), 20},                      // and at its start
		{issued("A-" + strings.Repeat("B", 39)), 20}, // longer than any key
		{"!!", 20},   // not base64url
		{"AA==", 20}, // padded: the API's cursors are not
		{"A", 20},    // a length no encoding has
		{"_w", 20},   // one byte 0xff: after every id
		{"QR", 20},   // "A" with stray bits in the last character
		{"\n", 20},   // only what a decoder skips
		{"MDE5\nMDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw", 20}, // a line break inside
		{issued("01900000-0000-7000-8000-00000000000"), 20},        // an id cut short
		{issued("01900000-0000-7000-8000-000000000000")[:40], 20},  // a cursor cut short
		{issued("01900000-0000-7000-8000-00000000000G"), 20},
		{issued("01900000-0000-7000-8000-000000000000 "), 20},
		{issued("rncp26206"), 20},
		{issued("\x00"), 20},
		{issued("' OR 1=1 --"), 20},
		{strings.Repeat("A", 200), 20},
		{issued("01900000-0000-7000-8000-000000000000"), -1},
		{issued("01900000-0000-7000-8000-000000000000"), 0},
	} {
		f.Add(seed.cursor, seed.limit)
	}
	f.Fuzz(func(t *testing.T, cursor string, limit int32) {
		if utf8.RuneCountInString(cursor) > 200 {
			t.Skip("the contract refuses a cursor of more than 200 characters before page reads it")
		}
		p, err := page(context.Background(), &limit, &cursor)
		if p.Limit != int(limit) {
			t.Fatalf("limit %d read as %d", limit, p.Limit)
		}
		switch {
		case err != nil:
			var ce *contractError
			if !errors.As(err, &ce) || len(ce.violations) != 1 || ce.violations[0].Field != "/cursor" {
				t.Fatalf("cursor %q: %v, want a 400 on /cursor", cursor, err)
			}
		case cursor == "":
			if p.After != "" {
				t.Fatalf("an empty cursor reads as after %q", p.After)
			}
		default:
			if !fuzzUUIDKey.MatchString(p.After) && !fuzzCodeKey.MatchString(p.After) && (!fuzzRuleKey.MatchString(p.After) || len(p.After) > 40) {
				t.Fatalf("cursor %q read as after %q, not a key any list is paged by", cursor, p.After)
			}
			if again := issued(p.After); again != cursor {
				t.Fatalf("cursor %q read as after %q, whose cursor is %q", cursor, p.After, again)
			}
		}

		// Whatever the input, an id, a code and a rule id made of it page back to
		// themselves.
		sum := sha256.Sum256([]byte(cursor))
		id := uuid.UUID(sum[:16]).String()
		code := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - 'a' + 'A'
			}
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				return r
			}
			return -1
		}, cursor)
		if len(code) > 20 {
			code = code[:20]
		}
		if code == "" {
			code = "RNCP26206"
		}
		rule := code[:min(len(code), 19)]
		rule += "-" + rule
		// With filters too: the cursor goes on with the same filters, and only them.
		filtered := withFilters(context.Background(), url.Values{"route": {cursor}})
		for _, ctx := range []context.Context{context.Background(), filtered} {
			for _, key := range []string{id, code, rule} {
				one := service.Page{Limit: 1}
				_, next := trim(ctx, []string{key, key + "~"}, one, func(s string) string { return s })
				if next == nil {
					t.Fatalf("a full page after %q has no next cursor", key)
				}
				back, err := page(ctx, ptr(api.Limit(one.Limit)), next)
				if err != nil || back.After != key {
					t.Fatalf("the cursor %q issued after %q reads back as %q, %v", *next, key, back.After, err)
				}
				other := context.Background()
				if ctx == other {
					other = filtered
				}
				if _, err := page(other, ptr(api.Limit(one.Limit)), next); err == nil {
					t.Fatalf("the cursor %q issued after %q goes on with other filters", *next, key)
				}
			}
		}
	})
}
