package httpapi

import (
	"bytes"
	"html/template"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// docsPage renders the contract as one self-contained HTML page: every operation
// with its roles, parameters, body and answers, then every schema, then the problem
// codes. Nothing is loaded from elsewhere.
func docsPage(spec *openapi3.T) ([]byte, error) {
	type param struct {
		Name, In, Type, Description string
		Required                    bool
	}
	type op struct {
		Method, Path, ID, Summary, Description, Roles, Body string
		Params                                              []param
		Responses                                           []string
	}
	type tag struct {
		Name, Description string
		Ops               []op
	}
	type field struct {
		Name, Type, Description string
		Required                bool
	}
	type schema struct {
		Name, Description string
		Fields            []field
	}
	byTag := map[string]*tag{}
	var tags []*tag
	for _, t := range spec.Tags {
		tg := &tag{Name: t.Name, Description: t.Description}
		byTag[t.Name] = tg
		tags = append(tags, tg)
	}
	paths := spec.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := spec.Paths.Value(path)
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			o := item.GetOperation(method)
			if o == nil {
				continue
			}
			x := op{Method: method, Path: path, ID: o.OperationID, Summary: o.Summary, Description: o.Description}
			if roles, ok := o.Extensions["x-roles"].([]any); ok {
				var rs []string
				for _, r := range roles {
					rs = append(rs, r.(string))
				}
				x.Roles = strings.Join(rs, ", ")
			}
			for _, p := range append(item.Parameters, o.Parameters...) {
				if p.Value == nil {
					continue
				}
				x.Params = append(x.Params, param{Name: p.Value.Name, In: p.Value.In, Required: p.Value.Required,
					Type: typeOf(p.Value.Schema), Description: p.Value.Description})
			}
			if o.RequestBody != nil && o.RequestBody.Value != nil {
				for mt, c := range o.RequestBody.Value.Content {
					x.Body = mt + ": " + typeOf(c.Schema)
				}
			}
			codes := make([]string, 0, o.Responses.Len())
			for code := range o.Responses.Map() {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			x.Responses = codes
			name := "other"
			if len(o.Tags) > 0 {
				name = o.Tags[0]
			}
			if byTag[name] == nil {
				byTag[name] = &tag{Name: name}
				tags = append(tags, byTag[name])
			}
			byTag[name].Ops = append(byTag[name].Ops, x)
		}
	}
	names := make([]string, 0, len(spec.Components.Schemas))
	for n := range spec.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	var schemas []schema
	for _, n := range names {
		s := spec.Components.Schemas[n].Value
		sc := schema{Name: n, Description: s.Description}
		props := make([]string, 0, len(s.Properties))
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		for _, p := range props {
			ps := s.Properties[p]
			f := field{Name: p, Type: typeOf(ps)}
			if ps.Value != nil {
				f.Description = ps.Value.Description
			}
			for _, r := range s.Required {
				f.Required = f.Required || r == p
			}
			sc.Fields = append(sc.Fields, f)
		}
		schemas = append(schemas, sc)
	}
	var buf bytes.Buffer
	err := docsTemplate.Execute(&buf, map[string]any{
		"Title": spec.Info.Title, "Version": spec.Info.Version, "Description": spec.Info.Description,
		"Tags": tags, "Schemas": schemas, "Problems": problemCodes,
	})
	return buf.Bytes(), err
}

func typeOf(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	if ref.Ref != "" {
		return ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
	}
	s := ref.Value
	if s == nil || s.Type == nil {
		return "object"
	}
	t := strings.Join(s.Type.Slice(), "|")
	if t == "array" {
		return "array of " + typeOf(s.Items)
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	if len(s.Enum) > 0 {
		var vs []string
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				vs = append(vs, str)
			}
		}
		t += ": " + strings.Join(vs, " | ")
	}
	return t
}

// problemCodes lists the stable codes of problem+json answers, with their status.
var problemCodes = []struct{ Code, Status, Meaning string }{
	{"invalid_request", "400", "the request does not match openapi.yaml; violations point at each field"},
	{"unsupported_grant_type", "400", "the token endpoint does not serve this grant"},
	{"unauthenticated", "401", "no bearer token, or one that is expired, malformed or not ours"},
	{"invalid_grant", "401", "wrong username or password, or a deactivated account"},
	{"forbidden", "403", "this role may not call this operation"},
	{"not_found", "404", "absent, or not visible to the caller"},
	{"method_not_allowed", "405", "the path exists, not with this method"},
	{"duplicate_email", "409", "another account uses this email; existing_id names it"},
	{"duplicate_period", "409", "this registration period is already recorded"},
	{"idempotency_in_progress", "409", "a request with this Idempotency-Key is still running"},
	{"idempotency_answer_lost", "409", "the request with this Idempotency-Key was carried out, but the service stopped before keeping its answer; existing_id names what it created"},
	{"self_deactivation", "409", "an administrator cannot deactivate their own account"},
	{"last_admin", "409", "the change would leave no active administrator"},
	{"duplicate_candidate", "409", "the same person is already registered for the certification; existing_id names them when you may see them"},
	{"already_withdrawn", "409", "the candidate has already withdrawn"},
	{"not_vae", "409", "only a VAE candidate has an admissibility decision"},
	{"component_acquired", "409", "the component is acquired and valid on that day; the detail names its expiry"},
	{"component_awaiting_validation", "409", "the component has a passing grade that awaits the jury"},
	{"component_already_scheduled", "409", "the component already has a sitting scheduled"},
	{"evaluation_not_scheduled", "409", "only a scheduled sitting without a result moves or is cancelled"},
	{"evaluation_cancelled", "409", "the sitting was cancelled"},
	{"evaluation_not_held", "409", "the sitting has not taken place yet"},
	{"result_already_recorded", "409", "the sitting has its result; correct it with result-correction"},
	{"no_result", "409", "there is no result to correct"},
	{"result_validated", "409", "a jury validated the result: it is no longer corrected"},
	{"result_under_deliberation", "409", "a draft decision of a session not yet closed relies on the result"},
	{"session_not_planned", "409", "members, defences, site and day change while a session is planned"},
	{"session_has_defences", "409", "a session with defences booked keeps its site and day"},
	{"session_not_deliberating", "409", "the session has decided on no candidate: there is nothing to close"},
	{"session_closed", "409", "the session is closed: its decisions are corrected, never edited"},
	{"session_not_closed", "409", "minutes and corrections exist once the session is closed"},
	{"decision_exists", "409", "the session has decided on this candidate; existing_id names the decision"},
	{"decision_published", "409", "a published decision is never deleted, only corrected"},
	{"decision_superseded", "409", "that decision was corrected already; existing_id names the current one"},
	{"already_certified", "409", "the candidate was awarded the certification; existing_id names the award"},
	{"member_in_session", "409", "the jury member sits in a session not yet closed"},
	{"decision_pending", "409", "another session has decided on the candidate and is not closed yet; existing_id names that decision"},
	{"decision_not_latest", "409", "a later decision relies on the one to correct; existing_id names it"},
	{"route_fixed", "409", "a jury validated results on this registration: its route no longer changes"},
	{"evaluation_moved", "409", "the defence moved to another session meanwhile; retry"},
	{"jury_member_bound", "409", "another account is bound to this jury member; existing_id names it"},
	{"certificate_revoked", "409", "the certificate was revoked already"},
	{"stale_etag", "412", "If-Match names an older version; read the resource again"},
	{"payload_too_large", "413", "the body is larger than the service accepts"},
	{"unsupported_media_type", "415", "the body's Content-Type is not the operation's"},
	{"rule_violation", "422", "the request breaks certification rules; each violation names its rule"},
	{"invalid_value", "422", "the request is well-formed but a value is not acceptable"},
	{"idempotency_key_reused", "422", "this Idempotency-Key was used with another request"},
	{"precondition_required", "428", "the change needs If-Match: the ETag it is based on, or *"},
	{"too_many_requests", "429", "too many requests from one address (token endpoint, certificate verification); retry after Retry-After"},
	{"internal_error", "500", "an unexpected failure; quote the request id"},
	{"unavailable", "503", "the database does not answer"},
}

var docsTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
main{max-width:1100px;margin:auto;padding:1.5rem}
h1{margin-top:0}h2{border-bottom:2px solid #d8dee9;padding-bottom:.3rem;margin-top:2.5rem}
.op{background:#fff;border:1px solid #d8dee9;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}
.GET{color:#1a7f37}.POST{color:#0969da}.PATCH{color:#9a6700}.DELETE{color:#cf222e}
code,.path{font-family:ui-monospace,monospace}table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #e1e4e8;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:14px}
.roles{color:#57606a}.desc{white-space:pre-wrap}nav a{margin-right:1rem}
</style></head><body><main>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p class="desc">{{.Description}}</p>
<nav>{{range .Tags}}<a href="#tag-{{.Name}}">{{.Name}}</a>{{end}}<a href="#schemas">schemas</a><a href="#problems">problems</a><a href="/openapi.yaml">openapi.yaml</a></nav>
{{range .Tags}}<h2 id="tag-{{.Name}}">{{.Name}}</h2><p>{{.Description}}</p>
{{range .Ops}}<div class="op" id="op-{{.ID}}"><div><span class="m {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span> — {{.Summary}}</div>
<div class="roles">operationId <code>{{.ID}}</code>{{if .Roles}} · roles: {{.Roles}}{{end}}</div>
{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code></td><td>{{.In}}</td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<div>body: <code>{{.Body}}</code></div>{{end}}
<div>answers: {{range .Responses}}<code>{{.}}</code> {{end}}</div></div>{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<div class="op" id="schema-{{.Name}}"><strong>{{.Name}}</strong>{{if .Description}} — {{.Description}}{{end}}
{{if .Fields}}<table><tr><th>field</th><th>type</th><th>required</th><th>description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code></td><td>{{.Type}}</td><td>{{if .Required}}yes{{end}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}</div>{{end}}
<h2 id="problems">Problem codes</h2>
<table><tr><th>code</th><th>status</th><th>meaning</th></tr>
{{range .Problems}}<tr id="problem-{{.Code}}"><td><code>{{.Code}}</code></td><td>{{.Status}}</td><td>{{.Meaning}}</td></tr>{{end}}</table>
</main></body></html>
`))
