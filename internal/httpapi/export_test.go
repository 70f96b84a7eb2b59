package httpapi

// CandidateInputFromAPI lets the tests register candidates through the service the
// way the handler does.
var CandidateInputFromAPI = candidateInputFromAPI

// ReferenceBundle is where the reference page's script is served.
var ReferenceBundle = "/docs/redoc-" + redocVersion + ".js"
