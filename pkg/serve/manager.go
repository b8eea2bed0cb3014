package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
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
	// slot is where the manager keeps the version: the model's name, or
	// NAME@ROLE for the canary and shadow versions of a rollout.
	slot    string
	batcher *runtime.Batcher
	stats   *versionStats
	drift   *driftRecorder // nil without a reference profile
	timeout time.Duration
	// users is held for reading by each request using the version and for
	// writing while it is retired, so retiring waits for them.
	users sync.RWMutex
}

// Run answers one request through the version's batcher, giving up after
// the model's request timeout.
func (v *Version) Run(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, error) {
	out, _, err := v.RunTimed(ctx, inputs, outputs)
	return out, err
}

// RunTimed is Run that also tells when the request queued and ran.
func (v *Version) RunTimed(ctx context.Context, inputs []*oip.Tensor, outputs []string) ([]*oip.Tensor, runtime.Timing, error) {
	if v.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.timeout)
		defer cancel()
	}
	return v.batcher.RunTimed(ctx, inputs, outputs)
}

// retire waits for the requests using the version, then frees it.
func (v *Version) retire() {
	v.users.Lock()
	v.batcher.Close()
	if v.drift != nil {
		v.drift.close()
	}
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
	// RolloutStopped, when set, hears of each canary or shadow that the
	// rollback rules stop (kiln-serve reports it to the registry).
	RolloutStopped func(RolloutEvent)
	// Logger receives rollout decisions; nil means slog.Default().
	Logger *slog.Logger
}

// Manager holds the model versions a node serves. Versions are swapped in
// atomically: a request holds the version it started on until it ends.
type Manager struct {
	opts     ManagerOptions
	metrics  *Metrics
	mu       sync.RWMutex
	models   map[string]map[int64]*Version
	latest   map[string]*Version
	expected map[string]bool
	status   map[string]*ModelStatus
	rollouts map[string]*rollout // models with a canary or a shadow
	draining bool
}

// NewManager returns an empty manager.
func NewManager(opts ManagerOptions) *Manager {
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	m := &Manager{
		opts: opts, metrics: opts.Metrics,
		models: map[string]map[int64]*Version{}, latest: map[string]*Version{},
		expected: map[string]bool{}, status: map[string]*ModelStatus{}, rollouts: map[string]*rollout{},
	}
	if c := opts.Config; c != nil {
		for name := range c.Models {
			if cfg := c.For(name); cfg.Canary != nil || cfg.Shadow != nil {
				m.rollouts[name] = newRollout(name, cfg, opts.RolloutStopped, opts.Logger)
			}
		}
	}
	opts.Metrics.registry.MustRegister(newVersionCollector(m))
	return m
}

// NewVersion loads a model file into a version ready to serve as name's
// version number, with the model's batching settings, and drift
// monitoring against profile when it is not nil (and drift is not turned
// off for the model). It is not served until Load or Replace.
func (m *Manager) NewVersion(name string, number int64, path string, profile *drift.Profile) (*Version, error) {
	return m.newVersion(name, number, path, profile, m.opts.Config.For(name))
}

func (m *Manager) newVersion(name string, number int64, path string, profile *drift.Profile, cfg ModelConfig) (*Version, error) {
	rtOpts := m.opts.Runtime
	batchOpts := cfg.Batching.BatchOptions().WithDefaults()
	if cfg.IntraOpThreads > 0 {
		rtOpts.IntraOpThreads, rtOpts.LoneRunThreads = cfg.IntraOpThreads, 0
	} else if rtOpts.IntraOpThreads == 0 {
		defaults := runtime.DefaultThreads()
		rtOpts.IntraOpThreads, rtOpts.LoneRunThreads = defaults.IntraOpThreads, defaults.LoneRunThreads
	}
	if cfg.InterOpThreads > 0 {
		rtOpts.InterOpThreads = cfg.InterOpThreads
	}
	rt, err := runtime.Load(path, rtOpts)
	if err != nil {
		return nil, fmt.Errorf("load %s@%d: %w", name, number, err)
	}
	version := strconv.FormatInt(number, 10)
	stats := newVersionStats(name, version)
	v := &Version{
		Model: name, Number: number, Runtime: rt, version: version, stats: stats, slot: name,
		batcher: runtime.NewBatcher(rt, batchOpts, m.metrics.batchObserver(name, version, stats)),
		timeout: time.Duration(cfg.RequestTimeout),
	}
	v.Inputs, v.Outputs = rt.Signature()
	if profile != nil && cfg.Drift.enabled() {
		if v.drift, err = newDriftRecorder(name, version, profile, cfg.Drift, m.metrics); err != nil {
			v.batcher.Close()
			rt.Close()
			return nil, fmt.Errorf("drift monitoring for %s@%d: %w", name, number, err)
		}
	}
	return v, nil
}

// Load loads a local model file and serves it beside the model's other
// versions (replacing one of the same number), with the settings of its
// Triton configuration, if any, under its own, and monitoring drift
// against the model's configured profile file, if any.
func (m *Manager) Load(src Source) error {
	var layer *ModelConfig
	if src.Triton != nil {
		layer = &src.Triton.Settings
	}
	cfg := m.opts.Config.ForLayered(src.Name, layer)
	profile, err := cfg.Drift.loadProfile()
	if err != nil {
		return err
	}
	v, err := m.newVersion(src.Name, src.Version, src.Path, profile, cfg)
	if err != nil {
		return err
	}
	if src.Triton != nil {
		if err := src.Triton.Check(v.Inputs, v.Outputs); err != nil {
			v.retire()
			return fmt.Errorf("%s@%d: %w", src.Name, src.Version, err)
		}
	}
	m.install(v, false, func(s *ModelStatus) {
		s.Source = src.Path
		s.Version = src.Version
		s.LoadedAt = time.Now()
	})
	return nil
}

// Replace makes v the only served version of its model and applies
// status to the model's status in the same step, so that the status never
// lags what is served; the versions it replaces finish their requests in
// flight and are then freed.
func (m *Manager) Replace(v *Version, status func(*ModelStatus)) { m.install(v, true, status) }

func (m *Manager) install(v *Version, replaceAll bool, status func(*ModelStatus)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.changeStatus(v.slot, status)
	versions := m.models[v.slot]
	var retired []*Version
	if replaceAll {
		retired = slices.Collect(maps.Values(versions))
		versions = nil
	} else if old := versions[v.Number]; old != nil {
		retired = append(retired, old)
	}
	if versions == nil {
		versions = map[int64]*Version{}
	}
	versions[v.Number] = v
	m.models[v.slot] = versions
	m.latest[v.slot] = versions[slices.Max(slices.Collect(maps.Keys(versions)))]
	for _, old := range retired {
		if old != v {
			go m.retire(old)
		}
	}
}

func (m *Manager) retire(v *Version) {
	v.retire()
	for _, other := range m.all() {
		if other.Model == v.Model && other.version == v.version {
			return // the same version serves in another slot: its series go on
		}
	}
	m.metrics.forget(v.Model, v.version)
}

// rollout returns the model's rollout, or nil when it has none.
func (m *Manager) rollout(model string) *rollout { return m.rollouts[model] }

// RolloutRef is a registry reference a node follows for a rollout role.
type RolloutRef struct {
	Ref  registry.Ref
	Role string
}

// RolloutRefs lists the canary and shadow references of the configured rollouts.
func (m *Manager) RolloutRefs() []RolloutRef {
	var out []RolloutRef
	for _, name := range slices.Sorted(maps.Keys(m.rollouts)) {
		r := m.rollouts[name]
		for role, split := range map[string]*TrafficSplit{RoleCanary: r.canary, RoleShadow: r.shadow} {
			if split != nil {
				ref, _ := registry.ParseRef(split.Ref) // checked by Config.Validate
				out = append(out, RolloutRef{Ref: ref, Role: role})
			}
		}
	}
	return out
}

// RunShadows answers the mirrored requests of every rollout with a shadow, until ctx ends.
func (m *Manager) RunShadows(ctx context.Context) {
	for _, r := range m.rollouts {
		if r.shadow != nil {
			go r.runShadow(ctx, m)
		}
	}
}

// Rollout reports a model's rollout on this node; false when it has none.
func (m *Manager) Rollout(model string) (RolloutReport, bool) {
	r := m.rollouts[model]
	if r == nil {
		return RolloutReport{}, false
	}
	return r.reportNow(m), true
}

// Unload stops serving every version of a model: new requests for it fail
// with ErrModelNotFound, requests in flight finish first, then the versions
// are freed. The node no longer waits for the model to be ready.
func (m *Manager) Unload(name string) error {
	m.mu.Lock()
	versions := m.models[name]
	delete(m.models, name)
	delete(m.latest, name)
	delete(m.expected, name)
	delete(m.status, name)
	m.mu.Unlock()
	if len(versions) == 0 {
		return fmt.Errorf("%w: unknown model %q", ErrModelNotFound, name)
	}
	for _, v := range versions {
		m.retire(v)
	}
	return nil
}

// Expect names models that must be loaded before the node is ready.
func (m *Manager) Expect(names ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		m.expected[n] = true
	}
}

// Drain turns readiness off for shutdown.
func (m *Manager) Drain() {
	m.mu.Lock()
	m.draining = true
	m.mu.Unlock()
}

// Ready reports whether every expected model is loaded (and at least one
// model is), unless the node is draining.
func (m *Manager) Ready() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.draining || len(m.models) == 0 {
		return false
	}
	for name := range m.expected {
		if m.latest[name] == nil {
			return false
		}
	}
	return true
}

// Get returns a version of a model: the named one, or the highest when version is "".
func (m *Manager) Get(name, version string) (*Version, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.lookup(name, version)
}

// Acquire returns a version as Get does, held for one request: the version
// is not freed before its Release is called.
func (m *Manager) Acquire(name, version string) (*Version, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, err := m.lookup(name, version)
	if err != nil {
		return nil, err
	}
	v.users.RLock()
	return v, nil
}

// Release ends a hold taken by Acquire.
func (v *Version) Release() { v.users.RUnlock() }

func (m *Manager) lookup(name, version string) (*Version, error) {
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
	all := m.models
	m.models, m.latest = map[string]map[int64]*Version{}, map[string]*Version{}
	m.draining = true
	m.mu.Unlock()
	for _, versions := range all {
		for _, v := range versions {
			m.retire(v)
		}
	}
}
