// Package api is generated from openapi.yaml by oapi-codegen: the models, the Echo
// strict server interface and the embedded specification. Nothing here is edited
// by hand.
package api

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
