package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kilnml/kiln/pkg/registry"
)

// maxDescription bounds a version's description.
const maxDescription = 64 << 10

// maxSwapAttempts bounds read-modify-write retries under contention.
const maxSwapAttempts = 100

// Resolve returns the manifest of the version ref names (through its alias
// if it has one).
func (s *Service) Resolve(ctx context.Context, ref registry.Ref) (*registry.Version, error) {
	if err := registry.ValidateName(ref.Name); err != nil {
		return nil, err
	}
	n := ref.Version
	if ref.Alias != "" {
		a, _, err := s.GetAlias(ctx, ref.Name, ref.Alias)
		if err != nil {
			return nil, err
		}
		n = a.Version
	}
	v, _, err := s.readVersion(ctx, ref.Name, n)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return v, nil
}

// readVersion reads a live version's manifest and ETag.
func (s *Service) readVersion(ctx context.Context, name string, n int) (*registry.Version, string, error) {
	var v registry.Version
	etag, err := s.readJSON(ctx, versionKey(name, n), &v)
	if errors.Is(err, registry.ErrNotFound) || (err == nil && v.DeletedAt != nil) {
		return nil, "", fmt.Errorf("%s@%d: %w", name, n, registry.ErrNotFound)
	}
	if err != nil {
		return nil, "", err
	}
	return &v, etag, nil
}

// ListVersions returns one page of a model's live versions, oldest first.
func (s *Service) ListVersions(ctx context.Context, name string, page registry.Page) (*registry.VersionList, error) {
	if _, err := s.GetModel(ctx, name); err != nil {
		return nil, err
	}
	after := 0
	if page.Token != "" {
		var err error
		if after, err = strconv.Atoi(page.Token); err != nil {
			return nil, fmt.Errorf("%w: page token %q", registry.ErrInvalid, page.Token)
		}
	}
	nums, err := s.versionNumbers(ctx, name)
	if err != nil {
		return nil, err
	}
	size := pageSize(page.Size)
	out := &registry.VersionList{Versions: []registry.Version{}}
	for _, n := range nums {
		if n <= after {
			continue
		}
		if len(out.Versions) == size {
			out.NextPageToken = strconv.Itoa(out.Versions[size-1].Version)
			break
		}
		v, _, err := s.readVersion(ctx, name, n)
		if errors.Is(err, registry.ErrNotFound) {
			continue // deleted
		}
		if err != nil {
			return nil, err
		}
		out.Versions = append(out.Versions, *v)
	}
	return out, nil
}

// UpdateVersion adds or replaces metrics and tags of a version and sets
// its description; the model bytes never change. The change is audited.
func (s *Service) UpdateVersion(ctx context.Context, name string, n int, u registry.VersionUpdate, by string) (*registry.Version, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	if len(u.Metrics) == 0 && len(u.Tags) == 0 && u.Description == nil {
		return nil, fmt.Errorf("%w: the update has no metrics, tags or description", registry.ErrInvalid)
	}
	if u.Description != nil && len(*u.Description) > maxDescription {
		return nil, fmt.Errorf("%w: description over 64 KiB", registry.ErrInvalid)
	}
	if err := validateMetrics(u.Metrics); err != nil {
		return nil, err
	}
	if err := validateLabels("tag", u.Tags); err != nil {
		return nil, err
	}
	v, err := s.modifyVersion(ctx, name, n, func(v *registry.Version) error {
		v.Metrics = mergeInto(v.Metrics, u.Metrics)
		v.Tags = mergeInto(v.Tags, u.Tags)
		if u.Description != nil {
			v.Description = *u.Description
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("version updated", "model", name, "version", n, "by", by)
	s.audit(ctx, registry.Event{Type: registry.EventVersionUpdate, Model: name, Version: n, Metrics: u.Metrics, Tags: u.Tags, Description: u.Description, By: by})
	return v, nil
}

// DeleteVersion deletes a version no alias points at. Its number stays
// taken; its blob stays, as other versions may share it.
func (s *Service) DeleteVersion(ctx context.Context, name string, n int, by string) error {
	if err := registry.ValidateName(name); err != nil {
		return err
	}
	aliases, err := s.ListAliases(ctx, name)
	if err != nil {
		return err
	}
	for _, a := range aliases {
		if a.Version == n {
			return fmt.Errorf("delete %s@%d: %w: alias %q points at it; move or remove the alias first", name, n, registry.ErrConflict, a.Alias)
		}
	}
	_, err = s.modifyVersion(ctx, name, n, func(v *registry.Version) error {
		now := s.now()
		v.DeletedAt = &now
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("version deleted", "model", name, "version", n, "by", by)
	s.audit(ctx, registry.Event{Type: registry.EventVersionDelete, Model: name, Version: n, By: by})
	return nil
}

// modifyVersion applies change to a live version's manifest with
// compare-and-swap, retrying when a concurrent change wins.
func (s *Service) modifyVersion(ctx context.Context, name string, n int, change func(*registry.Version) error) (*registry.Version, error) {
	for range maxSwapAttempts {
		v, etag, err := s.readVersion(ctx, name, n)
		if err != nil {
			return nil, err
		}
		if err := change(v); err != nil {
			return nil, err
		}
		data, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		_, err = s.store.Swap(ctx, versionKey(name, n), data, etag)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, registry.ErrConflict) {
			return nil, fmt.Errorf("update %s@%d: %w", name, n, err)
		}
	}
	return nil, fmt.Errorf("update %s@%d: %w: too many concurrent changes, try again", name, n, registry.ErrConflict)
}

func mergeInto[V any](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]V, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}
