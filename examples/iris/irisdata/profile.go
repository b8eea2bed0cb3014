package irisdata

import (
	"context"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// Profile runs the rows through an Iris classifier (input "input", [n, 4])
// and builds the reference profile of the features and the model's outputs.
func Profile(ctx context.Context, m *runtime.Model, rows [][]float64) (*drift.Profile, error) {
	in := oip.NewTensor("input", []int64{int64(len(rows)), 4}, Float32(rows))
	outs, err := m.Run(ctx, []*oip.Tensor{in}, nil)
	if err != nil {
		return nil, err
	}
	inputs, outputs, err := drift.BatchColumns([]*oip.Tensor{in}, outs, FeatureNames)
	if err != nil {
		return nil, err
	}
	b := drift.NewProfileBuilder(drift.ProfileOptions{})
	if err := b.Add(inputs, outputs); err != nil {
		return nil, err
	}
	return b.Build()
}
