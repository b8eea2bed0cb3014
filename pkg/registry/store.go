package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Store is the object storage under the registry: a flat key space of
// immutable or compare-and-swapped objects, as in an S3 bucket. Keys are
// slash-separated relative paths. Implementations: FSStore and S3Store.
type Store interface {
	// Upload stores everything read from r under key, replacing any object
	// there. If reading r fails the upload is abandoned: key is left as it
	// was and the reader's error is returned (wrapped).
	Upload(ctx context.Context, key string, r io.Reader) error
	// Create stores data under key only if key does not exist; otherwise it
	// returns ErrConflict. It returns the new object's ETag.
	Create(ctx context.Context, key string, data []byte) (etag string, err error)
	// Swap replaces the object under key only if its ETag is still etag;
	// otherwise (changed or deleted meanwhile) it returns ErrConflict.
	Swap(ctx context.Context, key string, data []byte, etag string) (newETag string, err error)
	// Get opens the object under key, with its attributes.
	Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error)
	// GetRange opens length bytes of the object from offset off (length < 0: to the end).
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	// Iter calls f with each key directly under the folder dir ("a/b/"; "" for the root), in
	// lexical order; sub-folders are passed with a trailing slash.
	Iter(ctx context.Context, dir string, f func(key string) error) error
	// Attributes returns the size, ETag and modification time of key.
	Attributes(ctx context.Context, key string) (Attributes, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// PresignGet returns a URL that downloads key without credentials until
	// ttl passes, or an error wrapping errors.ErrUnsupported.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Close releases the store's resources.
	Close() error
}

// Attributes describe a stored object.
type Attributes struct {
	Size         int64
	ETag         string
	LastModified time.Time
}

// Exists reports whether key exists in s.
func Exists(ctx context.Context, s Store, key string) (bool, error) {
	_, err := s.Attributes(ctx, key)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}

// ReadAll returns the content and ETag of the object under key.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, string, error) {
	rc, attrs, err := s.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	return data, attrs.ETag, nil
}

// checkKey rejects keys that could escape the store's root.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, `\`) {
		return fmt.Errorf("%w: storage key %q", ErrInvalid, key)
	}
	for _, seg := range strings.Split(strings.TrimSuffix(key, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: storage key %q", ErrInvalid, key)
		}
	}
	return nil
}
