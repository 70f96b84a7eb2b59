package httpapi

// CandidateInputFromAPI lets the tests register candidates through the service the
// way the handler does.
var CandidateInputFromAPI = candidateInputFromAPI
