package serve

import (
	"context"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// HeartbeatOptions configure a Reporter.
type HeartbeatOptions struct {
	// Node identifies this node in the registry.
	Node string
	// Address is the base URL of this node's REST API as the registry and
	// its console reach it, e.g. "http://10.0.0.7:8000".
	Address string
	// Interval is the time between heartbeats; default 5s.
	Interval time.Duration
	// Build is the kiln-serve version reported.
	Build  string
	Logger *slog.Logger
}

// rateWindow is how far back request and error rates and the p99 latency
// of a heartbeat look.
const rateWindow = time.Minute

// Reporter sends this node's heartbeat to the registry: the models it
// serves with their versions, last swap, last gate report and drift, and
// their request rate, error rate and p99 latency over the last minute.
type Reporter struct {
	client  *registry.Client
	models  *Manager
	opts    HeartbeatOptions
	started time.Time
	// samples are the counters read at each heartbeat of the last minute,
	// oldest first.
	samples []counterSample
}

// counterSample holds, per model and version, the request counters and
// the cumulative latency histogram at one moment.
type counterSample struct {
	at       time.Time
	versions map[[2]string]*versionCounters
}

type versionCounters struct {
	requests, errors float64
	// buckets are cumulative counts per upper bound of latencyBuckets,
	// then the count of all observations (the +Inf bucket).
	buckets []uint64
}

// NewReporter prepares a reporter for the models of m; Run starts it.
func NewReporter(client *registry.Client, m *Manager, opts HeartbeatOptions) *Reporter {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Reporter{client: client, models: m, opts: opts, started: time.Now()}
}

// Run reports at once and then every interval until ctx ends. A failed
// report is logged (once until reports succeed again) and retried at the
// next interval.
func (r *Reporter) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.Interval)
	defer tick.Stop()
	failing := false
	for {
		_, err := r.client.Heartbeat(ctx, r.Heartbeat(time.Now()))
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			r.opts.Logger.Warn("heartbeat to the registry failed; retrying", "node", r.opts.Node, "err", err)
		case err == nil && failing:
			r.opts.Logger.Info("heartbeat to the registry works again", "node", r.opts.Node)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Heartbeat describes the node as of now and remembers its counters for
// the rates of later heartbeats.
func (r *Reporter) Heartbeat(now time.Time) registry.Heartbeat {
	cur := r.sample(now)
	var old *counterSample
	for len(r.samples) > 0 && now.Sub(r.samples[0].at) > rateWindow {
		r.samples = r.samples[1:]
	}
	if len(r.samples) > 0 {
		old = &r.samples[0]
	}
	r.samples = append(r.samples, cur)
	hb := registry.Heartbeat{
		Node: r.opts.Node, Address: r.opts.Address, Build: r.opts.Build, Ready: r.models.Ready(),
		Interval: registry.Seconds(r.opts.Interval.Seconds()), StartedAt: r.started.UTC(), Models: []registry.NodeModel{},
	}
	for _, st := range r.models.statuses() {
		model, role := splitSlot(st.Model)
		nm := registry.NodeModel{
			Model: model, Role: role, Ref: st.Ref, Version: int(st.Version), Digest: st.Digest, LoadedAt: st.LoadedAt,
			LastError: st.LastError, LastErrorAt: st.LastErrorAt, LastSwap: st.LastSwap,
		}
		switch rep := st.LastReport.(type) {
		case validate.Report:
			nm.LastReport = &rep
		case *validate.Report:
			nm.LastReport = rep
		}
		if v, err := r.models.Acquire(st.Model, ""); err == nil {
			if v.drift != nil {
				d := v.drift.status()
				nm.Drift = &registry.NodeDrift{WindowRows: d.WindowRows, DroppedRows: d.DroppedRows, Report: d.Report}
			}
			v.Release()
		}
		if old != nil {
			nm.RequestRate, nm.ErrorRate, nm.P99 = rates(st.Model, old, &cur)
		}
		hb.Models = append(hb.Models, nm)
	}
	return hb
}

// sample reads the request counters and latency histograms of every served version.
func (r *Reporter) sample(now time.Time) counterSample {
	s := counterSample{at: now, versions: map[[2]string]*versionCounters{}}
	get := func(labels []*dto.LabelPair) (*versionCounters, string) {
		var model, version, code string
		for _, l := range labels {
			switch l.GetName() {
			case "model":
				model = l.GetValue()
			case "version":
				version = l.GetValue()
			case "code":
				code = l.GetValue()
			}
		}
		key := [2]string{model, version}
		vc := s.versions[key]
		if vc == nil {
			vc = &versionCounters{}
			s.versions[key] = vc
		}
		return vc, code
	}
	collect(r.models.metrics.requests, func(m *dto.Metric) {
		vc, code := get(m.GetLabel())
		vc.requests += m.GetCounter().GetValue()
		if !strings.HasPrefix(code, "2") {
			vc.errors += m.GetCounter().GetValue()
		}
	})
	collect(r.models.metrics.duration, func(m *dto.Metric) {
		vc, _ := get(m.GetLabel())
		for _, b := range m.GetHistogram().GetBucket() {
			vc.buckets = append(vc.buckets, b.GetCumulativeCount())
		}
		vc.buckets = append(vc.buckets, m.GetHistogram().GetSampleCount())
	})
	return s
}

// collect calls f with each metric of c.
func collect(c prometheus.Collector, f func(*dto.Metric)) {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	for m := range ch {
		var out dto.Metric
		if m.Write(&out) == nil {
			f(&out)
		}
	}
}

// rates returns a model's requests and errors per second and its p99
// latency in seconds between two samples. A version missing from the old
// sample was loaded since, so all its counts are new.
func rates(model string, old, cur *counterSample) (reqRate, errRate, p99 float64) {
	secs := cur.at.Sub(old.at).Seconds()
	if secs <= 0 {
		return 0, 0, 0
	}
	var requests, errs float64
	buckets := make([]uint64, len(latencyBuckets)+1)
	for key, c := range cur.versions {
		if key[0] != model {
			continue
		}
		o := old.versions[key]
		if o == nil || o.requests > c.requests {
			o = &versionCounters{}
		}
		requests += c.requests - o.requests
		errs += c.errors - o.errors
		for i := range min(len(c.buckets), len(buckets)) {
			prev := uint64(0)
			if i < len(o.buckets) && o.buckets[i] <= c.buckets[i] {
				prev = o.buckets[i]
			}
			buckets[i] += c.buckets[i] - prev
		}
	}
	return requests / secs, errs / secs, histogramQuantile(0.99, buckets)
}

// histogramQuantile estimates the q-quantile from cumulative bucket counts over
// latencyBuckets and +Inf, interpolating within the bucket as Prometheus's
// histogram_quantile does (the +Inf bucket answers the highest finite
// bound); 0 without observations.
func histogramQuantile(q float64, cumulative []uint64) float64 {
	if len(cumulative) == 0 || cumulative[len(cumulative)-1] == 0 {
		return 0
	}
	rank := q * float64(cumulative[len(cumulative)-1])
	lower, below := 0.0, uint64(0)
	for i, c := range cumulative {
		if float64(c) < rank || c == below {
			lower, below = bound(i), c
			continue
		}
		upper := bound(i)
		if math.IsInf(upper, 1) {
			return lower
		}
		return lower + (upper-lower)*(rank-float64(below))/float64(c-below)
	}
	return lower
}

// bound is the upper bound of latency bucket i, +Inf past the last.
func bound(i int) float64 {
	if i < len(latencyBuckets) {
		return latencyBuckets[i]
	}
	return math.Inf(1)
}
