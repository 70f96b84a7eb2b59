// Package api is generated from openapi.yaml by oapi-codegen: the models, the Echo
// strict server interface and the embedded specification, plus a verbatim copy of
// openapi.yaml served at /openapi.yaml. Nothing here is edited by hand.
package api

import _ "embed"

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
//go:generate cp ../openapi.yaml openapi.yaml

// SpecYAML is openapi.yaml as written.
//
//go:embed openapi.yaml
var SpecYAML []byte
