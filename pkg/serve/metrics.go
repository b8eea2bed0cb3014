package serve

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
}

var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics registers the serving metrics in reg, which /metrics then serves.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	labels := []string{"model", "version"}
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiln_inference_requests_total",
			Help: "Inference requests by model, version and HTTP status code.",
		}, []string{"model", "version", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_inference_request_duration_seconds",
			Help:    "Time from receiving an inference request to writing its response.",
			Buckets: latencyBuckets,
		}, labels),
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
		Help: "Failed requests by reason: bad_request, bad_input, not_found, too_large, queue_full, timeout, cancelled, unavailable, internal.",
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
	reg.MustRegister(m.requests, m.duration, m.queue, m.compute, m.batchSize, m.failures, m.inFlight, m.loadFails, m.swaps, m.stages)
	return m
}

// observe records one finished request. model and version are "" when the
// request named no served model, which keeps label values bounded.
func (m *Metrics) observe(model, version string, code int, start time.Time) {
	m.requests.WithLabelValues(model, version, statusText(code)).Inc()
	if model != "" {
		m.duration.WithLabelValues(model, version).Observe(time.Since(start).Seconds())
	}
}

// batchObserver feeds a version's batcher measurements into the histograms.
func (m *Metrics) batchObserver(model, version string) runtime.BatchObserver {
	queue := m.queue.WithLabelValues(model, version)
	compute := m.compute.WithLabelValues(model, version)
	size := m.batchSize.WithLabelValues(model, version)
	return runtime.BatchObserver{
		Queued: func(wait time.Duration) { queue.Observe(wait.Seconds()) },
		Computed: func(rows int, took time.Duration) {
			compute.Observe(took.Seconds())
			size.Observe(float64(rows))
		},
	}
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

// forget drops a version's series when it stops being served.
func (m *Metrics) forget(model, version string) {
	for _, v := range []*prometheus.HistogramVec{m.duration, m.queue, m.compute, m.batchSize} {
		v.DeleteLabelValues(model, version)
	}
}

// pendingCollector reports the requests each version holds, read at scrape time.
type pendingCollector struct {
	models *Manager
	desc   *prometheus.Desc
}

func newPendingCollector(models *Manager) *pendingCollector {
	return &pendingCollector{models: models, desc: prometheus.NewDesc(
		"kiln_inference_pending_requests", "Requests queued or running, per model version.", []string{"model", "version"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *pendingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *pendingCollector) Collect(ch chan<- prometheus.Metric) {
	for _, v := range c.models.all() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(v.batcher.Pending()), v.Model, v.version)
	}
}
