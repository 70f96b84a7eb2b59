package httpapi

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/apformation/certapi/api"
	"github.com/labstack/echo/v4"
)

// problemCodes lists the stable codes of problem+json answers: their status, their
// title, and what they mean. openapi.yaml lists the same codes (Problem.code), and
// /problems/{code} explains each.
var problemCodes = []struct {
	Code                   api.ProblemCode
	Status, Title, Meaning string
}{
	{"invalid_request", "400", "The request does not match the contract", "the request does not match openapi.yaml; violations point at each field"},
	{"unauthenticated", "401", "Authentication is required", "no bearer token, or one that is expired, malformed or not ours"},
	{"forbidden", "403", "This role may not do this", "this role may not call this operation"},
	{"not_found", "404", "Not found", "absent, or not visible to the caller"},
	{"method_not_allowed", "405", "Method not allowed", "the path exists, not with this method"},
	{"duplicate_email", "409", "The email is taken", "another account uses this email; existing_id names it"},
	{"duplicate_period", "409", "The registration period exists", "this registration period is already recorded"},
	{"idempotency_in_progress", "409", "The first request with this Idempotency-Key is still running", "a request with this Idempotency-Key is still running"},
	{"idempotency_answer_lost", "409", "The request was carried out; its answer was lost", "the request with this Idempotency-Key was carried out, but the service stopped before keeping its answer; existing_id names what it created"},
	{"self_deactivation", "409", "An administrator cannot deactivate themselves", "an administrator cannot deactivate their own account"},
	{"last_admin", "409", "The last administrator stays", "the change would leave no active administrator"},
	{"duplicate_candidate", "409", "The person is registered already", "the same person is already registered for the certification; existing_id names them when you may see them"},
	{"already_withdrawn", "409", "The candidate has withdrawn already", "the candidate has already withdrawn"},
	{"not_vae", "409", "The candidate is not on the VAE route", "only a VAE candidate has an admissibility decision"},
	{"component_acquired", "409", "The component is acquired", "the component is acquired and valid on that day; the detail names its expiry"},
	{"component_awaiting_validation", "409", "The component awaits the jury", "the component has a passing grade that awaits the jury"},
	{"component_already_scheduled", "409", "The component is scheduled already", "the component already has a sitting scheduled"},
	{"evaluation_not_scheduled", "409", "The sitting is no longer scheduled", "only a scheduled sitting without a result moves or is cancelled"},
	{"evaluation_cancelled", "409", "The sitting was cancelled", "the sitting was cancelled"},
	{"evaluation_not_held", "409", "The sitting has not taken place", "the sitting has not taken place yet"},
	{"result_already_recorded", "409", "The result is recorded already", "the sitting has its result; correct it with result-correction"},
	{"no_result", "409", "There is no result", "there is no result to correct"},
	{"result_validated", "409", "A jury validated the result", "a jury validated the result: it is no longer corrected"},
	{"result_under_deliberation", "409", "A deliberation relies on the result", "a draft decision of a session not yet closed relies on the result"},
	{"session_not_planned", "409", "The session is no longer planned", "members, defences, site and day change while a session is planned"},
	{"session_has_defences", "409", "The session has defences booked", "a session with defences booked keeps its site and day"},
	{"session_not_deliberating", "409", "The session has nothing to close", "the session has decided on no candidate: there is nothing to close"},
	{"session_closed", "409", "The session is closed", "the session is closed: its decisions are corrected, never edited"},
	{"session_not_closed", "409", "The session is not closed", "minutes and corrections exist once the session is closed"},
	{"decision_exists", "409", "The session has decided on the candidate", "the session has decided on this candidate; existing_id names the decision"},
	{"decision_published", "409", "The decision is published", "a published decision is never deleted, only corrected"},
	{"decision_superseded", "409", "The decision was corrected already", "that decision was corrected already; existing_id names the current one"},
	{"already_certified", "409", "The candidate is certified", "the candidate was awarded the certification; existing_id names the award"},
	{"member_in_session", "409", "The jury member sits in an open session", "the jury member sits in a session not yet closed"},
	{"decision_pending", "409", "Another session is deciding on the candidate", "another session has decided on the candidate and is not closed yet; existing_id names that decision"},
	{"decision_not_latest", "409", "A later decision relies on this one", "a later decision relies on the one to correct; existing_id names it"},
	{"route_fixed", "409", "The route no longer changes", "a jury validated results on this registration: its route no longer changes"},
	{"evaluation_moved", "409", "The defence moved meanwhile", "the defence moved to another session meanwhile; retry"},
	{"jury_member_bound", "409", "The jury member has an account already", "another account is bound to this jury member; existing_id names it"},
	{"certificate_revoked", "409", "The certificate is revoked already", "the certificate was revoked already"},
	{"receipt_imported", "409", "The receipt was imported already", "the declaration file's receipt was imported already: a file has one receipt"},
	{"declaration_file_concurrent", "409", "Another declaration file took the same awards", "another declaration file took some of the same awards meanwhile; list the files and make this one again"},
	{"duplicate_subscription", "409", "The subscription exists", "the partner application has a webhook subscription for this URL already"},
	{"api_client_revoked", "409", "The partner application is revoked", "the partner application is revoked: it no longer changes; register a new one"},
	{"account_active", "409", "The account is active", "the account is active already"},
	{"account_inactive", "409", "The account is deactivated", "the account is deactivated: reactivate it before issuing a password reset"},
	{"stale_etag", "412", "The resource has changed", "If-Match names an older version; read the resource again"},
	{"payload_too_large", "413", "The request body is too large", "the body is larger than the service accepts"},
	{"unsupported_media_type", "415", "Unsupported media type", "the body's Content-Type is not the operation's"},
	{"rule_violation", "422", "The request breaks certification rules", "the request breaks certification rules; each violation names its rule"},
	{"invalid_value", "422", "A value is not acceptable", "the request is well-formed but a value is not acceptable"},
	{"idempotency_key_reused", "422", "The Idempotency-Key was used for another request", "this Idempotency-Key was used with another request"},
	{"precondition_required", "428", "If-Match is required", "the change needs If-Match: the ETag it is based on, or *"},
	{"too_many_requests", "429", "Too many requests", "too many requests from one address (token, revocation and password reset endpoints, certificate verification) or failed logins against one account; retry after Retry-After"},
	{"internal_error", "500", "Internal error", "an unexpected failure; quote the request id"},
	{"unavailable", "503", "Service unavailable", "the database does not answer"},
}

// problemTitles are the titles by code: the title of a problem says what its code
// says.
var problemTitles = func() map[api.ProblemCode]string {
	m := map[api.ProblemCode]string{}
	for _, p := range problemCodes {
		m[p.Code] = p.Title
	}
	return m
}()

var problemTemplate = template.Must(template.New("problem").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Code}}: {{.Title}}</title><link rel="icon" href="data:,"></head>
<body><h1>{{.Title}}</h1>
<p>Problem code <code>{{.Code}}</code>, HTTP status {{.Status}}: {{.Meaning}}.</p>
<p>Every problem+json answer of the API names its code; <a href="/docs">the reference</a> says which operations answer with it.</p>
</body></html>
`))

// registerProblems serves /problems/{code}, the type of every problem+json answer.
func registerProblems(e *echo.Echo) {
	pages := map[api.ProblemCode][]byte{}
	for _, p := range problemCodes {
		var b bytes.Buffer
		if err := problemTemplate.Execute(&b, p); err != nil {
			panic(err)
		}
		pages[p.Code] = b.Bytes()
	}
	e.GET(problemTypeBase+":code", func(c echo.Context) error {
		page, ok := pages[api.ProblemCode(c.Param("code"))]
		if !ok {
			return echo.ErrNotFound
		}
		c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		return c.HTMLBlob(http.StatusOK, page)
	})
}
