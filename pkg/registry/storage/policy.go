package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// GetPolicy returns a model's validation policy; a model without one gets
// the zero policy (protects "production", no gates).
func (s *Service) GetPolicy(ctx context.Context, name string) (*validate.Policy, error) {
	m, _, err := s.readModel(ctx, name)
	if err != nil {
		return nil, err
	}
	if m.Policy == nil {
		return &validate.Policy{}, nil
	}
	return m.Policy, nil
}

// SetPolicy replaces a model's validation policy. The model must exist;
// the change is a compare-and-swap on model.json and is audited.
func (s *Service) SetPolicy(ctx context.Context, name string, p validate.Policy, by string) (*validate.Policy, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", registry.ErrInvalid, err)
	}
	for _, a := range p.ProtectedAliases {
		if err := registry.ValidateAlias(a); err != nil {
			return nil, fmt.Errorf("policy protected_aliases: %w", err)
		}
	}
	for range maxSwapAttempts {
		m, etag, err := s.readModel(ctx, name)
		if err != nil {
			return nil, err
		}
		m.Policy = &p
		data, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		_, err = s.store.Swap(ctx, modelKey(name), data, etag)
		if err == nil {
			s.log.Info("policy set", "model", name, "by", by)
			s.audit(ctx, registry.Event{Type: registry.EventPolicySet, Model: name, Policy: &p, By: by})
			return &p, nil
		}
		if !errors.Is(err, registry.ErrConflict) {
			return nil, fmt.Errorf("set policy of %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("set policy of %s: %w: too many concurrent changes, try again", name, registry.ErrConflict)
}

// readModel reads model.json as stored, with its ETag.
func (s *Service) readModel(ctx context.Context, name string) (*registry.Model, string, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, "", err
	}
	var m registry.Model
	etag, err := s.readJSON(ctx, modelKey(name), &m)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, "", fmt.Errorf("model %s: %w: push a version first", name, registry.ErrNotFound)
	}
	return &m, etag, err
}
