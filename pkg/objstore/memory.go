package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a bucket in memory, for tests. It keeps every object's bytes.
type Memory struct {
	mu      sync.Mutex
	objects map[string]memObject
	writes  uint64
}

type memObject struct {
	data  []byte
	attrs Attributes
}

// NewMemory returns an empty in-memory bucket.
func NewMemory() *Memory { return &Memory{objects: map[string]memObject{}} }

// put stores data under key; the caller holds mu.
func (m *Memory) put(key string, data []byte) string {
	m.writes++
	sum := sha256.Sum256(data)
	etag := fmt.Sprintf("%s-%d", hex.EncodeToString(sum[:8]), m.writes)
	m.objects[key] = memObject{data: data, attrs: Attributes{Size: int64(len(data)), ETag: etag, LastModified: time.Now()}}
	return etag
}

// Upload implements Bucket.
func (m *Memory) Upload(ctx context.Context, key string, r io.Reader) error {
	if err := checkKey(key); err != nil {
		return err
	}
	data, err := io.ReadAll(contextReader{ctx, r})
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, data)
	return nil
}

// Create implements ConditionalBucket.
func (m *Memory) Create(ctx context.Context, key string, data []byte) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; ok {
		return "", fmt.Errorf("create %s: %w: already exists", key, ErrConflict)
	}
	return m.put(key, bytes.Clone(data)), nil
}

// Swap implements ConditionalBucket.
func (m *Memory) Swap(ctx context.Context, key string, data []byte, etag string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.objects[key]; !ok || o.attrs.ETag != etag {
		return "", fmt.Errorf("swap %s: %w: changed since it was read", key, ErrConflict)
	}
	return m.put(key, bytes.Clone(data)), nil
}

func (m *Memory) object(op, key string) (memObject, error) {
	if err := checkKey(key); err != nil {
		return memObject{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	if !ok {
		return memObject{}, fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
	}
	return o, nil
}

// Get implements Bucket.
func (m *Memory) Get(ctx context.Context, key string) (io.ReadCloser, Attributes, error) {
	o, err := m.object("get", key)
	if err != nil {
		return nil, Attributes{}, err
	}
	return io.NopCloser(bytes.NewReader(o.data)), o.attrs, nil
}

// GetRange implements Bucket.
func (m *Memory) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	o, err := m.object("get range", key)
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("%w: range %d+%d of %s", ErrInvalid, off, length, key)
	}
	data := o.data[min(off, int64(len(o.data))):]
	if length >= 0 && length < int64(len(data)) {
		data = data[:length]
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Iter implements Bucket.
func (m *Memory) Iter(ctx context.Context, dir string, f func(string) error, opts ...IterOption) error {
	dir, err := folder(dir)
	if err != nil {
		return err
	}
	recursive := applyIterOptions(opts).recursive
	m.mu.Lock()
	seen := map[string]bool{}
	var keys []string
	for k := range m.objects {
		rest, ok := strings.CutPrefix(k, dir)
		if !ok {
			continue
		}
		if sub, _, nested := strings.Cut(rest, "/"); nested && !recursive {
			k = dir + sub + "/"
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := f(k); err != nil {
			return err
		}
	}
	return nil
}

// Attributes implements Bucket.
func (m *Memory) Attributes(ctx context.Context, key string) (Attributes, error) {
	o, err := m.object("stat", key)
	return o.attrs, err
}

// Delete implements Bucket.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, key)
	return nil
}

// PresignGet implements Bucket; memory has no URLs to hand out.
func (m *Memory) PresignGet(context.Context, string, time.Duration) (string, error) {
	return "", fmt.Errorf("memory bucket: presigned URLs: %w", errors.ErrUnsupported)
}

// Close implements Bucket.
func (m *Memory) Close() error { return nil }
