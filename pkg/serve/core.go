package serve

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/predlog"
	"github.com/kilnml/kiln/pkg/runtime"
)

// The protocols a request can come over, as the metrics label them.
const (
	ProtocolREST = "rest"
	ProtocolGRPC = "grpc"
)

// Call is one decoded inference request, as a front end hands it to the core.
type Call struct {
	// Model and Version name what to run; Version "" is the latest.
	Model, Version string
	Request        *oip.InferRequest
	// RequestID names the request in logs and the prediction log; "" makes one up.
	RequestID string
	// Protocol is ProtocolREST or ProtocolGRPC.
	Protocol string
	// Received is when the front end began reading the request; zero means now.
	Received time.Time
	// Header returns a request header (gRPC: metadata) by name, for sticky
	// traffic rules; nil when there are none.
	Header func(name string) string
}

// Infer is the inference core that every front end calls: it picks the
// version (a model's rollout may send the request to its canary), runs the
// request through its batcher, applies classification, hands the response
// to answer (which encodes and sends it), then feeds drift monitoring, the
// prediction log and the rollout's shadow. Metrics and statistics see
// every request the same way whatever its protocol. A failure is returned
// as an error whose class (classOf) gives its HTTP status and gRPC code.
func (s *Server) Infer(ctx context.Context, call Call, answer func(*oip.InferResponse) error) error {
	start := call.Received
	if start.IsZero() {
		start = time.Now()
	}
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	role, ro := RolePrimary, (*rollout)(nil)
	if call.Version == "" {
		if ro = s.models.rollout(call.Model); ro != nil {
			role = ro.route(call.Header)
		}
	}
	err := s.inferAs(ctx, call, role, ro, start, answer)
	if role == RoleCanary && classOf(err).http >= 500 {
		// The canary failed where the primary may not: the client gets the
		// primary's answer, the rollout counts the failure.
		err = s.inferAs(ctx, call, RolePrimary, ro, start, answer)
	}
	return err
}

// inferAs answers the request with the version playing role (the primary
// when no version plays it yet).
func (s *Server) inferAs(ctx context.Context, call Call, role string, ro *rollout, start time.Time, answer func(*oip.InferResponse) error) error {
	v, err := s.models.Acquire(slotOf(call.Model, role), call.Version)
	if err != nil && role != RolePrimary {
		role = RolePrimary
		v, err = s.models.Acquire(call.Model, call.Version)
	}
	if err != nil {
		s.metrics.observe("", "", classOf(err), call.Protocol, "", time.Since(start))
		return err
	}
	outputs, done, err := s.run(ctx, v, call, start, answer)
	v.Release()
	if err != nil {
		done = time.Now()
	}
	took := done.Sub(start)
	class := classOf(err)
	s.metrics.observe(v.Model, v.version, class, call.Protocol, role, took)
	if err != nil {
		v.stats.failed(took)
	}
	if ro == nil {
		return err
	}
	ro.record(role, v.version, class.http >= 500, took)
	if err == nil && role == RolePrimary && ro.mirrors() {
		ro.offer(mirrored{req: call.Request, outputs: outputs, took: took})
	}
	return err
}

// run answers one request with version v and returns the model's outputs
// and when the answer was sent.
func (s *Server) run(ctx context.Context, v *Version, call Call, start time.Time, answer func(*oip.InferResponse) error) ([]*oip.Tensor, time.Time, error) {
	req := call.Request
	names := make([]string, len(req.Outputs))
	for i, o := range req.Outputs {
		names[i] = o.Name
	}
	outputs, timing, err := v.RunTimed(ctx, req.Inputs, names)
	if err != nil {
		return nil, time.Time{}, err
	}
	s.traceRun(ctx, v, timing)
	answers, err := classify(v, req, outputs)
	if err != nil {
		return nil, time.Time{}, err
	}
	resp := &oip.InferResponse{ModelName: v.Model, ModelVersion: v.version, ID: req.ID, Outputs: answers}
	if err := answer(resp); err != nil {
		return nil, time.Time{}, err
	}
	done := time.Now()
	v.stats.succeeded(start, timing, done, rowsOf(req.Inputs))
	if v.drift != nil {
		v.drift.observe(req.Inputs, outputs)
	}
	if log := s.opts.PredictionLog; log != nil && log.Sampled() {
		id := call.RequestID
		if id == "" {
			id = strconv.FormatUint(rand.Uint64(), 16)
		}
		log.Add(&predlog.Record{
			Time: start, RequestID: id, Model: v.Model, Version: v.version,
			Inputs: req.Inputs, Outputs: outputs, LatencySeconds: done.Sub(start).Seconds(),
		})
	}
	return outputs, done, nil
}

// rowsOf is the number of inferences a request asks for, as Triton counts
// them: the first dimension of its first input (1 for scalars or no inputs).
func rowsOf(inputs []*oip.Tensor) int64 {
	if len(inputs) == 0 || len(inputs[0].Shape) == 0 {
		return 1
	}
	return inputs[0].Shape[0]
}

// traceRun records the request's time in the queue and in its Run as
// child spans of the request's span.
func (s *Server) traceRun(ctx context.Context, v *Version, t runtime.Timing) {
	if s.tracer == nil || !trace.SpanFromContext(ctx).IsRecording() {
		return
	}
	attrs := trace.WithAttributes(attribute.String("kiln.model", v.Model), attribute.String("kiln.version", v.version), attribute.Int("kiln.batch_rows", t.BatchRows))
	_, queue := s.tracer.Start(ctx, "queue", trace.WithTimestamp(t.Enqueued), attrs)
	queue.End(trace.WithTimestamp(t.Started))
	_, run := s.tracer.Start(ctx, "run", trace.WithTimestamp(t.Started), attrs)
	run.End(trace.WithTimestamp(t.Finished))
}
