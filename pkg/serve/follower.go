package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
)

// Gates decide whether a loaded candidate version may replace the current
// one (nil before the first). The report is shown in the model's status;
// an error means the candidate must not be served.
type Gates interface {
	Check(ctx context.Context, candidate, current *registry.Version, m *runtime.Model) (report any, err error)
}

// FollowOptions tune a Follower.
type FollowOptions struct {
	// PollInterval is how often the registry is asked whether the alias
	// moved when it is not watched; default 5s.
	PollInterval time.Duration
	// Watch, when above zero, is how long each long poll of the alias may
	// wait for a move (the registry answers as soon as it moves); when the
	// watch fails or the registry does not hold the request, the follower
	// polls every PollInterval instead.
	Watch time.Duration
	// MaxBackoff caps the wait between failed attempts; default 1 minute.
	MaxBackoff time.Duration
	// Warmup is how many runs a new version gets before it is swapped in; default 5.
	Warmup int
	// Gates check each new version on this node; nil accepts every version.
	Gates  Gates
	Logger *slog.Logger
	// Role is the part the followed version plays in its model's rollout:
	// RolePrimary (the default: it answers the model's requests), RoleCanary
	// or RoleShadow (it is kept beside the primary, and the node is ready
	// without it).
	Role string
}

// Follower keeps one registry reference (name@alias or name@N) served: it
// watches the registry and, when the reference resolves to a new version,
// downloads it into the cache, loads it, checks it against the gates, warms
// it up and swaps it in. When a step fails the current version keeps
// serving, the reason goes to the model's status and metrics, and the
// follower retries with backoff.
type Follower struct {
	ref     registry.Ref
	slot    string // where the manager keeps the followed version
	client  *registry.Client
	cache   *Cache
	models  *Manager
	opts    FollowOptions
	current *registry.Version
	etag    string
	target  int // version the alias pointed at in the last answer
}

// NewFollower prepares a follower; Run starts it.
func NewFollower(ref registry.Ref, client *registry.Client, cache *Cache, models *Manager, opts FollowOptions) *Follower {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	if opts.Warmup <= 0 {
		opts.Warmup = 5
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	slot := slotOf(ref.Name, opts.Role)
	if slot == ref.Name {
		models.Expect(ref.Name)
	}
	models.metrics.followed(ref.Name)
	models.SetStatus(slot, func(s *ModelStatus) { s.Ref = ref.String() })
	return &Follower{ref: ref, slot: slot, client: client, cache: cache, models: models, opts: opts}
}

// Run follows the reference until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	if err := f.sync(ctx); err != nil {
		f.fail(err)
		f.serveCached()
	}
	backoff := time.Second
	for {
		wait := f.opts.PollInterval
		if f.lastFailed() {
			wait = backoff
			backoff = min(2*backoff, f.opts.MaxBackoff)
		} else {
			backoff = time.Second
			if f.watch(ctx) {
				wait = 0
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := f.sync(ctx); err != nil && ctx.Err() == nil {
			f.fail(err)
		}
	}
}

// watch long-polls the registry until the alias moves or the watch's wait
// ends, and reports whether it did its job (so no poll interval is needed
// before the next sync): false when watching is off, the reference is a
// pinned version, the watch failed, or the registry answered at once
// without a move (a registry that does not hold requests).
func (f *Follower) watch(ctx context.Context) bool {
	if f.opts.Watch <= 0 || f.ref.Alias == "" {
		return false
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, f.opts.Watch+10*time.Second)
	defer cancel()
	_, _, changed, err := f.client.WatchAlias(wctx, f.ref.Name, f.ref.Alias, f.etag, f.opts.Watch)
	if err != nil {
		if ctx.Err() == nil {
			f.opts.Logger.Debug("alias watch failed; polling", "model", f.ref.Name, "ref", f.ref.String(), "err", err)
		}
		return false
	}
	return changed || time.Since(start) >= f.opts.Watch/2
}

func (f *Follower) lastFailed() bool {
	st, _ := f.models.Status(f.slot)
	return st.LastError != ""
}

// sync asks the registry where the reference points and installs that
// version when it is not the one served.
func (f *Follower) sync(ctx context.Context) error {
	detectStart := time.Now()
	target := f.ref.Version
	if f.ref.Alias != "" {
		a, etag, changed, err := f.client.AliasIfChanged(ctx, f.ref.Name, f.ref.Alias, f.etag)
		if errors.Is(err, registry.ErrNotFound) && f.slot != f.ref.Name {
			f.retireRole() // the rollout's alias is gone: so is its traffic
			return nil
		}
		if err != nil {
			return fmt.Errorf("ask the registry for %s: %w", f.ref, err)
		}
		if changed {
			f.etag, f.target = etag, a.Version
		}
		target = f.target
	}
	if f.current != nil && f.current.Version == target {
		return nil
	}
	v, err := f.client.Resolve(ctx, registry.Ref{Name: f.ref.Name, Version: target})
	if err != nil {
		return fmt.Errorf("resolve %s@%d: %w", f.ref.Name, target, err)
	}
	timings := &SwapTimings{To: v.Version, NoticedAt: detectStart, Detect: time.Since(detectStart)}
	start := time.Now()
	path, err := f.cache.fetch(ctx, f.client, v, 3)
	timings.Download = time.Since(start)
	if err != nil {
		f.models.metrics.loadFailed(f.ref.Name, "download")
		return fmt.Errorf("download %s: %w", v.Ref(), err)
	}
	return f.install(ctx, v, path, f.profile(ctx, v), timings, true)
}

// profile returns the version's reference profile for drift monitoring, or
// nil when it has none or it cannot be had; serving goes on without it.
func (f *Follower) profile(ctx context.Context, v *registry.Version) *drift.Profile {
	if v.ReferenceProfile == nil {
		return nil
	}
	data, err := f.cache.profile(v.ReferenceProfile.Digest)
	if err != nil {
		if data, err = f.client.ReferenceProfile(ctx, v); err == nil {
			err = f.cache.saveProfile(v.ReferenceProfile.Digest, data)
		}
	}
	var p *drift.Profile
	if err == nil {
		p, err = drift.ParseProfile(data)
	}
	if err != nil {
		f.opts.Logger.Warn("serving without drift monitoring: the reference profile is unusable", "model", v.Name, "version", v.Version, "err", err)
		return nil
	}
	return p
}

// serveCached loads the version this reference last resolved to from the
// cache, for a node that starts while the registry is down.
func (f *Follower) serveCached() {
	v, err := f.cache.recall(f.ref)
	if err != nil {
		f.opts.Logger.Warn("no cached version to serve while the registry is unreachable", "model", f.ref.Name, "ref", f.ref.String(), "err", err)
		return
	}
	path, err := f.cache.cached(v.Digest)
	if err != nil {
		f.opts.Logger.Error("cached model unusable", "model", f.ref.Name, "version", v.Version, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.install(ctx, v, path, f.profile(ctx, v), &SwapTimings{To: v.Version}, false); err != nil {
		f.opts.Logger.Error("cached model failed to load", "model", f.ref.Name, "version", v.Version, "err", err)
		return
	}
	f.opts.Logger.Info("serving the cached version while the registry is unreachable", "model", f.ref.Name, "version", v.Version)
}

// install loads, checks, warms up and swaps in a downloaded version. When
// gated is false (a version from the cache, checked when first served) the
// gates are skipped.
func (f *Follower) install(ctx context.Context, v *registry.Version, path string, profile *drift.Profile, t *SwapTimings, gated bool) error {
	stage := time.Now()
	candidate, err := f.models.NewVersion(v.Name, int64(v.Version), path, profile)
	t.Load = time.Since(stage)
	if candidate != nil {
		candidate.slot = f.slot
	}
	if err != nil {
		f.cache.unpin(v.Digest)
		f.models.metrics.loadFailed(f.ref.Name, "load")
		return err
	}
	reject := func(stageName string, err error) error {
		candidate.retire()
		f.cache.unpin(v.Digest)
		f.models.metrics.loadFailed(f.ref.Name, stageName)
		return err
	}
	if gated && f.opts.Gates != nil {
		stage = time.Now()
		report, err := f.opts.Gates.Check(ctx, v, f.current, candidate.Runtime)
		t.Validate = time.Since(stage)
		f.models.SetStatus(f.slot, func(s *ModelStatus) { s.LastReport = report })
		if err != nil {
			return reject("validate", fmt.Errorf("%s failed validation on this node: %w", v.Ref(), err))
		}
	}
	stage = time.Now()
	err = warmUp(ctx, candidate, v, f.opts.Warmup)
	t.Warmup = time.Since(stage)
	if err != nil {
		return reject("warmup", fmt.Errorf("warm up %s: %w", v.Ref(), err))
	}

	previous := f.current
	if previous != nil {
		t.From = previous.Version
	}
	stage = time.Now()
	f.models.Replace(candidate, func(s *ModelStatus) {
		t.ServingAt = time.Now()
		t.Swap = t.ServingAt.Sub(stage)
		s.Version, s.Digest, s.LoadedAt = int64(v.Version), v.Digest, t.ServingAt
		s.LastError, s.LastErrorAt = "", time.Time{}
		s.LastSwap = t
	})
	if previous != nil {
		f.cache.unpin(previous.Digest)
	}
	f.current = v
	f.models.metrics.swapped(f.ref.Name, t)
	if err := f.cache.remember(f.ref, v); err != nil {
		f.opts.Logger.Warn("could not remember the served version in the cache", "model", v.Name, "err", err)
	}
	f.opts.Logger.Info("model version swapped in", "model", v.Name, "version", v.Version, "from", t.From,
		"download_s", t.Download.Seconds(), "load_s", t.Load.Seconds(), "validate_s", t.Validate.Seconds(), "warmup_s", t.Warmup.Seconds())
	return nil
}

// retireRole stops serving a canary or shadow version whose alias was
// removed, so that its traffic goes back to the primary.
func (f *Follower) retireRole() {
	if f.current == nil {
		return
	}
	if err := f.models.Unload(f.slot); err == nil {
		f.opts.Logger.Info("rollout alias removed: its version no longer takes traffic", "model", f.ref.Name, "ref", f.ref.String(), "version", f.current.Version)
	}
	f.cache.unpin(f.current.Digest)
	f.current, f.etag, f.target = nil, "", 0
}

func (f *Follower) fail(err error) {
	f.opts.Logger.Error("model update failed; the current version keeps serving", "model", f.ref.Name, "ref", f.ref.String(), "err", err)
	f.models.SetStatus(f.slot, func(s *ModelStatus) {
		s.LastError, s.LastErrorAt = err.Error(), time.Now()
	})
}

// warmUp runs the version's input example (or random inputs shaped by its
// signature) through the new version's batcher n times.
func warmUp(ctx context.Context, candidate *Version, v *registry.Version, n int) error {
	req, err := warmupRequest(candidate, v)
	if err != nil {
		return err
	}
	for range n {
		if _, err := candidate.Run(ctx, req.Inputs, nil); err != nil {
			return err
		}
	}
	return nil
}

func warmupRequest(candidate *Version, v *registry.Version) (*oip.InferRequest, error) {
	if len(v.InputExample) > 0 {
		req, err := oip.DecodeRequest(v.InputExample, -1)
		if err != nil {
			return nil, fmt.Errorf("input example: %w", err)
		}
		return req, nil
	}
	req, err := loadgen.RandomRequest(&oip.ModelMetadata{Inputs: candidate.Inputs}, 1, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return nil, errors.Join(errors.New("no input example, and no random inputs for the signature"), err)
	}
	return req, nil
}
