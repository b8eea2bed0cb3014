package serve

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// ErrModelNotFound is wrapped by errors about models or versions this node does not serve.
var ErrModelNotFound = errors.New("model not found")

// Version is one loaded version of a model, with its batcher.
type Version struct {
	Model   string
	Number  int64
	Runtime *runtime.Model
	Inputs  []oip.TensorMetadata
	Outputs []oip.TensorMetadata

	version string
	batcher *runtime.Batcher
	timeout time.Duration
}

// Run answers one request through the version's batcher, giving up after
// the model's request timeout.
func (v *Version) Run(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, error) {
	if v.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}
	return v.batcher.Run(ctx, inputs, outputs)
}

// close stops the batcher after its queue drains, then frees the model.
func (v *Version) close() {
	v.batcher.Close()
	v.Runtime.Close()
}

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	// Runtime tunes ONNX Runtime sessions.
	Runtime runtime.Options
	// Config holds per-model settings; nil means defaults for every model.
	Config *Config
	// Metrics receives measurements; nil means metrics on a private registry.
	Metrics *Metrics
}

// Manager holds the model versions a node serves.
type Manager struct {
	opts    ManagerOptions
	mu      sync.RWMutex
	models  map[string]map[int64]*Version
	latest  map[string]*Version
	ready   bool
	metrics *Metrics
}

// NewManager returns an empty manager.
func NewManager(opts ManagerOptions) *Manager {
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	m := &Manager{opts: opts, models: map[string]map[int64]*Version{}, latest: map[string]*Version{}, metrics: opts.Metrics}
	opts.Metrics.registry.MustRegister(newPendingCollector(m))
	return m
}

// Load loads one model version from its file and starts serving it,
// replacing a version of the same number.
func (m *Manager) Load(src Source) error {
	rt, err := runtime.Load(src.Path, m.opts.Runtime)
	if err != nil {
		return fmt.Errorf("load %s@%d: %w", src.Name, src.Version, err)
	}
	cfg := m.opts.Config.For(src.Name)
	version := strconv.FormatInt(src.Version, 10)
	v := &Version{
		Model: src.Name, Number: src.Version, Runtime: rt, version: version,
		batcher: runtime.NewBatcher(rt, cfg.Batching.BatchOptions(), m.metrics.batchObserver(src.Name, version)),
		timeout: time.Duration(cfg.RequestTimeout),
	}
	v.Inputs, v.Outputs = rt.Signature()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.models[src.Name] == nil {
		m.models[src.Name] = map[int64]*Version{}
	}
	if old := m.models[src.Name][src.Version]; old != nil {
		defer old.close()
	}
	m.models[src.Name][src.Version] = v
	if cur := m.latest[src.Name]; cur == nil || cur.Number <= v.Number {
		m.latest[src.Name] = v
	}
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
	if version == "" {
		if v := m.latest[name]; v != nil {
			return v, nil
		}
		return nil, fmt.Errorf("%w: unknown model %q", ErrModelNotFound, name)
	}
	versions := m.models[name]
	if len(versions) == 0 {
		return nil, fmt.Errorf("%w: unknown model %q", ErrModelNotFound, name)
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

// all returns every loaded version.
func (m *Manager) all() []*Version {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Version
	for _, versions := range m.models {
		for _, v := range versions {
			out = append(out, v)
		}
	}
	return out
}

// Close stops serving every model and frees them, after their requests in flight.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, versions := range m.models {
		for _, v := range versions {
			v.close()
			m.metrics.forget(v.Model, v.version)
		}
	}
	m.models = map[string]map[int64]*Version{}
	m.latest = map[string]*Version{}
	m.ready = false
}
