package serve

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
)

// Source is one model version to load from a local file.
type Source struct {
	Name    string
	Version int64
	Path    string
	// Triton is the model's config.pbtxt in a repository folder, or nil.
	Triton *TritonModel
}

// ParseModelFlag parses a --model value, NAME=PATH, served as version 1.
func ParseModelFlag(spec string) (Source, error) {
	name, path, ok := strings.Cut(spec, "=")
	if !ok || path == "" {
		return Source{}, fmt.Errorf("--model %q: want NAME=PATH.onnx", spec)
	}
	if err := registry.ValidateName(name); err != nil {
		return Source{}, fmt.Errorf("--model %q: %w", spec, err)
	}
	return Source{Name: name, Version: 1, Path: path}, nil
}

// ScanRepository lists the models of a Triton-layout repository,
// DIR/NAME/VERSION/model.onnx, sorted by name and version. A model's
// DIR/NAME/config.pbtxt, when present, names the file
// (default_model_filename), picks the versions (version_policy) and comes
// with each source. Folders that do not fit the layout are skipped; an
// empty repository is an error.
func ScanRepository(dir string) ([]Source, error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("model repository: %w", err)
	}
	var sources []Source
	for _, n := range names {
		if !n.IsDir() || registry.ValidateName(n.Name()) != nil {
			continue
		}
		model, err := scanModel(dir, n.Name())
		if err != nil {
			return nil, fmt.Errorf("model repository: %w", err)
		}
		sources = append(sources, model...)
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("model repository %s: no NAME/VERSION/model.onnx found", dir)
	}
	return sources, nil
}

// scanModel lists the versions of one model folder to serve, in ascending order.
func scanModel(dir, name string) ([]Source, error) {
	triton, err := ReadTritonConfig(dir, name)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	var found []int64
	for _, e := range entries {
		number, err := strconv.ParseInt(e.Name(), 10, 64)
		if !e.IsDir() || err != nil || number < 1 {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, name, e.Name(), triton.FileName())); err == nil {
			found = append(found, number)
		}
	}
	slices.Sort(found)
	var out []Source
	for _, v := range triton.Versions(found) {
		path := filepath.Join(dir, name, strconv.FormatInt(v, 10), triton.FileName())
		out = append(out, Source{Name: name, Version: v, Path: path, Triton: triton})
	}
	return out, nil
}
