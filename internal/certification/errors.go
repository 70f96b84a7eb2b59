package certification

import (
	"errors"
	"fmt"
	"strings"
)

// Violation is one broken rule or constraint of a request: Rule is the id of a rule
// of the certification (empty for a constraint that is not one), Field a JSON pointer
// into the request.
type Violation struct {
	Rule    string
	Field   string
	Message string
}

// ViolationError carries every violation of one request, so that a caller learns all
// of them at once.
type ViolationError struct {
	Violations []Violation
}

func (e *ViolationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = strings.TrimSpace(v.Rule + " " + v.Field + ": " + v.Message)
	}
	return "rule violations: " + strings.Join(parts, "; ")
}

// Check returns nil when there are no violations and a *ViolationError otherwise.
func Check(violations ...[]Violation) error {
	var all []Violation
	for _, vs := range violations {
		all = append(all, vs...)
	}
	if len(all) == 0 {
		return nil
	}
	return &ViolationError{Violations: all}
}

// The state errors of the service's vocabulary. Wrap them with %w to add detail.
var (
	// ErrNotFound: absent, or not visible to the caller.
	ErrNotFound = errors.New("not found")
	// ErrStale: the version the change was based on is no longer current.
	ErrStale = errors.New("the resource has changed since it was read")
	// ErrForbidden: the caller's role may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: no or bad credentials.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// ConflictError reports a write that conflicts with the current state, such as a
// duplicate; ExistingID names the resource it collides with, when there is one.
type ConflictError struct {
	Code       string
	Message    string
	ExistingID string
}

func (e *ConflictError) Error() string { return e.Message }

// NotFoundf wraps ErrNotFound with a description of what was looked for.
func NotFoundf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}
