package httpapi

import (
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"
)

// The reference page is Redoc (github.com/Redocly/redoc, MIT), rendering
// /openapi.yaml in the browser. Its standalone bundle is built into the binary
// (scripts/docs-bundle.sh refreshes it from the version tools/openapi pins): the
// page loads nothing from anywhere but this service.
//
//go:embed reference/redoc.standalone.js
var redocBundle []byte

// redocVersion names the bundle's content, so that it may be cached for good.
var redocVersion = func() string {
	sum := sha256.Sum256(redocBundle)
	return hex.EncodeToString(sum[:6])
}()

// referenceInit starts Redoc on the contract with the page's nonce, which a script
// reads from its own element (a nonce is hidden from attributes), so that the styles
// Redoc injects, and only those, pass the page's policy.
const referenceInit = `Redoc.init("/openapi.yaml", {
  nonce: document.currentScript.nonce,
  requiredPropsFirst: true,
  pathInMiddlePanel: true,
  expandResponses: "200,201",
}, document.getElementById("reference"));
`

// referenceInitVersion names referenceInit's content, as redocVersion the bundle's.
var referenceInitVersion = func() string {
	sum := sha256.Sum256([]byte(referenceInit))
	return hex.EncodeToString(sum[:6])
}()

// referencePage is the page at /docs.
func referencePage(nonce string) []byte {
	return []byte(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AP Formation certification API</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="reference"></div>
<script src="/docs/redoc-` + redocVersion + `.js"></script>
<script src="/docs/init-` + referenceInitVersion + `.js" nonce="` + nonce + `"></script>
</body>
</html>
`)
}

// referenceStyleAttributes are the two style attributes Redoc writes into its markup
// (an empty one, and its scrollbars'), allowed by their hashes alone.
const referenceStyleAttributes = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' 'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='"

// referenceCSP lets the page run the scripts it is served with and nothing else, and
// take the styles that carry the request's nonce; Redoc runs its search in a worker
// it makes from a blob.
func referenceCSP(nonce string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-" + nonce + "' 'unsafe-hashes' " + referenceStyleAttributes + "; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// registerReference serves the reference page and its bundle.
func registerReference(e *echo.Echo) {
	e.GET("/docs", func(c echo.Context) error {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		nonce := base64.StdEncoding.EncodeToString(b)
		c.Response().Header().Set("Content-Security-Policy", referenceCSP(nonce))
		return c.HTMLBlob(http.StatusOK, referencePage(nonce))
	})
	for name, script := range map[string][]byte{"redoc-" + redocVersion + ".js": redocBundle, "init-" + referenceInitVersion + ".js": []byte(referenceInit)} {
		e.GET("/docs/"+name, func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", script)
		})
	}
}
