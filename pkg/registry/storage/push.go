package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
)

// maxVersionAttempts bounds how often a push retries version allocation
// when concurrent pushes take the numbers it tried.
const maxVersionAttempts = 1000

// PutReferenceProfile stores a reference-data profile blob whose sha256 is
// digest, verifying it on the way; a push can then name it.
func (s *Service) PutReferenceProfile(ctx context.Context, digest string, r io.Reader) (int64, error) {
	n, err := s.putBlob(ctx, digest, r, nil)
	if err != nil {
		return 0, fmt.Errorf("reference profile: %w", err)
	}
	return n, nil
}

// Push stores the model bytes read from model under their digest, checks
// they are a valid ONNX model, and creates the model's next version with
// the request's metadata. by names the pusher (lineage.created_by). A push
// that fails at any point leaves no version behind.
func (s *Service) Push(ctx context.Context, name string, req registry.PushRequest, model io.Reader, by string) (*registry.Version, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	if err := validatePushRequest(&req); err != nil {
		return nil, err
	}
	v := &registry.Version{
		Name: name, Digest: req.Digest, Description: req.Description,
		Metrics: req.Metrics, Params: req.Params, Tags: req.Tags,
		Lineage: req.Lineage, InputExample: req.InputExample,
	}
	if req.ReferenceProfileDigest != "" {
		hexDigest, _ := registry.ParseDigest(req.ReferenceProfileDigest)
		attrs, err := s.store.Attributes(ctx, blobKey(hexDigest))
		if errors.Is(err, registry.ErrNotFound) {
			return nil, fmt.Errorf("%w: reference profile %s was not uploaded; send it before the model", registry.ErrInvalid, req.ReferenceProfileDigest)
		}
		if err != nil {
			return nil, err
		}
		v.ReferenceProfile = &registry.Blob{Digest: req.ReferenceProfileDigest, Size: attrs.Size}
	}
	var parsed *onnx.Model
	size, err := s.putBlob(ctx, req.Digest, model, func(r io.Reader) error {
		m, err := onnx.Scan(r)
		if errors.Is(err, onnx.ErrInvalid) {
			return fmt.Errorf("%w: the upload is not an ONNX model: %v", registry.ErrInvalid, err)
		}
		if err != nil {
			return err
		}
		parsed = m
		sig, _ := describe(m)
		return checkInputExample(req.InputExample, sig)
	})
	if err != nil {
		return nil, fmt.Errorf("push %s: %w", name, err)
	}
	v.Size = size
	v.Signature, v.Format = describe(parsed)
	v.Lineage.CreatedBy, v.Lineage.CreatedAt = by, s.now()
	if err := s.ensureModel(ctx, name, by); err != nil {
		return nil, err
	}
	if err := s.createVersion(ctx, v); err != nil {
		return nil, err
	}
	s.log.Info("pushed", "model", name, "version", v.Version, "digest", v.Digest, "size", v.Size, "by", by)
	s.audit(ctx, registry.Event{Type: registry.EventPush, Model: name, Version: v.Version, Digest: v.Digest, By: by})
	return v, nil
}

// ensureModel writes the model's model.json on its first push.
func (s *Service) ensureModel(ctx context.Context, name, by string) error {
	data, err := json.Marshal(registry.Model{Name: name, CreatedAt: s.now(), CreatedBy: by})
	if err != nil {
		return err
	}
	if _, err := s.store.Create(ctx, modelKey(name), data); err != nil && !errors.Is(err, registry.ErrConflict) {
		return fmt.Errorf("create model %s: %w", name, err)
	}
	return nil
}

// createVersion writes v's manifest under the next free version number.
// Create-if-absent makes exactly one pusher win each number; a loser tries
// the next one, so numbers stay consecutive.
func (s *Service) createVersion(ctx context.Context, v *registry.Version) error {
	nums, err := s.versionNumbers(ctx, v.Name)
	if err != nil {
		return err
	}
	next := 1
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	for range maxVersionAttempts {
		v.Version = next
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = s.store.Create(ctx, versionKey(v.Name, next), data)
		if err == nil {
			return nil
		}
		if !errors.Is(err, registry.ErrConflict) {
			return fmt.Errorf("create %s@%d: %w", v.Name, next, err)
		}
		next++
	}
	return fmt.Errorf("create %s: %w: too many concurrent pushes, try again", v.Name, registry.ErrConflict)
}

// describe turns a parsed model into its signature and format.
func describe(m *onnx.Model) (registry.Signature, registry.Format) {
	sig := registry.Signature{Inputs: tensorSpecs(m.Inputs), Outputs: tensorSpecs(m.Outputs)}
	f := registry.Format{IRVersion: m.IRVersion, Producer: m.ProducerName, ProducerVersion: m.ProducerVersion, Opsets: map[string]int64{}}
	for _, o := range m.Opsets {
		domain := o.Domain
		if domain == "" {
			domain = "ai.onnx"
		}
		f.Opsets[domain] = o.Version
	}
	return sig, f
}

func tensorSpecs(vs []onnx.ValueInfo) []registry.TensorSpec {
	specs := make([]registry.TensorSpec, len(vs))
	for i, v := range vs {
		specs[i] = registry.TensorSpec{Name: v.Name, Type: v.Type.String()}
		if v.Type.Kind == onnx.KindTensor {
			specs[i].Datatype = string(v.Type.Elem.OIP())
			specs[i].Shape = v.Type.Dims()
		}
	}
	return specs
}

// validatePushRequest checks everything in a push that can be checked
// before the model bytes arrive.
func validatePushRequest(req *registry.PushRequest) error {
	if _, err := registry.ParseDigest(req.Digest); err != nil {
		return err
	}
	if req.ReferenceProfileDigest != "" {
		if _, err := registry.ParseDigest(req.ReferenceProfileDigest); err != nil {
			return fmt.Errorf("reference profile: %w", err)
		}
	}
	if err := validateMetrics(req.Metrics); err != nil {
		return err
	}
	if err := validateLabels("param", req.Params); err != nil {
		return err
	}
	if err := validateLabels("tag", req.Tags); err != nil {
		return err
	}
	if len(req.Description) > maxDescription {
		return fmt.Errorf("%w: description over 64 KiB", registry.ErrInvalid)
	}
	return nil
}

func validateMetrics(metrics map[string]float64) error {
	for k, v := range metrics {
		if err := validateKey("metric", k); err != nil {
			return err
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: metric %q is %v; metrics must be finite numbers", registry.ErrInvalid, k, v)
		}
	}
	return nil
}

func validateLabels(kind string, labels map[string]string) error {
	for k, v := range labels {
		if err := validateKey(kind, k); err != nil {
			return err
		}
		if len(v) > 4096 {
			return fmt.Errorf("%w: %s %q: value over 4096 bytes", registry.ErrInvalid, kind, k)
		}
	}
	return nil
}

func validateKey(kind, k string) error {
	if k == "" || len(k) > 256 || strings.ContainsAny(k, "\x00\n\r") {
		return fmt.Errorf("%w: %s name %q: want 1-256 characters without control characters", registry.ErrInvalid, kind, k)
	}
	return nil
}

// checkInputExample checks that an input example is a valid OIP inference
// request (JSON) whose inputs the model has.
func checkInputExample(raw json.RawMessage, sig registry.Signature) error {
	if len(raw) == 0 {
		return nil
	}
	req, err := oip.DecodeRequest(raw, -1)
	if err != nil {
		return fmt.Errorf("%w: input example is not an OIP inference request: %v", registry.ErrInvalid, err)
	}
	if len(req.Inputs) == 0 {
		return fmt.Errorf("%w: input example has no \"inputs\"", registry.ErrInvalid)
	}
	for _, in := range req.Inputs {
		if !hasTensor(sig.Inputs, in.Name) {
			return fmt.Errorf("%w: input example names input %q, which the model does not have", registry.ErrInvalid, in.Name)
		}
	}
	return nil
}

func hasTensor(specs []registry.TensorSpec, name string) bool {
	for _, s := range specs {
		if s.Name == name {
			return true
		}
	}
	return false
}
