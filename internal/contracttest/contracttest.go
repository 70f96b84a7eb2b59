// Package contracttest checks responses against openapi.yaml, for every test that
// receives one: the status must be declared for the operation and the headers and
// body must match; an error from a route the contract does not have must still be
// a problem.
package contracttest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/apformation/certapi/internal/httpapi"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var (
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
)

// Contract returns the parsed contract and a router over it.
func Contract() (*openapi3.T, routers.Router) {
	once.Do(func() {
		var err error
		if doc, err = httpapi.Spec(); err != nil {
			panic(err)
		}
		if router, err = gorillamux.NewRouter(doc); err != nil {
			panic(err)
		}
		// The reference page is text, like the metrics; minutes and certificates have
		// a PDF form.
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/javascript", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
	})
	return doc, router
}

// Check validates one response to method path against the contract.
func Check(method, path string, status int, header http.Header, body []byte) error {
	d, r := Contract()
	req := httptest.NewRequest(method, path, nil)
	route, params, err := r.FindRoute(req)
	if err != nil || status == http.StatusMethodNotAllowed {
		if strings.HasPrefix(path, "/v1") || status >= 400 {
			return checkProblem(d, header, body)
		}
		return fmt.Errorf("%s %s is not in the contract", method, path)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

func checkProblem(d *openapi3.T, header http.Header, body []byte) error {
	if ct := header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Errorf("error response with Content-Type %q, want application/problem+json", ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("problem is not JSON: %w", err)
	}
	return d.Components.Schemas["Problem"].Value.VisitJSON(v)
}
