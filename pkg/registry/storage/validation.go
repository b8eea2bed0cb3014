package storage

import (
	"context"
	"fmt"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// MaxValidations is how many validation reports a version keeps; recording
// another drops the oldest.
const MaxValidations = 20

// RecordValidation appends a validation report (from kiln validate or a
// serving node) to version n's manifest. The report must name that version.
// The change is audited with the report.
func (s *Service) RecordValidation(ctx context.Context, name string, n int, r validate.Report, by string) (*registry.Version, error) {
	if err := registry.ValidateName(name); err != nil {
		return nil, err
	}
	if r.Model != name || r.Version != n {
		return nil, fmt.Errorf("%w: the report is for %s@%d, not %s@%d", registry.ErrInvalid, r.Model, r.Version, name, n)
	}
	if passed := len(r.Failed()) == 0; r.Passed != passed {
		return nil, fmt.Errorf("%w: the report says passed=%v but %d of its gates failed", registry.ErrInvalid, r.Passed, len(r.Failed()))
	}
	if r.CheckedAt.IsZero() {
		r.CheckedAt = s.now()
	}
	if r.Gates == nil {
		r.Gates = []validate.GateResult{}
	}
	v, err := s.modifyVersion(ctx, name, n, func(v *registry.Version) error {
		v.Validations = append(v.Validations, r)
		if extra := len(v.Validations) - MaxValidations; extra > 0 {
			v.Validations = v.Validations[extra:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("validation recorded", "model", name, "version", n, "passed", r.Passed, "where", r.Where, "by", by)
	s.audit(ctx, registry.Event{Type: registry.EventValidation, Model: name, Version: n, Report: &r, By: by})
	return v, nil
}
