package registry

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/kilnml/kiln/pkg/validate"
)

// statusCodes maps each sentinel error to its HTTP status, both ways: the
// API answers with it and the Client turns it back into the sentinel.
var statusCodes = []struct {
	err    error
	status int
}{
	{ErrInvalid, http.StatusBadRequest},
	{ErrUnauthorized, http.StatusUnauthorized},
	{ErrForbidden, http.StatusForbidden},
	{ErrNotFound, http.StatusNotFound},
	{ErrConflict, http.StatusConflict},
	{ErrTooLarge, http.StatusRequestEntityTooLarge},
}

// StatusOf returns the HTTP status code for err (500 for unknown errors).
func StatusOf(err error) int {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge
	}
	for _, sc := range statusCodes {
		if errors.Is(err, sc.err) {
			return sc.status
		}
	}
	return http.StatusInternalServerError
}

// ErrorBody is the body of an error answer: {"error": "..."}, plus the
// gate report when a protected alias move was refused.
type ErrorBody struct {
	Error  string           `json:"error"`
	Report *validate.Report `json:"report,omitempty"`
}

// APIError is a non-2xx answer of the registry API. It unwraps to the
// sentinel error of its status, so errors.Is(err, ErrNotFound) works on
// the client side too.
type APIError struct {
	Status  int
	Message string
	// Report is the gate report of a refused alias move (409), or nil.
	Report *validate.Report
}

// Error returns the server's message.
func (e *APIError) Error() string {
	if e.Message == "" {
		return "registry: HTTP " + strconv.Itoa(e.Status)
	}
	return e.Message
}

// Unwrap returns the sentinel error matching the status, if any.
func (e *APIError) Unwrap() error {
	for _, sc := range statusCodes {
		if sc.status == e.Status {
			return sc.err
		}
	}
	return nil
}
