package serve

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the serving node's request metrics (documented in docs/metrics.md).
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiln_inference_requests_total",
			Help: "Inference requests by model, version and HTTP status code.",
		}, []string{"model", "version", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_inference_request_duration_seconds",
			Help:    "Time from receiving an inference request to writing its response.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"model", "version"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe records one finished request. model and version are "" when the
// request named no served model, which keeps label values bounded.
func (m *metrics) observe(model, version string, code int, start time.Time) {
	m.requests.WithLabelValues(model, version, statusText(code)).Inc()
	if model != "" {
		m.duration.WithLabelValues(model, version).Observe(time.Since(start).Seconds())
	}
}
