package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// writeIrisProfile profiles the Iris data and the model's outputs on it
// into a temporary file, for a node that monitors drift.
func writeIrisProfile(m *runtime.Model) (string, error) {
	data, err := irisdata.Read("examples/iris/iris.csv")
	if err != nil {
		return "", err
	}
	in := oip.NewTensor("input", []int64{int64(len(data.Rows)), 4}, irisdata.Float32(data.Rows))
	outs, err := m.Run(context.Background(), []*oip.Tensor{in}, nil)
	if err != nil {
		return "", err
	}
	inputs, outputs, err := drift.BatchColumns([]*oip.Tensor{in}, outs, irisdata.FeatureNames)
	if err != nil {
		return "", err
	}
	b := drift.NewProfileBuilder(drift.ProfileOptions{})
	if err := b.Add(inputs, outputs); err != nil {
		return "", err
	}
	p, err := b.Build()
	if err != nil {
		return "", err
	}
	js, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "kiln-profile-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "profile.json")
	return path, os.WriteFile(path, js, 0o644)
}
