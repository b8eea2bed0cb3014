package telemetry

import (
	"sync/atomic"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Sampler decides which requests are traced, with a rate that can change
// while the process runs (Triton's trace settings): one request in Rate
// starts a trace, 0 traces none; a request whose caller traces it is always
// traced while the rate is not 0.
type Sampler struct {
	rate atomic.Int64
	seen atomic.Uint64
}

// NewSampler returns a sampler tracing one request in rate.
func NewSampler(rate int64) *Sampler {
	s := &Sampler{}
	s.SetRate(rate)
	return s
}

// Rate returns how many requests make one trace (0: none).
func (s *Sampler) Rate() int64 { return s.rate.Load() }

// SetRate sets how many requests make one trace; 0 turns tracing off.
func (s *Sampler) SetRate(rate int64) { s.rate.Store(max(rate, 0)) }

// ShouldSample implements sdktrace.Sampler.
func (s *Sampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	parent := trace.SpanContextFromContext(p.ParentContext)
	result := sdktrace.SamplingResult{Decision: sdktrace.Drop, Tracestate: parent.TraceState()}
	rate := s.rate.Load()
	switch {
	case rate == 0:
	case parent.IsValid():
		if parent.IsSampled() {
			result.Decision = sdktrace.RecordAndSample
		}
	case s.seen.Add(1)%uint64(rate) == 0:
		result.Decision = sdktrace.RecordAndSample
	}
	return result
}

// Description implements sdktrace.Sampler.
func (s *Sampler) Description() string { return "KilnRateSampler" }
