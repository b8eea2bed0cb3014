package serve

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/predlog"
	"github.com/kilnml/kiln/pkg/runtime"
)

// Metrics are the serving node's Prometheus metrics (documented in docs/metrics.md).
type Metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	queue     *prometheus.HistogramVec
	compute   *prometheus.HistogramVec
	batchSize *prometheus.HistogramVec
	failures  *prometheus.CounterVec
	inFlight  prometheus.Gauge
	loadFails *prometheus.CounterVec
	swaps     *prometheus.CounterVec
	stages    *prometheus.HistogramVec

	driftScore    *prometheus.GaugeVec
	driftDetected *prometheus.GaugeVec
	driftShare    *prometheus.GaugeVec
	datasetDrift  *prometheus.GaugeVec
	driftDropped  *prometheus.CounterVec

	// series caches each label set's request counter and duration
	// histogram (seriesKey to *series): a Vec lookup hashes every label
	// value under a lock, twice per request otherwise.
	series sync.Map
}

// seriesKey is the label set of one request's counter and histogram.
type seriesKey struct{ model, version, code, protocol, role string }

// series are the request counter and duration histogram of one label set.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer // nil for requests that named no model
}

var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics registers the serving metrics in reg, which /metrics then serves.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	labels := []string{"model", "version"}
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiln_inference_requests_total",
			Help: "Inference requests by model, version, HTTP status code (for gRPC, that of the same kind of failure), protocol (rest, grpc) and role (primary, canary; empty for an unknown model).",
		}, []string{"model", "version", "code", "protocol", "role"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_inference_request_duration_seconds",
			Help:    "Time from receiving an inference request to writing its response, by model, version and role (primary, canary).",
			Buckets: latencyBuckets,
		}, []string{"model", "version", "role"}),
		queue: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_inference_queue_duration_seconds",
			Help:    "Time a request waited in the model's queue before its batch ran.",
			Buckets: latencyBuckets,
		}, labels),
		compute: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_inference_compute_duration_seconds",
			Help:    "Time of one ONNX Runtime Run (one batch).",
			Buckets: latencyBuckets,
		}, labels),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_inference_batch_size",
			Help:    "Rows in one ONNX Runtime Run.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}, labels),
	}
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kiln_inference_failures_total",
		Help: "Failed requests by reason: bad_request, bad_input, not_found, forbidden, too_large, queue_full, timeout, cancelled, unavailable, internal.",
	}, []string{"reason"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kiln_inference_requests_in_flight",
		Help: "Inference requests being handled, from reading the body to writing the answer.",
	})
	m.loadFails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kiln_model_load_failures_total",
		Help: "Failed attempts to serve a new model version, by stage (download, load, validate, warmup).",
	}, []string{"model", "stage"})
	m.swaps = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kiln_model_swaps_total",
		Help: "New model versions swapped in from the registry.",
	}, []string{"model"})
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kiln_model_swap_stage_duration_seconds",
		Help:    "Time of each stage of a version change: detect, download, load, validate, warmup, swap.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 12),
	}, []string{"model", "stage"})
	driftLabels := []string{"model", "version", "feature", "method", "kind"}
	m.driftScore = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kiln_drift_score",
		Help: "Drift test score of the last closed window: a p-value for ks and chisquare, a distance otherwise. kind is input or output.",
	}, driftLabels)
	m.driftDetected = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kiln_drift_detected",
		Help: "1 when the feature (kind input) or model output (kind output) drifted in the last closed window.",
	}, driftLabels)
	m.driftShare = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kiln_dataset_drift_share",
		Help: "Share of input features that drifted in the last closed window.",
	}, labels)
	m.datasetDrift = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kiln_dataset_drift",
		Help: "1 when the share of drifted features reached the configured drift_share in the last closed window.",
	}, labels)
	m.driftDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kiln_drift_dropped_rows_total",
		Help: "Rows answered but not added to the drift window because its queue was full.",
	}, labels)
	reg.MustRegister(m.requests, m.duration, m.queue, m.compute, m.batchSize, m.failures, m.inFlight, m.loadFails, m.swaps, m.stages,
		m.driftScore, m.driftDetected, m.driftShare, m.datasetDrift, m.driftDropped)
	return m
}

// observe records one finished request of the given outcome. model and
// version are "" when the request named no served model, which keeps label
// values bounded.
func (m *Metrics) observe(model, version string, outcome errorClass, protocol, role string, took time.Duration) {
	s := m.seriesOf(seriesKey{model, version, statusText(outcome.http), protocol, role})
	s.requests.Inc()
	if outcome.reason != "" {
		m.failures.WithLabelValues(outcome.reason).Inc()
	}
	if s.duration != nil {
		s.duration.Observe(took.Seconds())
	}
}

// seriesOf returns the cached series of k, looking them up the first time.
func (m *Metrics) seriesOf(k seriesKey) *series {
	if s, ok := m.series.Load(k); ok {
		return s.(*series)
	}
	s := &series{requests: m.requests.WithLabelValues(k.model, k.version, k.code, k.protocol, k.role)}
	if k.model != "" {
		s.duration = m.duration.WithLabelValues(k.model, k.version, k.role)
	}
	actual, _ := m.series.LoadOrStore(k, s)
	return actual.(*series)
}

// watchPredictionLog exports the prediction log's written and dropped
// records (a second server over the same metrics reports the same log).
func (m *Metrics) watchPredictionLog(log *predlog.Log) {
	for result, count := range map[string]func() int64{"written": log.Written, "dropped": log.Dropped} {
		c := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "kiln_prediction_log_records_total",
			Help:        "Records of the prediction log, by result: written to its file, or dropped because its queue was full.",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 { return float64(count()) })
		if err := m.registry.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			panic(err)
		}
	}
}

// batchObserver feeds a version's batcher measurements into the histograms
// and its statistics.
func (m *Metrics) batchObserver(model, version string, stats *versionStats) runtime.BatchObserver {
	queue := m.queue.WithLabelValues(model, version)
	compute := m.compute.WithLabelValues(model, version)
	size := m.batchSize.WithLabelValues(model, version)
	return runtime.BatchObserver{
		Queued: func(wait time.Duration) { queue.Observe(wait.Seconds()) },
		Computed: func(rows int, took time.Duration) {
			compute.Observe(took.Seconds())
			size.Observe(float64(rows))
			stats.executed(rows, took)
		},
	}
}

// loadStages are the stages of a version change that can fail.
var loadStages = []string{"download", "load", "validate", "warmup"}

// followed starts a followed model's failure counters at zero, so that
// increase() sees the first failure.
func (m *Metrics) followed(model string) {
	for _, stage := range loadStages {
		m.loadFails.WithLabelValues(model, stage)
	}
	m.swaps.WithLabelValues(model)
}

func (m *Metrics) loadFailed(model, stage string) {
	m.loadFails.WithLabelValues(model, stage).Inc()
}

func (m *Metrics) swapped(model string, t *SwapTimings) {
	m.swaps.WithLabelValues(model).Inc()
	for stage, d := range map[string]time.Duration{
		"detect": t.Detect, "download": t.Download, "load": t.Load, "validate": t.Validate, "warmup": t.Warmup, "swap": t.Swap,
	} {
		m.stages.WithLabelValues(model, stage).Observe(d.Seconds())
	}
}

// driftReport publishes a closed drift window.
func (m *Metrics) driftReport(model, version string, r *drift.Report) {
	for kind, results := range map[string][]drift.FeatureResult{"input": r.Features, "output": r.Outputs} {
		for _, f := range results {
			if !f.Tested {
				continue
			}
			labels := prometheus.Labels{"model": model, "version": version, "feature": f.Name, "method": string(f.Method), "kind": kind}
			m.driftScore.With(labels).Set(f.Score)
			m.driftDetected.With(labels).Set(boolGauge(f.Drift))
		}
	}
	m.driftShare.WithLabelValues(model, version).Set(r.DriftShare)
	m.datasetDrift.WithLabelValues(model, version).Set(boolGauge(r.DatasetDrift))
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// forget drops a version's series when it stops being served.
func (m *Metrics) forget(model, version string) {
	labels := prometheus.Labels{"model": model, "version": version}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		m.duration, m.queue, m.compute, m.batchSize, m.driftScore, m.driftDetected, m.driftShare, m.datasetDrift, m.driftDropped,
	} {
		v.DeletePartialMatch(labels)
	}
	m.series.Range(func(key, _ any) bool {
		if k := key.(seriesKey); k.model == model && k.version == version {
			m.series.Delete(key)
		}
		return true
	})
}

// versionCollector reports each served version's pending requests and
// open drift window, read at scrape time.
type versionCollector struct {
	models          *Manager
	pending, window *prometheus.Desc
	// Rollouts: shadow agreement and latency gap, roles stopped, mirrored requests dropped.
	agreement, gap, stopped, dropped *prometheus.Desc
}

func newVersionCollector(models *Manager) *versionCollector {
	labels := []string{"model", "version"}
	return &versionCollector{
		models:    models,
		pending:   prometheus.NewDesc("kiln_inference_pending_requests", "Requests queued or running, per model version.", labels, nil),
		window:    prometheus.NewDesc("kiln_drift_window_rows", "Rows in the open drift window, per model version.", labels, nil),
		agreement: prometheus.NewDesc("kiln_rollout_shadow_agreement_ratio", "Share of the recent shadow answers that agree with the primary's, per model.", []string{"model"}, nil),
		gap:       prometheus.NewDesc("kiln_rollout_shadow_latency_difference_seconds", "Mean shadow latency minus the primary's, per model.", []string{"model"}, nil),
		stopped:   prometheus.NewDesc("kiln_rollout_stopped", "1 when the rollback rules stopped the model's canary or shadow (role) on this node.", []string{"model", "role"}, nil),
		dropped:   prometheus.NewDesc("kiln_rollout_shadow_dropped_total", "Mirrored requests dropped because the shadow's queue was full, per model.", []string{"model"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *versionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pending, c.window, c.agreement, c.gap, c.stopped, c.dropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *versionCollector) Collect(ch chan<- prometheus.Metric) {
	// A version may serve in two slots of a rollout (primary and shadow):
	// its series add them up.
	type key struct{ model, version string }
	pending, rows := map[key]float64{}, map[key]float64{}
	for _, v := range c.models.all() {
		k := key{v.Model, v.version}
		pending[k] += float64(v.batcher.Pending())
		if v.drift != nil {
			rows[k] += float64(v.drift.monitor.Rows())
		}
	}
	for k, n := range pending {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, n, k.model, k.version)
	}
	for k, n := range rows {
		ch <- prometheus.MustNewConstMetric(c.window, prometheus.GaugeValue, n, k.model, k.version)
	}
	for name := range c.models.rollouts {
		r, _ := c.models.Rollout(name)
		for _, role := range []string{RoleCanary, RoleShadow} {
			if (role == RoleCanary && r.Canary != nil) || (role == RoleShadow && r.Shadow != nil) {
				_, stopped := r.Stopped[role]
				ch <- prometheus.MustNewConstMetric(c.stopped, prometheus.GaugeValue, boolGauge(stopped), name, role)
			}
		}
		if r.Shadow == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(r.Dropped), name)
		ch <- prometheus.MustNewConstMetric(c.gap, prometheus.GaugeValue, r.LatencyGap, name)
		if r.Agreement != nil {
			ch <- prometheus.MustNewConstMetric(c.agreement, prometheus.GaugeValue, *r.Agreement, name)
		}
	}
}
