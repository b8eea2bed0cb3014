package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"google.golang.org/grpc/codes"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// errTooLarge is wrapped by errors about request bodies over the limit.
var errTooLarge = errors.New("request body too large")

// errForbidden is wrapped by errors about actions the node's settings do not allow.
var errForbidden = errors.New("forbidden")

// errorClass is what a kind of failure means to each transport: its HTTP
// status, its gRPC code, and the reason the metrics count it under.
type errorClass struct {
	http   int
	grpc   codes.Code
	reason string
}

// Error classes, in the one table that maps failures to transports.
var (
	classNotFound    = errorClass{http.StatusNotFound, codes.NotFound, "not_found"}
	classTooLarge    = errorClass{http.StatusRequestEntityTooLarge, codes.ResourceExhausted, "too_large"}
	classBadRequest  = errorClass{http.StatusBadRequest, codes.InvalidArgument, "bad_request"}
	classBadInput    = errorClass{http.StatusBadRequest, codes.InvalidArgument, "bad_input"}
	classForbidden   = errorClass{http.StatusForbidden, codes.PermissionDenied, "forbidden"}
	classQueueFull   = errorClass{http.StatusTooManyRequests, codes.ResourceExhausted, "queue_full"}
	classCancelled   = errorClass{http.StatusServiceUnavailable, codes.Canceled, "cancelled"}
	classUnavailable = errorClass{http.StatusServiceUnavailable, codes.Unavailable, "unavailable"}
	classTimeout     = errorClass{http.StatusGatewayTimeout, codes.DeadlineExceeded, "timeout"}
	classInternal    = errorClass{http.StatusInternalServerError, codes.Internal, "internal"}
	classOK          = errorClass{http.StatusOK, codes.OK, ""}
)

// classOf says which class an error belongs to (classOK for nil).
func classOf(err error) errorClass {
	if err == nil {
		return classOK // before the errors.As targets below, which escape
	}
	var maxBytes *http.MaxBytesError
	var bad *requestError
	switch {
	case errors.Is(err, ErrModelNotFound):
		return classNotFound
	case errors.Is(err, errTooLarge), errors.As(err, &maxBytes):
		return classTooLarge
	case errors.Is(err, oip.ErrInvalid), errors.As(err, &bad):
		return classBadRequest
	case errors.Is(err, runtime.ErrInvalidInput):
		return classBadInput
	case errors.Is(err, errForbidden):
		return classForbidden
	case errors.Is(err, runtime.ErrQueueFull):
		return classQueueFull
	case errors.Is(err, context.Canceled):
		return classCancelled
	case errors.Is(err, runtime.ErrClosed):
		return classUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return classTimeout
	}
	return classInternal
}

// statusTexts holds the status codes as text, so that labelling a request
// by its code allocates nothing.
var statusTexts = func() (texts [600]string) {
	for code := range texts {
		texts[code] = strconv.Itoa(code)
	}
	return texts
}()

// statusText formats a status code without allocating.
func statusText(code int) string {
	if code >= 0 && code < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}

// requestError is a bad request found by the server itself (not by a codec).
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...)}
}
