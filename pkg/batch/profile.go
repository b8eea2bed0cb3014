package batch

import (
	"context"
	"fmt"
	"sync"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
)

// ProfileResult is a reference profile and the rows that could not be scored.
type ProfileResult struct {
	Profile *drift.Profile
	// Skipped counts bad rows; FirstError says why the first one failed.
	Skipped    int64
	FirstError error
}

// Profile runs scan.Predictor over the reference data and profiles the
// tensors it sees, input and output, named as a serving node names them
// (drift.BatchColumns). The columns of a single-input model are named after
// the columns that feed it (its mapping, ScoreOptions.Features or its
// feature_names metadata), else after the tensor. Rows that cannot be scored are left out
// and counted; an input of which no row can be scored is an error.
func Profile(ctx context.Context, scan ScanOptions, opts drift.ProfileOptions) (*ProfileResult, error) {
	pp := &profilingPredictor{Predictor: scan.Predictor, builder: drift.NewProfileBuilder(opts), names: featureNames(scan.Predictor, scan.Score)}
	scan.Predictor = pp
	res := &ProfileResult{}
	err := Scan(ctx, scan, func(s *Scored) error {
		for i, e := range s.Errs {
			if e == nil {
				continue
			}
			if res.Skipped == 0 {
				res.FirstError = fmt.Errorf("row %d: %w", s.Index[i], e)
			}
			res.Skipped++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pp.builder.Rows() == 0 {
		if res.FirstError != nil {
			return nil, fmt.Errorf("no row of %s could be scored: %w", scan.Input, res.FirstError)
		}
		return nil, fmt.Errorf("%s has no rows", scan.Input)
	}
	if res.Profile, err = pp.builder.Build(); err != nil {
		return nil, err
	}
	return res, nil
}

// featureNames names the columns of a single-input model as bindInputs
// feeds them; nil for other models.
func featureNames(pred Predictor, score ScoreOptions) []string {
	inputs, _ := pred.Signature()
	if len(inputs) != 1 {
		return nil
	}
	return namedColumns(inputs[0].Name, true, pred.Metadata(), score.Features, score.Mapping)
}

// profilingPredictor adds every batch the model scores, inputs and
// outputs, to a profile builder.
type profilingPredictor struct {
	Predictor
	names   []string
	mu      sync.Mutex
	builder *drift.ProfileBuilder
}

// Predict runs the model and profiles the batch once it succeeded.
func (p *profilingPredictor) Predict(ctx context.Context, inputs []*oip.Tensor) ([]*oip.Tensor, error) {
	outputs, err := p.Predictor.Predict(ctx, inputs)
	if err != nil {
		return nil, err
	}
	in, out, err := drift.BatchColumns(inputs, outputs, p.names)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.builder.Add(in, out); err != nil {
		return nil, err
	}
	return outputs, nil
}
