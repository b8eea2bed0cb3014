// Package objstore is Kiln's object storage: a small Bucket interface over a
// flat key space, as in an S3 bucket, with a provider per backend (a local
// folder, S3, memory), wrappers that add metrics and key prefixes, and an
// acceptance suite (package objtesting) that every provider passes.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Sentinel errors. Every error a Bucket returns wraps at most one of them.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a conditional write lost (the key exists, or changed).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: a malformed key or range.
	ErrInvalid = errors.New("invalid")
)

// Bucket is a flat key space of objects. Keys are slash-separated relative
// paths ("a/b/c"); a "folder" is a key prefix ending in a slash.
type Bucket interface {
	// Upload stores everything read from r under key, replacing any object
	// there. If reading r fails the upload is abandoned: key is left as it
	// was and the reader's error is returned (wrapped).
	Upload(ctx context.Context, key string, r io.Reader) error
	// Get opens the object under key, with its attributes.
	Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error)
	// GetRange opens length bytes of the object from offset off (length < 0: to the end).
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error)
	// Iter calls f with each key directly under the folder dir ("a/b/"; ""
	// for the root), in lexical order; sub-folders are passed with a
	// trailing slash. With the Recursive option it passes every object key
	// under dir instead, and no folders.
	Iter(ctx context.Context, dir string, f func(key string) error, opts ...IterOption) error
	// Attributes returns the size, ETag and modification time of key.
	Attributes(ctx context.Context, key string) (Attributes, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// PresignGet returns a URL that downloads key without credentials until
	// ttl passes, or an error wrapping errors.ErrUnsupported.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Close releases the bucket's resources.
	Close() error
}

// ConditionalBucket is a Bucket with the two conditional writes that let
// several writers share metadata without lost updates. Both are single
// requests (on S3, single-part PUTs), meant for small objects.
type ConditionalBucket interface {
	Bucket
	// Create stores data under key only if key does not exist; otherwise it
	// returns ErrConflict. It returns the new object's ETag.
	Create(ctx context.Context, key string, data []byte) (etag string, err error)
	// Swap replaces the object under key only if its ETag is still etag;
	// otherwise (changed or deleted meanwhile) it returns ErrConflict.
	Swap(ctx context.Context, key string, data []byte, etag string) (newETag string, err error)
}

// Attributes describe a stored object.
type Attributes struct {
	Size int64
	// ETag changes whenever the object is replaced.
	ETag         string
	LastModified time.Time
}

// IterOption changes what Iter lists.
type IterOption func(*iterParams)

type iterParams struct{ recursive bool }

// Recursive makes Iter list every object under the folder, at any depth.
func Recursive() IterOption { return func(p *iterParams) { p.recursive = true } }

func applyIterOptions(opts []IterOption) iterParams {
	var p iterParams
	for _, o := range opts {
		o(&p)
	}
	return p
}

// Exists reports whether key exists in b.
func Exists(ctx context.Context, b Bucket, key string) (bool, error) {
	_, err := b.Attributes(ctx, key)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}

// ReadAll returns the content and ETag of the object under key.
func ReadAll(ctx context.Context, b Bucket, key string) ([]byte, string, error) {
	rc, attrs, err := b.Get(ctx, key)
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

// checkKey rejects keys that could escape a bucket's root or prefix.
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

// folder checks dir and returns it with one trailing slash ("" for the root).
func folder(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	if err := checkKey(dir); err != nil {
		return "", err
	}
	return strings.TrimSuffix(dir, "/") + "/", nil
}

// folderDeleter is a bucket that removes a whole folder at once (a local
// folder, with its sub-folders).
type folderDeleter interface {
	deleteFolder(ctx context.Context, dir string) error
}

// DeleteAll removes every object under the folder dir.
func DeleteAll(ctx context.Context, b Bucket, dir string) error {
	if fd, ok := b.(folderDeleter); ok {
		return fd.deleteFolder(ctx, dir)
	}
	var keys []string
	if err := b.Iter(ctx, dir, func(k string) error { keys = append(keys, k); return nil }, Recursive()); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
