package serve

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kilnml/kiln/pkg/registry"
)

// Source is one model version to load from a local file.
type Source struct {
	Name    string
	Version int64
	Path    string
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
// DIR/NAME/VERSION/model.onnx, sorted by name and version. Folders that do
// not fit the layout are skipped; an empty repository is an error.
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
		versions, err := os.ReadDir(filepath.Join(dir, n.Name()))
		if err != nil {
			return nil, fmt.Errorf("model repository: %w", err)
		}
		for _, v := range versions {
			number, err := strconv.ParseInt(v.Name(), 10, 64)
			if !v.IsDir() || err != nil || number < 1 {
				continue
			}
			path := filepath.Join(dir, n.Name(), v.Name(), "model.onnx")
			if _, err := os.Stat(path); err != nil {
				continue
			}
			sources = append(sources, Source{Name: n.Name(), Version: number, Path: path})
		}
	}
	if len(sources) == 0 {
		return nil, fmt.Errorf("model repository %s: no NAME/VERSION/model.onnx found", dir)
	}
	sort.Slice(sources, func(i, j int) bool {
		if sources[i].Name != sources[j].Name {
			return sources[i].Name < sources[j].Name
		}
		return sources[i].Version < sources[j].Version
	})
	return sources, nil
}
