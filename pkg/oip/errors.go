package oip

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalid reports a malformed or inconsistent OIP message: every error
// returned by the decoders matches it with errors.Is, so a server can answer
// 400 Bad Request for all of them.
var ErrInvalid = errors.New("invalid request")

// invalidError is a decode error whose message names the tensor and the
// problem; it matches ErrInvalid without prefixing its text.
type invalidError struct{ msg string }

func (e *invalidError) Error() string { return e.msg }

func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// invalidf builds an error that matches ErrInvalid.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// ErrorResponse is the OIP error body: {"error": "..."}.
type ErrorResponse struct {
	Error string `json:"error"`
}

// HTTPError is returned by Client when the server answers with a non-2xx
// status; Message is the text of the {"error": "..."} body, or the raw body
// when it is not in that shape.
type HTTPError struct {
	Status  int
	Message string
}

// Error returns the status code and the server's message.
func (e *HTTPError) Error() string {
	if e.Message == "" {
		return "oip: HTTP " + strconv.Itoa(e.Status)
	}
	return "oip: HTTP " + strconv.Itoa(e.Status) + ": " + e.Message
}
