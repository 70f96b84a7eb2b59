package httpapi

import "github.com/apformation/certapi/api"

// CandidateInputFromAPI lets the tests register candidates through the service the
// way the handler does.
var CandidateInputFromAPI = candidateInputFromAPI

// ReferenceBundle is where the reference page's script is served.
var ReferenceBundle = "/docs/redoc-" + redocVersion + ".js"

// ProblemTitle is the title of a problem code, from the catalogue.
func ProblemTitle(code string) string { return problemTitles[api.ProblemCode(code)] }
