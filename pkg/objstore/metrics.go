package objstore

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WrapWithMetrics returns b with every operation's latency and errors
// recorded as NAME_operation_duration_seconds and
// NAME_operation_errors_total (NAME is name, e.g. "kiln_registry_storage"),
// labelled by operation and registered with reg. Not-found and conflict
// answers are not errors.
func WrapWithMetrics(b ConditionalBucket, reg prometheus.Registerer, name string) ConditionalBucket {
	m := &metered{
		b: b,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    name + "_operation_duration_seconds",
			Help:    "Duration of storage operations (for get: until the object is opened).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name + "_operation_errors_total",
			Help: "Storage operations that failed (not counting not-found and conflict answers).",
		}, []string{"operation"}),
	}
	reg.MustRegister(m.duration, m.errors)
	return m
}

type metered struct {
	b        ConditionalBucket
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// track starts timing op; the returned func records it with its final error.
func (m *metered) track(op string) func(*error) {
	start := time.Now()
	return func(err *error) {
		m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
		if *err != nil && !errors.Is(*err, ErrNotFound) && !errors.Is(*err, ErrConflict) {
			m.errors.WithLabelValues(op).Inc()
		}
	}
}

func (m *metered) Upload(ctx context.Context, key string, r io.Reader) (err error) {
	defer m.track("upload")(&err)
	return m.b.Upload(ctx, key, r)
}

func (m *metered) Create(ctx context.Context, key string, data []byte) (etag string, err error) {
	defer m.track("create")(&err)
	return m.b.Create(ctx, key, data)
}

func (m *metered) Swap(ctx context.Context, key string, data []byte, etag string) (newETag string, err error) {
	defer m.track("swap")(&err)
	return m.b.Swap(ctx, key, data, etag)
}

func (m *metered) Get(ctx context.Context, key string) (rc io.ReadCloser, attrs Attributes, err error) {
	defer m.track("get")(&err)
	return m.b.Get(ctx, key)
}

func (m *metered) GetRange(ctx context.Context, key string, off, length int64) (rc io.ReadCloser, err error) {
	defer m.track("get_range")(&err)
	return m.b.GetRange(ctx, key, off, length)
}

func (m *metered) Iter(ctx context.Context, dir string, f func(string) error, opts ...IterOption) (err error) {
	defer m.track("iter")(&err)
	return m.b.Iter(ctx, dir, f, opts...)
}

func (m *metered) Attributes(ctx context.Context, key string) (attrs Attributes, err error) {
	defer m.track("attributes")(&err)
	return m.b.Attributes(ctx, key)
}

func (m *metered) Delete(ctx context.Context, key string) (err error) {
	defer m.track("delete")(&err)
	return m.b.Delete(ctx, key)
}

func (m *metered) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return m.b.PresignGet(ctx, key, ttl)
}

func (m *metered) Close() error { return m.b.Close() }
