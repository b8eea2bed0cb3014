package serve

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kilnml/kiln/internal/quantile"
	"github.com/kilnml/kiln/pkg/oip"
)

// The roles a version plays in a rollout, as the metrics label them.
const (
	RolePrimary = "primary"
	RoleCanary  = "canary"
	RoleShadow  = "shadow"
)

// minP99Gap is how much slower than the primary's a canary's p99 must be,
// besides MaxP99Ratio times, to stop it: below that, latencies of a few
// tens of microseconds differ by noise.
const minP99Gap = time.Millisecond

// shadowQueue is how many mirrored requests may wait for the shadow
// version; more are dropped, so that the shadow never holds the real answer.
const shadowQueue = 64

// slotOf is where the manager keeps the version of model that plays role.
func slotOf(model, role string) string {
	if role == RolePrimary || role == "" {
		return model
	}
	return model + "@" + role
}

// splitSlot returns the model and the rollout role of a manager slot (role
// "" for the primary).
func splitSlot(slot string) (model, role string) {
	model, role, _ = strings.Cut(slot, "@")
	return model, role
}

// RolloutEvent is what a node reports when it stops a canary or a shadow.
type RolloutEvent struct {
	Model   string
	Role    string
	Version int64
	Reason  string
}

// rollout holds a model's traffic rules on this node and what they measured.
type rollout struct {
	model  string
	canary *TrafficSplit
	shadow *TrafficSplit
	sticky *StickyConfig
	rules  RollbackRules
	report func(RolloutEvent) // called, on its own goroutine, when a role stops
	log    *slog.Logger

	mu       sync.Mutex
	stopped  map[string]RolloutStop // role -> why it stopped
	roles    map[string]*roleStats
	compared window[bool]  // shadow answers: agreed or not
	gap      time.Duration // shadow minus primary latency, summed over the gaps answers compared
	gaps     int64
	dropped  int64
	mirror   chan mirrored
}

// RolloutStop is why and when the rollback rules stopped a role.
type RolloutStop struct {
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// roleStats are one role's recent requests.
type roleStats struct {
	requests, errors int64
	version          string
	outcomes         window[bool] // failed or not
	latencies        window[time.Duration]
}

// window keeps the last n values.
type window[T any] struct {
	values []T
	next   int
	full   bool
}

func newWindow[T any](n int) window[T] { return window[T]{values: make([]T, n)} }

func (w *window[T]) add(v T) {
	w.values[w.next] = v
	w.next = (w.next + 1) % len(w.values)
	w.full = w.full || w.next == 0
}

// all returns the kept values, in no particular order.
func (w *window[T]) all() []T {
	if w.full {
		return w.values
	}
	return w.values[:w.next]
}

func newRollout(model string, cfg ModelConfig, report func(RolloutEvent), log *slog.Logger) *rollout {
	rules := cfg.Rollback
	rules.Window = max(pick(rules.Window, 200), 10)
	rules.MaxErrorRate = pick(rules.MaxErrorRate, 0.01)
	rules.MaxP99Ratio = pick(rules.MaxP99Ratio, 1.5)
	rules.MinAgreement = pick(rules.MinAgreement, 0.95)
	rules.AbsTolerance = pick(rules.AbsTolerance, 1e-5)
	rules.RelTolerance = pick(rules.RelTolerance, 1e-3)
	r := &rollout{
		model: model, canary: cfg.Canary, shadow: cfg.Shadow, sticky: cfg.Sticky, rules: rules, report: report, log: log,
		stopped: map[string]RolloutStop{}, roles: map[string]*roleStats{}, compared: newWindow[bool](rules.Window),
	}
	for _, role := range []string{RolePrimary, RoleCanary, RoleShadow} {
		r.roles[role] = &roleStats{outcomes: newWindow[bool](rules.Window), latencies: newWindow[time.Duration](rules.Window)}
	}
	if r.shadow != nil {
		r.mirror = make(chan mirrored, shadowQueue)
	}
	return r
}

// route picks the role that answers a request: the canary for its share of
// requests (by the sticky header's hash when there is one, else at random)
// while it runs, else the primary.
func (r *rollout) route(header func(string) string) string {
	if r.canary == nil || r.isStopped(RoleCanary) {
		return RolePrimary
	}
	draw := rand.Float64() * 100
	if r.sticky != nil && header != nil {
		if key := header(r.sticky.Header); key != "" {
			h := fnv.New64a()
			h.Write([]byte(key))
			draw = float64(h.Sum64()%10000) / 100
		}
	}
	if draw < r.canary.Percent {
		return RoleCanary
	}
	return RolePrimary
}

// mirrors reports whether this request is to be mirrored to the shadow.
func (r *rollout) mirrors() bool {
	return r.shadow != nil && !r.isStopped(RoleShadow) && rand.Float64()*100 < r.shadow.Percent
}

func (r *rollout) isStopped(role string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.stopped[role]
	return ok
}

// record counts one request answered (or failed) by role's version, and
// applies the rollback rules to the canary.
func (r *rollout) record(role, version string, failed bool, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.roles[role]
	st.requests++
	st.version = version
	st.outcomes.add(failed)
	if failed {
		st.errors++
	} else {
		st.latencies.add(took)
	}
	if role != RoleCanary || !r.enabled() {
		return
	}
	if errs := count(st.outcomes.all()); float64(errs) > r.rules.MaxErrorRate*float64(r.rules.Window) {
		r.stopLocked(RoleCanary, version, fmt.Sprintf("canary error rate: %d of the last %d requests failed (more than %g%%)",
			errs, len(st.outcomes.all()), 100*r.rules.MaxErrorRate))
		return
	}
	if !failed && st.requests%20 == 0 && st.latencies.full && r.roles[RolePrimary].latencies.full {
		canary, primary := quantile.Of(st.latencies.all(), 0.99), quantile.Of(r.roles[RolePrimary].latencies.all(), 0.99)
		if float64(canary) > r.rules.MaxP99Ratio*float64(primary) && canary-primary > minP99Gap {
			r.stopLocked(RoleCanary, version, fmt.Sprintf("canary p99 %v is more than %g × the primary's %v", canary, r.rules.MaxP99Ratio, primary))
		}
	}
}

func (r *rollout) enabled() bool { return r.rules.Enabled == nil || *r.rules.Enabled }

// stopLocked stops role for reason; r.mu is held.
func (r *rollout) stopLocked(role, version, reason string) {
	if _, done := r.stopped[role]; done {
		return
	}
	r.stopped[role] = RolloutStop{Reason: reason, At: time.Now()}
	r.log.Warn("rollout stopped", "model", r.model, "role", role, "version", version, "reason", reason)
	if r.report != nil {
		n, _ := strconv.ParseInt(version, 10, 64)
		go r.report(RolloutEvent{Model: r.model, Role: role, Version: n, Reason: reason})
	}
}

func count(vs []bool) int {
	n := 0
	for _, v := range vs {
		if v {
			n++
		}
	}
	return n
}

// mirrored is a request answered by the primary, waiting for the shadow.
type mirrored struct {
	req     *oip.InferRequest
	outputs []*oip.Tensor
	took    time.Duration
}

// offer queues a mirrored request for the shadow, or drops it when the
// queue is full.
func (r *rollout) offer(m mirrored) {
	select {
	case r.mirror <- m:
	default:
		r.mu.Lock()
		r.dropped++
		r.mu.Unlock()
	}
}

// runShadow answers mirrored requests with the shadow version until ctx
// ends, and compares each answer with the primary's.
func (r *rollout) runShadow(ctx context.Context, models *Manager) {
	for {
		var m mirrored
		select {
		case <-ctx.Done():
			return
		case m = <-r.mirror:
		}
		if !r.waitForIdlePrimary(ctx, models) {
			return
		}
		v, err := models.Acquire(slotOf(r.model, RoleShadow), "")
		if err != nil {
			continue // no shadow version loaded yet
		}
		names := make([]string, len(m.req.Outputs))
		for i, o := range m.req.Outputs {
			names[i] = o.Name
		}
		start := time.Now()
		outputs, _, err := v.RunTimed(ctx, m.req.Inputs, names)
		took := time.Since(start)
		if err == nil && v.drift != nil {
			v.drift.observe(m.req.Inputs, outputs)
		}
		v.Release()
		r.record(RoleShadow, v.version, err != nil, took)
		if err != nil {
			continue
		}
		agree := r.agree(m.outputs, outputs)
		r.mu.Lock()
		r.compared.add(agree)
		r.gap += took - m.took
		r.gaps++
		agreed, seen := count(r.compared.all()), len(r.compared.all())
		if r.enabled() && r.compared.full && float64(agreed) < r.rules.MinAgreement*float64(seen) {
			r.stopLocked(RoleShadow, v.version, fmt.Sprintf("shadow agreement: %d of the last %d answers agree with the primary (less than %g%%)", agreed, seen, 100*r.rules.MinAgreement))
		}
		r.mu.Unlock()
	}
}

// waitForIdlePrimary waits until the primary version has a free instance
// (no request queued beyond those running), so that the shadow runs on
// spare capacity only; meanwhile the mirror queue fills and drops. It
// returns false when ctx ends.
func (r *rollout) waitForIdlePrimary(ctx context.Context, models *Manager) bool {
	for {
		v, err := models.Get(r.model, "")
		if err != nil || v.batcher.Pending() < int64(v.batcher.Options().Instances) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Millisecond):
		}
	}
}

// agree reports whether two answers agree: the same outputs, BYTES and
// integers equal, floats within the tolerance.
func (r *rollout) agree(primary, shadow []*oip.Tensor) bool {
	if len(primary) != len(shadow) {
		return false
	}
	for i, p := range primary {
		s := shadow[i]
		if p.Name != s.Name || p.Datatype != s.Datatype || !slices.Equal(p.Shape, s.Shape) {
			return false
		}
		switch p.Datatype {
		case oip.FP16, oip.FP32, oip.FP64, oip.BF16:
			a, errA := oip.Float64s(p)
			b, errB := oip.Float64s(s)
			if errA != nil || errB != nil || len(a) != len(b) {
				return false
			}
			for k := range a {
				if math.Abs(a[k]-b[k]) > r.rules.AbsTolerance+r.rules.RelTolerance*math.Abs(a[k]) || math.IsNaN(a[k]) != math.IsNaN(b[k]) {
					return false
				}
			}
		case oip.Bytes:
			if !slices.EqualFunc(p.Strings, s.Strings, func(x, y []byte) bool { return string(x) == string(y) }) {
				return false
			}
		default:
			if string(p.Raw) != string(s.Raw) {
				return false
			}
		}
	}
	return true
}

// RolloutReport is a model's rollout on this node (GET /v2/models/{m}/rollout).
type RolloutReport struct {
	Model  string                `json:"model"`
	Canary *TrafficSplit         `json:"canary,omitempty"`
	Shadow *TrafficSplit         `json:"shadow,omitempty"`
	Roles  map[string]RoleReport `json:"roles"`
	// Stopped says which roles the rollback rules stopped, and why.
	Stopped map[string]RolloutStop `json:"stopped"`
	// Agreement is the share of recent shadow answers that agreed with the primary's.
	Agreement *float64 `json:"shadow_agreement,omitempty"`
	Compared  int      `json:"shadow_compared"`
	Dropped   int64    `json:"shadow_dropped"`
	// LatencyGap is the mean shadow latency minus the primary's, in seconds.
	LatencyGap float64 `json:"shadow_latency_gap_seconds"`
}

// RoleReport is one role's traffic: requests and errors since the rollout
// began, latency percentiles over the recent window, and drift of its
// version's traffic against the reference.
type RoleReport struct {
	Version   string       `json:"version,omitempty"`
	Requests  int64        `json:"requests"`
	Errors    int64        `json:"errors"`
	ErrorRate float64      `json:"error_rate"`
	P50       float64      `json:"p50_seconds"`
	P99       float64      `json:"p99_seconds"`
	Drift     *DriftStatus `json:"drift,omitempty"`
}

func (r *rollout) reportNow(models *Manager) RolloutReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := RolloutReport{Model: r.model, Canary: r.canary, Shadow: r.shadow, Roles: map[string]RoleReport{}, Stopped: map[string]RolloutStop{}, Dropped: r.dropped}
	for role, st := range r.roles {
		if role != RolePrimary && st.requests == 0 {
			continue
		}
		rr := RoleReport{Version: st.version, Requests: st.requests, Errors: st.errors,
			P50: quantile.Of(st.latencies.all(), 0.5).Seconds(), P99: quantile.Of(st.latencies.all(), 0.99).Seconds()}
		if st.requests > 0 {
			rr.ErrorRate = float64(st.errors) / float64(st.requests)
		}
		if v, err := models.Get(slotOf(r.model, role), ""); err == nil && v.drift != nil {
			ds := v.drift.status()
			rr.Drift = &ds
		}
		rep.Roles[role] = rr
	}
	for role, s := range r.stopped {
		rep.Stopped[role] = s
	}
	if seen := len(r.compared.all()); seen > 0 {
		a := float64(count(r.compared.all())) / float64(seen)
		rep.Agreement, rep.Compared = &a, seen
	}
	if r.gaps > 0 {
		rep.LatencyGap = (r.gap / time.Duration(r.gaps)).Seconds()
	}
	return rep
}
