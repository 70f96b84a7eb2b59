package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apformation/certapi/internal/auth"
	"github.com/getkin/kin-openapi/openapi3"
)

// walkRequest is one request the walker sends, and whether it is one the contract
// refuses (so that it must change nothing).
type walkRequest struct {
	name    string
	r       req
	refused bool
}

// TestContractWalk walks openapi.yaml and sends every operation its example request
// and many mutations of it: each required member left out, members of the wrong
// type, overlong strings, numbers out of range, malformed formats, nulls, unknown
// members, bad query parameters and junk headers. The bar: no 5xx, every answer
// valid against the contract (the harness checks it; a 4xx is a problem), and no
// write from a request the contract refuses.
func TestContractWalk(t *testing.T) {
	forEachDialect(t, func(t *testing.T, h *harness) {
		admin := h.as(auth.RoleAdmin)
		ids := walkIDs(h)
		doc, _ := contract(t)
		var paths []string
		for p := range doc.Paths.Map() {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		sent, refused := 0, 0
		for _, path := range paths {
			item := doc.Paths.Value(path)
			if !strings.HasPrefix(path, "/v1/") {
				continue
			}
			for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				op := item.GetOperation(method)
				if op == nil {
					continue
				}
				params := append(openapi3.Parameters{}, item.Parameters...)
				params = append(params, op.Parameters...)
				for _, w := range walkRequests(method, path, params, op, ids) {
					if w.r.bearer == "" && !strings.Contains(w.name, "no token") {
						w.r.bearer = admin
					}
					before := ""
					if w.refused && method != "GET" {
						before = fingerprint(t, h)
					}
					res := h.do(w.r)
					sent++
					if res.code >= 500 {
						t.Errorf("%s %s (%s): %d %s", method, path, w.name, res.code, res.raw)
					}
					if w.refused && res.code < 400 {
						t.Errorf("%s %s (%s): %d, want it refused", method, path, w.name, res.code)
					}
					if before != "" {
						refused++
						if after := fingerprint(t, h); after != before {
							t.Errorf("%s %s (%s): a refused request changed the data:\n%s\n%s", method, path, w.name, before, after)
						}
					}
				}
			}
		}
		t.Logf("%d requests, %d refused writes checked for no effect", sent, refused)
		if sent < 1000 {
			t.Errorf("only %d requests", sent)
		}
	})
}

// walkIDs are ids of resources that exist, by the path parameter that names them.
func walkIDs(h *harness) map[string]string {
	cand := h.candidate(map[string]any{"first_name": "Walker"})
	session := h.session("2019-10-01")
	eval := str(expect(h.t, schedule(h, h.as(auth.RoleAdmin), cand, "E1", sitePierreBayle, "2019-09-02T09:00:00Z"), http.StatusCreated), "id")
	return map[string]string{
		"/v1/candidates/{id}": cand, "/v1/evaluations/{id}": eval, "/v1/jury-sessions/{id}": session,
		"/v1/jury-members/{id}": h.jury()[1], "/v1/training-sites/{id}": siteVauquelin, "/v1/users/{id}": h.users[auth.RoleAdmin],
		"member_id": h.jury()[2], "decision_id": "01900000-0000-7000-8000-000000000000", "code": "RNCP26206",
		"number": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF",
	}
}

// fingerprint sums up the business data: counts and versions of every table a
// request could write (the audit trail aside: refused attempts are audited).
func fingerprint(t *testing.T, h *harness) string {
	t.Helper()
	var out []string
	for _, q := range []string{
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM candidates",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM evaluations",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM training_sites",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM users",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM jury_members",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM jury_sessions",
		"SELECT COUNT(*), COALESCE(SUM(revision), 0) FROM decisions",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM certificates",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM certifications",
		"SELECT COUNT(*), 0 FROM registration_periods",
		"SELECT COUNT(*), 0 FROM idempotency_keys",
		"SELECT COUNT(*), 0 FROM result_events",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM webhook_subscriptions",
		"SELECT COUNT(*), COALESCE(SUM(attempts), 0) FROM webhook_deliveries",
		"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM api_clients",
		"SELECT COUNT(*), 0 FROM refresh_tokens",
		"SELECT COUNT(*), 0 FROM password_resets",
	} {
		var n, v int64
		if err := h.store.DB().Raw(q).Row().Scan(&n, &v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, fmt.Sprint(n, "/", v))
	}
	return strings.Join(out, " ")
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// walkRequests builds the example request of an operation and its mutations.
func walkRequests(method, path string, params openapi3.Parameters, op *openapi3.Operation, ids map[string]string) []walkRequest {
	concrete := pathParamRE.ReplaceAllStringFunc(path, func(m string) string {
		name := m[1 : len(m)-1]
		if id, ok := ids[name]; ok {
			return id
		}
		prefix := path[:strings.Index(path, m)+len(m)]
		if id, ok := ids[prefix]; ok {
			return id
		}
		return "01900000-0000-7000-8000-000000000000"
	})
	base := req{method: method, path: concrete, headers: map[string]string{}}
	query := url.Values{}
	for _, p := range params {
		switch p.Value.In {
		case "header":
			if p.Value.Name == "If-Match" {
				base.headers["If-Match"] = "*"
			}
		case "query":
			if p.Value.Required {
				query.Set(p.Value.Name, fmt.Sprint(exampleOf(p.Value.Schema)))
			}
		}
	}
	var body map[string]any
	var schema *openapi3.Schema
	if op.RequestBody != nil {
		for mt, c := range op.RequestBody.Value.Content {
			base.contentType, schema = mt, c.Schema.Value
			if ex, ok := exampleOf(c.Schema).(map[string]any); ok {
				body = ex
			}
		}
	}
	with := func(name string, mutate func(*req), refused bool) walkRequest {
		r := base
		r.headers = map[string]string{}
		for k, v := range base.headers {
			r.headers[k] = v
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		if body != nil {
			r.body = encodeBody(base.contentType, body)
		}
		mutate(&r)
		if r.path == base.path && len(q) > 0 {
			r.path += "?" + q.Encode()
		}
		return walkRequest{name: name, r: r, refused: refused}
	}
	secured := op.Security == nil || len(*op.Security) > 0
	out := []walkRequest{with("the example", func(*req) {}, false)}
	out = append(out, with("no token", func(r *req) { r.bearer = "" }, secured),
		with("a malformed token", func(r *req) { r.bearer = "Bearer not.a.token" }, secured),
		with("a junk Authorization", func(r *req) { r.bearer = "Basic " + strings.Repeat("x", 5000) }, secured))
	for _, p := range params {
		pv := p.Value
		switch pv.In {
		case "query":
			for _, bad := range badQueryValues(pv.Schema.Value) {
				out = append(out, with(fmt.Sprintf("query %s=%v", pv.Name, bad), func(r *req) {
					r.path = base.path + "?" + url.Values{pv.Name: {fmt.Sprint(bad)}}.Encode()
				}, true))
			}
		case "path":
			out = append(out, with("path "+pv.Name+" malformed", func(r *req) {
				r.path = strings.Replace(base.path, pathValue(base.path, path, pv.Name), "not%20an%20id", 1)
			}, true))
		case "header":
			if pv.Name == "If-Match" {
				out = append(out, with("If-Match \"-1\"", func(r *req) { r.headers["If-Match"] = `"-1"` }, true),
					with("If-Match overlong", func(r *req) { r.headers["If-Match"] = strings.Repeat("9", 500) }, true))
			}
			if pv.Name == "Idempotency-Key" {
				out = append(out, with("Idempotency-Key overlong", func(r *req) { r.headers["Idempotency-Key"] = strings.Repeat("k", 500) }, true))
			}
		}
	}
	if schema == nil || body == nil {
		return out
	}
	if base.contentType == "application/x-www-form-urlencoded" {
		return out
	}
	out = append(out,
		with("trailing data", func(r *req) { r.body = string(encodeJSON(body)) + "xyz" }, true),
		with("not JSON", func(r *req) { r.body = "{" }, true),
		with("an array", func(r *req) { r.body = "[]" }, true),
		with("text/plain", func(r *req) { r.contentType = "text/plain" }, true),
		with("an unknown member", func(r *req) { r.body = encodeBody(base.contentType, merged(body, "unknown_member", 1)) }, true))
	for _, name := range schema.Required {
		out = append(out, with("without "+name, func(r *req) { r.body = encodeBody(base.contentType, without(body, name)) }, true))
	}
	for name, prop := range schema.Properties {
		if prop.Value == nil {
			continue
		}
		for _, bad := range badValues(prop.Value) {
			out = append(out, with(fmt.Sprintf("%s=%.40v", name, bad), func(r *req) { r.body = encodeBody(base.contentType, merged(body, name, bad)) }, true))
		}
		if !prop.Value.Nullable {
			out = append(out, with(name+"=null", func(r *req) { r.body = encodeBody(base.contentType, merged(body, name, nil)) }, true))
		}
	}
	return out
}

// badValues are values a schema refuses: of another type, too long, out of range,
// malformed, not in the enum.
func badValues(s *openapi3.Schema) []any {
	if s == nil {
		return nil
	}
	var out []any
	switch {
	case s.Type.Is("string"):
		out = append(out, 12345, true, []any{"x"})
		if s.MaxLength != nil {
			out = append(out, strings.Repeat("é", int(*s.MaxLength)+1))
		}
		switch s.Format {
		case "uuid":
			out = append(out, "not-a-uuid")
		case "date":
			out = append(out, "2019-13-45", "0000-01-01", "9999-12-31")
		case "date-time":
			out = append(out, "yesterday", "0001-01-01T00:00:00Z")
		case "email":
			out = append(out, "nobody")
		}
		if len(s.Enum) > 0 {
			out = append(out, "not_in_the_enum")
		}
	case s.Type.Is("integer"), s.Type.Is("number"):
		out = append(out, "12", 1e308, -1e308)
		if s.Min != nil {
			out = append(out, *s.Min-1)
		}
		if s.Max != nil {
			out = append(out, *s.Max+1)
		}
		if s.Type.Is("integer") {
			out = append(out, 1.5)
		}
	case s.Type.Is("boolean"):
		out = append(out, "yes", 1)
	case s.Type.Is("array"):
		out = append(out, "x", map[string]any{})
		if s.MaxItems != nil {
			many := make([]any, *s.MaxItems+1)
			for i := range many {
				many[i] = exampleOf(s.Items)
			}
			out = append(out, many)
		}
	case s.Type.Is("object"):
		out = append(out, "x", 1)
	}
	return out
}

// badQueryValues are values a query parameter's schema refuses, written in a query
// string (where every value is text).
func badQueryValues(s *openapi3.Schema) []any {
	var out []any
	for _, v := range badValues(s) {
		switch x := v.(type) {
		case string:
			if _, err := strconv.ParseFloat(x, 64); err == nil && (s.Type.Is("integer") || s.Type.Is("number")) {
				continue // a number, as a query string writes one
			}
			out = append(out, v)
		case float64:
			if s.Type.Is("integer") || s.Type.Is("number") {
				out = append(out, v)
			}
		}
	}
	if s.Type.Is("integer") || s.Type.Is("number") || s.Type.Is("boolean") {
		out = append(out, "abc")
	}
	return out
}

// exampleOf is a schema's example, or its items' or members', built up.
func exampleOf(ref *openapi3.SchemaRef) any {
	if ref == nil || ref.Value == nil {
		return nil
	}
	s := ref.Value
	if s.Example != nil {
		raw, _ := json.Marshal(s.Example)
		var v any
		_ = json.Unmarshal(raw, &v)
		return v
	}
	switch {
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is("object"):
		m := map[string]any{}
		for name, p := range s.Properties {
			m[name] = exampleOf(p)
		}
		return m
	case s.Type.Is("array"):
		return []any{exampleOf(s.Items)}
	case s.Type.Is("integer"), s.Type.Is("number"):
		return 1
	case s.Type.Is("boolean"):
		return true
	}
	return "x"
}

func pathValue(concrete, template, name string) string {
	cs, ts := strings.Split(concrete, "/"), strings.Split(template, "/")
	for i := range ts {
		if ts[i] == "{"+name+"}" && i < len(cs) {
			return cs[i]
		}
	}
	return ""
}

func merged(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func encodeJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func encodeBody(contentType string, body map[string]any) string {
	if contentType == "application/x-www-form-urlencoded" {
		q := url.Values{}
		for k, v := range body {
			q.Set(k, fmt.Sprint(v))
		}
		return q.Encode()
	}
	return encodeJSON(body)
}
