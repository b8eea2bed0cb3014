package serve

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/predlog"
	"github.com/kilnml/kiln/pkg/runtime"
)

func (s *Server) infer(c *gin.Context) {
	start := time.Now()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	v, release, err := s.models.Acquire(c.Param("model"), c.Param("version"))
	if err != nil {
		s.metrics.observe("", "", s.fail(c, err), start)
		return
	}
	defer release()
	s.metrics.observe(v.Model, v.version, s.runInference(c, v, start), start)
}

// runInference decodes, runs and answers one request, returning the status code written.
func (s *Server) runInference(c *gin.Context, v *Version, start time.Time) int {
	body, err := readBody(c.Request, s.opts.BodyLimit)
	if err != nil {
		return s.fail(c, err)
	}
	headerLen, err := inferenceHeaderLength(c.Request, len(body))
	if err != nil {
		return s.fail(c, err)
	}
	req, err := oip.DecodeRequest(body, headerLen)
	if err != nil {
		return s.fail(c, err)
	}
	names := make([]string, len(req.Outputs))
	for i, o := range req.Outputs {
		names[i] = o.Name
	}
	ctx := c.Request.Context()
	outputs, timing, err := v.RunTimed(ctx, req.Inputs, names)
	if err != nil {
		return s.fail(c, err)
	}
	s.traceRun(ctx, v, timing)
	answer, err := classify(v, req, outputs)
	if err != nil {
		return s.fail(c, err)
	}
	resp := &oip.InferResponse{ModelName: v.Model, ModelVersion: v.version, ID: req.ID, Outputs: answer}
	out, respHeaderLen := oip.EncodeResponse(resp, req.WantsBinary)
	contentType := oip.ContentTypeJSON
	if respHeaderLen >= 0 {
		contentType = oip.ContentTypeBinary
		c.Header(oip.HeaderContentLength, strconv.Itoa(respHeaderLen))
	}
	c.Data(http.StatusOK, contentType, out)
	if v.drift != nil {
		v.drift.observe(req.Inputs, outputs)
	}
	if log := s.opts.PredictionLog; log != nil && log.Sampled() {
		log.Add(&predlog.Record{
			Time: start, RequestID: requestID(c), Model: v.Model, Version: v.version,
			Inputs: req.Inputs, Outputs: outputs, LatencySeconds: time.Since(start).Seconds(),
		})
	}
	return http.StatusOK
}

// requestID is the caller's X-Request-Id, or a new random one.
func requestID(c *gin.Context) string {
	if id := c.GetHeader("X-Request-Id"); id != "" {
		return id
	}
	return strconv.FormatUint(rand.Uint64(), 16)
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

// readBody reads the request body, refusing more than limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", errTooLarge, r.ContentLength, limit)
	}
	if r.ContentLength < 0 {
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if int64(len(body)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
		}
		return body, err
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, badRequest("read request body: %v", err)
	}
	return body, nil
}

// inferenceHeaderLength parses Inference-Header-Content-Length; -1 when absent.
func inferenceHeaderLength(r *http.Request, bodyLen int) (int, error) {
	h := r.Header.Get(oip.HeaderContentLength)
	if h == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > bodyLen {
		return 0, badRequest("%s: %q is not a length between 0 and the body size %d", oip.HeaderContentLength, h, bodyLen)
	}
	return n, nil
}
