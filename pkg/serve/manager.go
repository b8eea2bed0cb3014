package serve

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// ErrModelNotFound is wrapped by errors about models or versions this node does not serve.
var ErrModelNotFound = errors.New("model not found")

// Version is one loaded version of a model.
type Version struct {
	Model   string
	Number  int64
	Runtime *runtime.Model
	Inputs  []oip.TensorMetadata
	Outputs []oip.TensorMetadata
}

// Manager holds the model versions a node serves.
type Manager struct {
	opts   runtime.Options
	mu     sync.RWMutex
	models map[string]map[int64]*Version
	ready  bool
}

// NewManager returns an empty manager whose models load with opts.
func NewManager(opts runtime.Options) *Manager {
	return &Manager{opts: opts, models: map[string]map[int64]*Version{}}
}

// Load loads one model version from its file and starts serving it.
func (m *Manager) Load(src Source) error {
	rt, err := runtime.Load(src.Path, m.opts)
	if err != nil {
		return fmt.Errorf("load %s@%d: %w", src.Name, src.Version, err)
	}
	v := &Version{Model: src.Name, Number: src.Version, Runtime: rt}
	v.Inputs, v.Outputs = rt.Signature()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.models[src.Name] == nil {
		m.models[src.Name] = map[int64]*Version{}
	}
	if old := m.models[src.Name][src.Version]; old != nil {
		defer old.Runtime.Close()
	}
	m.models[src.Name][src.Version] = v
	return nil
}

// SetReady marks the node ready (or not) to take requests.
func (m *Manager) SetReady(ready bool) {
	m.mu.Lock()
	m.ready = ready
	m.mu.Unlock()
}

// Ready reports whether the node is ready: marked so and serving at least one model.
func (m *Manager) Ready() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ready && len(m.models) > 0
}

// Get returns a version of a model: the named one, or the highest when version is "".
func (m *Manager) Get(name, version string) (*Version, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	versions := m.models[name]
	if len(versions) == 0 {
		return nil, fmt.Errorf("%w: unknown model %q", ErrModelNotFound, name)
	}
	if version == "" {
		return versions[slices.Max(slices.Collect(maps.Keys(versions)))], nil
	}
	n, err := strconv.ParseInt(version, 10, 64)
	if v := versions[n]; err == nil && v != nil {
		return v, nil
	}
	return nil, fmt.Errorf("%w: model %q has no version %q", ErrModelNotFound, name, version)
}

// Versions lists the versions of a model in ascending order.
func (m *Manager) Versions(name string) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	numbers := slices.Sorted(maps.Keys(m.models[name]))
	out := make([]string, len(numbers))
	for i, n := range numbers {
		out[i] = strconv.FormatInt(n, 10)
	}
	return out
}

// Close stops serving every model and frees them, after their Runs in flight.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, versions := range m.models {
		for _, v := range versions {
			v.Runtime.Close()
		}
	}
	m.models = map[string]map[int64]*Version{}
	m.ready = false
}
