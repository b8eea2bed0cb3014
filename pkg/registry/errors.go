package registry

import (
	"errors"

	"github.com/kilnml/kiln/pkg/objstore"
)

// Sentinel errors of the registry; the first three are objstore's. Every error returned by the Store, the
// Service and the Client wraps at most one of them; the HTTP API maps each to
// one status code in httperror.go.
var (
	// ErrNotFound: the model, version, alias or key does not exist.
	ErrNotFound = objstore.ErrNotFound
	// ErrConflict: a concurrent change won, or the state forbids the change
	// (a stale expected version, an alias that still points at a version).
	ErrConflict = objstore.ErrConflict
	// ErrInvalid: the request is malformed (bad name, not ONNX, digest mismatch).
	ErrInvalid = objstore.ErrInvalid
	// ErrTooLarge: an upload exceeds the configured limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnauthorized: no valid token was presented.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the token's role does not allow the operation.
	ErrForbidden = errors.New("forbidden")
)
