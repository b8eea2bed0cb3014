package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/pkg/runtime"
)

// writeIrisProfile profiles the Iris data and the model's outputs on it
// into a temporary file, for a node that monitors drift.
func writeIrisProfile(m *runtime.Model) (string, error) {
	data, err := irisdata.Read("examples/iris/iris.csv")
	if err != nil {
		return "", err
	}
	p, err := irisdata.Profile(context.Background(), m, data.Rows)
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
