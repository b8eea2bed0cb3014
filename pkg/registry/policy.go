package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kilnml/kiln/pkg/oip"
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
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	for _, a := range p.ProtectedAliases {
		if err := ValidateAlias(a); err != nil {
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
			s.audit(ctx, Event{Type: EventPolicySet, Model: name, Policy: &p, By: by})
			return &p, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("set policy of %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("set policy of %s: %w: too many concurrent changes, try again", name, ErrConflict)
}

// readModel reads model.json as stored, with its ETag.
func (s *Service) readModel(ctx context.Context, name string) (*Model, string, error) {
	if err := ValidateName(name); err != nil {
		return nil, "", err
	}
	var m Model
	etag, err := s.readJSON(ctx, modelKey(name), &m)
	if errors.Is(err, ErrNotFound) {
		return nil, "", fmt.Errorf("model %s: %w: push a version first", name, ErrNotFound)
	}
	return &m, etag, err
}

// CandidateFromVersion describes a version for the validation gates: its
// size, metrics, signature and decoded input example (nil when it has none).
func CandidateFromVersion(v *Version) validate.Candidate {
	c := validate.Candidate{
		Name: v.Name, Version: v.Version, SizeBytes: v.Size, Metrics: v.Metrics,
		Inputs: tensorMetadata(v.Signature.Inputs), Outputs: tensorMetadata(v.Signature.Outputs),
	}
	if len(v.InputExample) > 0 {
		// Push validated the example; a decode error leaves it out, which
		// the smoke gate reports as a missing example.
		if req, err := oip.DecodeRequest(v.InputExample, -1); err == nil {
			c.InputExample = req
		}
	}
	return c
}

func tensorMetadata(specs []TensorSpec) []oip.TensorMetadata {
	out := make([]oip.TensorMetadata, len(specs))
	for i, t := range specs {
		out[i] = oip.TensorMetadata{Name: t.Name, Datatype: oip.Datatype(t.Datatype), Shape: t.Shape}
	}
	return out
}
