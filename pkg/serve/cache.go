package serve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kilnml/kiln/pkg/registry"
)

// Cache keeps model files downloaded from a registry in a folder, named by
// their sha256 digest, and remembers which version each followed reference
// last resolved to, so a node can restart while the registry is down. Files
// not in use are evicted, least recently used first, beyond MaxBytes.
type Cache struct {
	dir      string
	maxBytes int64
	mu       sync.Mutex
	pinned   map[string]int
}

// OpenCache opens (creating) a cache folder holding at most maxBytes of models.
func OpenCache(dir string, maxBytes int64) (*Cache, error) {
	for _, sub := range []string{"blobs", "refs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("model cache: %w", err)
		}
	}
	return &Cache{dir: dir, maxBytes: maxBytes, pinned: map[string]int{}}, nil
}

func (c *Cache) blobPath(digest string) string {
	return filepath.Join(c.dir, "blobs", strings.TrimPrefix(digest, "sha256:")+".onnx")
}

// fetch returns the local path of a version's model file, downloading it
// (retrying up to attempts times) unless a verified copy is cached, and pins
// it against eviction until Unpin.
func (c *Cache) fetch(ctx context.Context, client *registry.Client, v *registry.Version, attempts int) (string, error) {
	path := c.blobPath(v.Digest)
	c.pin(v.Digest)
	if verify(path, v.Digest) == nil {
		now := time.Now()
		os.Chtimes(path, now, now)
		return path, nil
	}
	var err error
	for attempt := range max(attempts, 1) {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				c.unpin(v.Digest)
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		if _, err = client.DownloadFile(ctx, v.Ref(), path); err == nil {
			c.evict()
			return path, nil
		}
	}
	c.unpin(v.Digest)
	return "", err
}

// cached returns the path of a cached, verified model file.
func (c *Cache) cached(digest string) (string, error) {
	path := c.blobPath(digest)
	if err := verify(path, digest); err != nil {
		return "", err
	}
	c.pin(digest)
	return path, nil
}

// verify checks a file's sha256 against digest.
func verify(path, digest string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("cached %s has digest %s, want %s", path, got, digest)
	}
	return nil
}

// pin protects a cached file from eviction.
func (c *Cache) pin(digest string) {
	c.mu.Lock()
	c.pinned[digest]++
	c.mu.Unlock()
}

// unpin releases one Pin.
func (c *Cache) unpin(digest string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pinned[digest]--; c.pinned[digest] <= 0 {
		delete(c.pinned, digest)
	}
}

// evict removes unpinned files, least recently used first, while the cache
// holds more than maxBytes.
func (c *Cache) evict() {
	c.mu.Lock()
	defer c.mu.Unlock()
	entries, err := os.ReadDir(filepath.Join(c.dir, "blobs"))
	if err != nil {
		return
	}
	type blob struct {
		path, digest string
		size         int64
		used         time.Time
	}
	var blobs []blob
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !strings.HasSuffix(e.Name(), ".onnx") {
			continue
		}
		digest := "sha256:" + strings.TrimSuffix(e.Name(), ".onnx")
		blobs = append(blobs, blob{filepath.Join(c.dir, "blobs", e.Name()), digest, info.Size(), info.ModTime()})
		total += info.Size()
	}
	slices.SortFunc(blobs, func(a, b blob) int { return a.used.Compare(b.used) })
	for _, b := range blobs {
		if total <= c.maxBytes {
			return
		}
		if c.pinned[b.digest] > 0 {
			continue
		}
		if os.Remove(b.path) == nil {
			total -= b.size
		}
	}
}

func (c *Cache) profilePath(digest string) string {
	return filepath.Join(c.dir, "refs", strings.TrimPrefix(digest, "sha256:")+".profile")
}

// saveProfile keeps a reference profile, named by its digest.
func (c *Cache) saveProfile(digest string, data []byte) error {
	path := c.profilePath(digest)
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// profile returns a kept reference profile.
func (c *Cache) profile(digest string) ([]byte, error) {
	return os.ReadFile(c.profilePath(digest))
}

func (c *Cache) refPath(ref registry.Ref) string {
	return filepath.Join(c.dir, "refs", ref.Name+"@"+ref.Selector()+".json")
}

// remember records the version a reference resolved to and was served as.
func (c *Cache) remember(ref registry.Ref, v *registry.Version) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	path := c.refPath(ref)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// recall returns the version last remembered for a reference.
func (c *Cache) recall(ref registry.Ref) (*registry.Version, error) {
	data, err := os.ReadFile(c.refPath(ref))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no cached version of %s", ref)
	}
	if err != nil {
		return nil, err
	}
	var v registry.Version
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("cached %s: %w", ref, err)
	}
	return &v, nil
}
