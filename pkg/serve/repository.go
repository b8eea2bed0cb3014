package serve

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"

	"github.com/kilnml/kiln/pkg/registry"
)

// ModelControl loads and unloads models by name for the model repository
// extension (Triton's explicit model control).
type ModelControl interface {
	// Load serves the model (again), from where the node found it.
	Load(ctx context.Context, name string) error
	// Unload stops serving the model; requests in flight finish first.
	Unload(ctx context.Context, name string) error
	// Names lists every model the node can serve, loaded or not.
	Names() []string
}

// Repository is the ModelControl of a node: it knows the models given as
// files, those of a Triton-layout folder (scanned again on each load) and
// those followed from a registry (whose follower stops on unload and starts
// again on load, taking the alias's version of that moment).
type Repository struct {
	models *Manager
	opts   RepositoryOptions

	mu        sync.Mutex
	following map[string]*follower // registry models being followed now
	wg        sync.WaitGroup
	ctx       context.Context
}

// follower is one running Follow.
type follower struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// RepositoryOptions say where a node's models come from.
type RepositoryOptions struct {
	// Files are models given as files (--model NAME=PATH.onnx).
	Files []Source
	// Dir is a Triton-layout model repository (--model-repository), or "".
	Dir string
	// Refs are models followed from a registry.
	Refs []registry.Ref
	// Follow keeps ref's model served at the version its alias names, in
	// role (RolePrimary, or a rollout's RoleCanary or RoleShadow), until ctx
	// ends; it is needed when Refs is not empty or a rollout is configured.
	Follow func(ctx context.Context, ref registry.Ref, role string)
	// Logger receives a warning per config.pbtxt setting Kiln ignores; nil means slog.Default().
	Logger *slog.Logger
}

// NewRepository returns the repository of models; Start serves them.
func NewRepository(models *Manager, opts RepositoryOptions) *Repository {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Repository{models: models, opts: opts, following: map[string]*follower{}}
}

// Start loads every file and repository model and starts following every
// registry model; followers stop with ctx (Wait waits for them).
func (r *Repository) Start(ctx context.Context) error {
	r.ctx = ctx
	srcs, err := r.sources("")
	if err != nil {
		return err
	}
	if err := r.load(srcs); err != nil {
		return err
	}
	if len(r.models.RolloutRefs()) > 0 && r.opts.Follow == nil {
		return fmt.Errorf("a canary or a shadow follows a registry alias: start kiln-serve with --registry")
	}
	r.models.RunShadows(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range r.opts.Refs {
		r.models.Expect(ref.Name)
		r.follow(ref, RolePrimary)
	}
	for _, rr := range r.models.RolloutRefs() {
		r.follow(rr.Ref, rr.Role)
	}
	return nil
}

// Wait waits for the followers to stop.
func (r *Repository) Wait() { r.wg.Wait() }

// sources lists the file and repository sources of model name ("" for all).
func (r *Repository) sources(name string) ([]Source, error) {
	all := slices.Clone(r.opts.Files)
	if r.opts.Dir != "" {
		scanned, err := ScanRepository(r.opts.Dir)
		if err != nil {
			return nil, err
		}
		all = append(all, scanned...)
	}
	if name == "" {
		return all, nil
	}
	return slices.DeleteFunc(all, func(s Source) bool { return s.Name != name }), nil
}

// follow starts following ref in role unless it is followed already; r.mu is held.
func (r *Repository) follow(ref registry.Ref, role string) {
	slot := slotOf(ref.Name, role)
	if r.following[slot] != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	f := &follower{cancel: cancel, done: make(chan struct{})}
	r.following[slot] = f
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(f.done)
		r.opts.Follow(ctx, ref, role)
	}()
}

func (r *Repository) ref(name string) (registry.Ref, bool) {
	i := slices.IndexFunc(r.opts.Refs, func(ref registry.Ref) bool { return ref.Name == name })
	if i < 0 {
		return registry.Ref{}, false
	}
	return r.opts.Refs[i], true
}

// Load serves the model again: its files (the repository folder scanned
// anew, so new versions appear), or its registry alias.
func (r *Repository) Load(_ context.Context, name string) error {
	if ref, ok := r.ref(name); ok {
		r.models.Expect(name)
		r.mu.Lock()
		r.follow(ref, RolePrimary)
		r.mu.Unlock()
		return nil
	}
	srcs, err := r.sources(name)
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		return fmt.Errorf("%w: the repository has no model %q", ErrModelNotFound, name)
	}
	return r.load(srcs)
}

// load serves the sources and expects their models, warning once per
// model about the config.pbtxt settings it ignores.
func (r *Repository) load(srcs []Source) error {
	warned := map[string]bool{}
	for _, src := range srcs {
		if src.Triton != nil && !warned[src.Name] {
			warned[src.Name] = true
			for _, w := range src.Triton.Warnings {
				r.opts.Logger.Warn("config.pbtxt: "+w, "model", src.Name)
			}
		}
		if err := r.models.Load(src); err != nil {
			return err
		}
		r.models.Expect(src.Name)
	}
	return nil
}

// Unload stops serving the model (and following its alias, and its
// rollout's canary and shadow).
func (r *Repository) Unload(_ context.Context, name string) error {
	followed := false
	for _, role := range []string{RolePrimary, RoleCanary, RoleShadow} {
		slot := slotOf(name, role)
		r.mu.Lock()
		f := r.following[slot]
		delete(r.following, slot)
		r.mu.Unlock()
		if f != nil {
			f.cancel()
			<-f.done // it swaps in nothing more
			followed = true
		}
		if role != RolePrimary {
			r.models.Unload(slot)
		}
	}
	err := r.models.Unload(name)
	if followed {
		return nil // a follower that had not loaded a version yet leaves nothing to unload
	}
	return err
}

// Names lists every model of the repository.
func (r *Repository) Names() []string {
	names := map[string]bool{}
	srcs, _ := r.sources("")
	for _, s := range srcs {
		names[s.Name] = true
	}
	for _, ref := range r.opts.Refs {
		names[ref.Name] = true
	}
	return slices.Sorted(maps.Keys(names))
}
