// Package storage is the registry's service on object storage: pushes that
// leave no half version, versions, aliases moved by compare-and-swap through
// the model's gates, the audit log and the alias watch.
package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/registry"
)

// Service is the registry's domain logic over a Store: pushes, versions,
// aliases and the audit log. Several Services (in several processes) may
// share one Store; all coordination goes through the Store's conditional
// writes.
type Service struct {
	store    Store
	maxBytes int64
	log      *slog.Logger
	now      func() time.Time
	changes  notifier // wakes alias watchers on this process's moves
}

// Options configure a Service.
type Options struct {
	// MaxModelBytes caps the size of a pushed model or profile (default 8 GiB).
	MaxModelBytes int64
	// Logger receives one line per change (default slog.Default()).
	Logger *slog.Logger
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, maxBytes: opts.MaxModelBytes, log: opts.Logger, now: func() time.Time { return time.Now().UTC() }}
	if s.maxBytes <= 0 {
		s.maxBytes = 8 << 30
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Store returns the service's storage.
func (s *Service) Store() Store { return s.store }

// MaxModelBytes returns the upload limit.
func (s *Service) MaxModelBytes() int64 { return s.maxBytes }

// Storage keys (see DESIGN.md, storage layout).
func modelKey(name string) string    { return "models/" + name + "/model.json" }
func versionsDir(name string) string { return "models/" + name + "/versions/" }
func versionKey(name string, n int) string {
	return versionsDir(name) + strconv.Itoa(n) + ".json"
}
func aliasesDir(name string) string      { return "models/" + name + "/aliases/" }
func aliasKey(name, alias string) string { return aliasesDir(name) + alias + ".json" }
func eventsDir(name string) string       { return "models/" + name + "/events/" }
func blobKey(hexDigest string) string    { return "blobs/sha256/" + hexDigest }

// readJSON decodes the object under key into v and returns its ETag.
func (s *Service) readJSON(ctx context.Context, key string, v any) (string, error) {
	data, etag, err := objstore.ReadAll(ctx, s.store, key)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return "", fmt.Errorf("decode %s: %w", key, err)
	}
	return etag, nil
}

// GetModel returns a model with its latest version number and aliases.
func (s *Service) GetModel(ctx context.Context, name string) (*registry.Model, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	var m registry.Model
	if _, err := s.readJSON(ctx, modelKey(name), &m); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return nil, fmt.Errorf("model %s: %w", name, registry.ErrNotFound)
		}
		return nil, err
	}
	nums, err := s.versionNumbers(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(nums) > 0 {
		m.LatestVersion = nums[len(nums)-1]
	}
	aliases, err := s.ListAliases(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, a := range aliases {
		if m.Aliases == nil {
			m.Aliases = map[string]int{}
		}
		m.Aliases[a.Alias] = a.Version
	}
	return &m, nil
}

// ListModels returns one page of models in name order.
func (s *Service) ListModels(ctx context.Context, page registry.Page) (*registry.ModelList, error) {
	size := pageSize(page.Size)
	var names []string
	err := s.store.Iter(ctx, "models/", func(key string) error {
		name := strings.TrimSuffix(strings.TrimPrefix(key, "models/"), "/")
		if strings.HasSuffix(key, "/") && name > page.Token && registry.ValidateName(name) == nil {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := &registry.ModelList{Models: []registry.Model{}}
	for _, name := range names {
		if len(out.Models) == size {
			out.NextPageToken = out.Models[size-1].Name
			break
		}
		m, err := s.GetModel(ctx, name)
		if errors.Is(err, registry.ErrNotFound) {
			continue // a push that has not written model.json yet
		}
		if err != nil {
			return nil, err
		}
		out.Models = append(out.Models, *m)
	}
	return out, nil
}

// versionNumbers lists the numbers of a model's versions (deleted ones
// included: their numbers stay taken), ascending.
func (s *Service) versionNumbers(ctx context.Context, name string) ([]int, error) {
	var nums []int
	err := s.store.Iter(ctx, versionsDir(name), func(key string) error {
		base, ok := strings.CutSuffix(strings.TrimPrefix(key, versionsDir(name)), ".json")
		if n, err := strconv.Atoi(base); ok && err == nil && n > 0 {
			nums = append(nums, n)
		}
		return nil
	})
	sort.Ints(nums)
	return nums, err
}

// pageSize clamps a requested page size to 1..1000, 100 by default.
func pageSize(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
