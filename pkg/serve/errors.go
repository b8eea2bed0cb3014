package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// errTooLarge is wrapped by errors about request bodies over the limit.
var errTooLarge = errors.New("request body too large")

// statusOf maps an error to its HTTP status and a failure reason for the
// metrics: the one place where that happens.
func statusOf(err error) (int, string) {
	var maxBytes *http.MaxBytesError
	var bad *requestError
	switch {
	case errors.Is(err, ErrModelNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, errTooLarge), errors.As(err, &maxBytes):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, oip.ErrInvalid), errors.As(err, &bad):
		return http.StatusBadRequest, "bad_request"
	case errors.Is(err, runtime.ErrInvalidInput):
		return http.StatusBadRequest, "bad_input"
	case errors.Is(err, runtime.ErrQueueFull):
		return http.StatusTooManyRequests, "queue_full"
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "cancelled"
	case errors.Is(err, runtime.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "timeout"
	}
	return http.StatusInternalServerError, "internal"
}

var statusTexts = func() map[int]string {
	m := map[int]string{}
	for code := 100; code < 600; code++ {
		m[code] = strconv.Itoa(code)
	}
	return m
}()

// statusText formats a status code without allocating.
func statusText(code int) string {
	if s, ok := statusTexts[code]; ok {
		return s
	}
	return strconv.Itoa(code)
}

// requestError is a bad request found by the server itself (not by a codec).
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}
