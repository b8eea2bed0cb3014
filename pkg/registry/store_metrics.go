package registry

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storeMetrics are the storage operation metrics shared by instrumented stores.
type storeMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// InstrumentStore wraps s so that every operation's latency and errors are
// recorded as kiln_registry_storage_operation_duration_seconds and
// kiln_registry_storage_operation_errors_total, labelled by operation and
// registered with reg. Not-found and conflict answers are not errors.
func InstrumentStore(s Store, reg prometheus.Registerer) Store {
	m := &storeMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kiln_registry_storage_operation_duration_seconds",
			Help:    "Duration of registry storage operations (for get: until the object is opened).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiln_registry_storage_operation_errors_total",
			Help: "Registry storage operations that failed (not counting not-found and conflict answers).",
		}, []string{"operation"}),
	}
	reg.MustRegister(m.duration, m.errors)
	return &instrumentedStore{Store: s, m: m}
}

type instrumentedStore struct {
	Store
	m *storeMetrics
}

// track starts timing op; the returned func records it with its final error.
func (s *instrumentedStore) track(op string) func(*error) {
	start := time.Now()
	return func(err *error) {
		s.m.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
		if *err != nil && !errors.Is(*err, ErrNotFound) && !errors.Is(*err, ErrConflict) {
			s.m.errors.WithLabelValues(op).Inc()
		}
	}
}

func (s *instrumentedStore) Upload(ctx context.Context, key string, r io.Reader) (err error) {
	defer s.track("upload")(&err)
	return s.Store.Upload(ctx, key, r)
}

func (s *instrumentedStore) Create(ctx context.Context, key string, data []byte) (etag string, err error) {
	defer s.track("create")(&err)
	return s.Store.Create(ctx, key, data)
}

func (s *instrumentedStore) Swap(ctx context.Context, key string, data []byte, etag string) (newETag string, err error) {
	defer s.track("swap")(&err)
	return s.Store.Swap(ctx, key, data, etag)
}

func (s *instrumentedStore) Get(ctx context.Context, key string) (rc io.ReadCloser, attrs Attributes, err error) {
	defer s.track("get")(&err)
	return s.Store.Get(ctx, key)
}

func (s *instrumentedStore) GetRange(ctx context.Context, key string, off, length int64) (rc io.ReadCloser, err error) {
	defer s.track("get_range")(&err)
	return s.Store.GetRange(ctx, key, off, length)
}

func (s *instrumentedStore) Iter(ctx context.Context, dir string, f func(string) error) (err error) {
	defer s.track("iter")(&err)
	return s.Store.Iter(ctx, dir, f)
}

func (s *instrumentedStore) Attributes(ctx context.Context, key string) (attrs Attributes, err error) {
	defer s.track("attributes")(&err)
	return s.Store.Attributes(ctx, key)
}

func (s *instrumentedStore) Delete(ctx context.Context, key string) (err error) {
	defer s.track("delete")(&err)
	return s.Store.Delete(ctx, key)
}
