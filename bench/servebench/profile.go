package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/pkg/onnx"
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
	return writeTemp("profile.json", js)
}

// writeTemp writes data to a file called name in a new temporary folder
// and returns its path; the caller removes the folder.
func writeTemp(name string, data []byte) (string, error) {
	dir, err := os.MkdirTemp("", "kiln-servebench-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, data, 0o644)
}

// writeModel writes m to a file called name in a new temporary folder.
func writeModel(name string, m *onnx.Model) (string, error) {
	data, err := m.Bytes()
	if err != nil {
		return "", err
	}
	return writeTemp(name, data)
}
