package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/apformation/certapi/internal/auth"
)

// partner registers a partner application through the API, as an admin, bound to
// the training site siteID ("" for none) and holding scopes, and returns the bearer
// of a token it obtained at the token endpoint with the client credentials grant.
// With no scopes, the bearer holds none: an application holds at least one, so the
// one registered holds webhooks:manage when its token is issued, then only
// results:read (a scope taken away stops working in the tokens already issued, and
// one given later is not in them).
//
// Each call takes one request from the token endpoint's allowance per client
// address (TokenRequests: 20 a minute), which a harness's requests share.
func (h *harness) partner(siteID string, scopes ...string) string {
	h.t.Helper()
	bearer, _ := h.partnerClient(siteID, scopes...)
	return bearer
}

// partnerClient is partner, and also returns the application's id.
func (h *harness) partnerClient(siteID string, scopes ...string) (bearer, id string) {
	h.t.Helper()
	held := scopes
	if len(held) == 0 {
		held = []string{"webhooks:manage"}
	}
	body := map[string]any{"name": fmt.Sprintf("Partenaire %d", h.nextPartner()), "scopes": held}
	if siteID != "" {
		body["training_site_id"] = siteID
	}
	admin := h.as(auth.RoleAdmin)
	res := h.do(req{method: "POST", path: "/v1/api-clients", bearer: admin, body: body})
	if res.code != http.StatusCreated {
		h.t.Fatalf("register a partner application: %d %s", res.code, res.raw)
	}
	c := res.json(h.t)
	bearer, id = h.clientToken(str(c, "client_id"), str(c, "client_secret"), ""), str(c, "id")
	if len(scopes) == 0 {
		res := h.do(req{method: "PATCH", path: "/v1/api-clients/" + id, bearer: admin, contentType: "application/merge-patch+json",
			headers: map[string]string{"If-Match": "*"}, body: `{"scopes":["results:read"]}`})
		if res.code != http.StatusOK {
			h.t.Fatalf("take the partner application's scope away: %d %s", res.code, res.raw)
		}
	}
	return bearer, id
}

// nextPartner numbers the partner applications a harness registers.
func (h *harness) nextPartner() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.partners++
	return h.partners
}

// clientToken is the bearer of a token obtained with the client credentials grant
// (credentials in the form), for scope ("" for all the application's scopes).
func (h *harness) clientToken(clientID, secret, scope string) string {
	h.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}}
	if scope != "" {
		form.Set("scope", scope)
	}
	res := h.do(tokenRequest(form.Encode()))
	if res.code != http.StatusOK {
		h.t.Fatalf("client credentials grant for %s: %d %s", clientID, res.code, res.raw)
	}
	return "Bearer " + str(res.json(h.t), "access_token")
}
