// Package serve is the serving node: the models it holds, a transport-free
// inference core, and the Open Inference Protocol v2 over it, as REST
// (KServe v2 / Triton HTTP, with Triton's extensions) and gRPC.
package serve

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/predlog"
	"github.com/kilnml/kiln/pkg/telemetry"
)

// DefaultBodyLimit is the largest request body accepted unless Options say otherwise.
const DefaultBodyLimit = 64 << 20

// Options configure a Server.
type Options struct {
	// BodyLimit is the largest request body in bytes; 0 means DefaultBodyLimit.
	BodyLimit int64
	// Logger receives one line per failed request; nil means slog.Default().
	Logger *slog.Logger
	// Version is reported in the server metadata.
	Version string
	// PredictionLog, when set, receives a sample of the answered requests.
	PredictionLog *predlog.Log
	// TracerProvider, when set, records a span per HTTP request (continuing
	// an incoming traceparent) with queue and run spans beneath inference
	// requests; nil turns tracing off.
	TracerProvider trace.TracerProvider
	// TraceSampler, when set, is the sampler of TracerProvider, whose rate
	// the trace settings extension changes.
	TraceSampler *telemetry.Sampler
	// LogLevel, when set, is Logger's level, which the logging extension changes.
	LogLevel *slog.LevelVar
	// ModelControl, when set, lets clients load and unload models (the
	// repository extension); nil refuses with 403.
	ModelControl ModelControl
}

// Server answers OIP v2 REST requests for the models of a Manager.
type Server struct {
	models  *Manager
	opts    Options
	metrics *Metrics
	tracer  trace.Tracer
	engine  *gin.Engine
}

// NewServer returns a server for the models of m.
func NewServer(m *Manager, opts Options) *Server {
	if opts.BodyLimit <= 0 {
		opts.BodyLimit = DefaultBodyLimit
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{models: m, opts: opts, metrics: m.metrics}
	if opts.PredictionLog != nil {
		s.metrics.watchPredictionLog(opts.PredictionLog)
	}
	if opts.TracerProvider != nil {
		s.tracer = opts.TracerProvider.Tracer("github.com/kilnml/kiln/pkg/serve")
	}
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler of every route.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, err any) {
		s.opts.Logger.Error("panic in handler", "path", c.Request.URL.Path, "panic", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, oip.ErrorResponse{Error: "internal error"})
	}))
	if s.opts.TracerProvider != nil {
		e.Use(otelgin.Middleware("kiln-serve", otelgin.WithTracerProvider(s.opts.TracerProvider), otelgin.WithMeterProvider(noop.NewMeterProvider())))
	}
	e.HandleMethodNotAllowed = true
	e.NoRoute(func(c *gin.Context) { writeError(c, http.StatusNotFound, "no such endpoint: "+c.Request.URL.Path) })
	e.NoMethod(func(c *gin.Context) {
		writeError(c, http.StatusMethodNotAllowed, c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})

	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	v2 := e.Group("/v2")
	v2.GET("", s.restServerMetadata)
	v2.GET("/health/live", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"live": true}) })
	v2.GET("/health/ready", s.serverReady)
	for _, prefix := range []string{"/models/:model", "/models/:model/versions/:version"} {
		v2.GET(prefix, s.restModelMetadata)
		v2.GET(prefix+"/ready", s.modelReady)
		v2.POST(prefix+"/infer", s.infer)
	}
	s.extensionRoutes(v2)
	v2.GET("/models/:model/status", s.modelStatus)
	v2.GET("/models/:model/rollout", s.modelRollout)
	v2.GET("/models/:model/drift", s.modelDrift)
	v2.GET("/models/:model/versions/:version/drift", s.modelDrift)
	return e
}

func (s *Server) restServerMetadata(c *gin.Context) { c.JSON(http.StatusOK, s.serverMetadata()) }

func (s *Server) serverReady(c *gin.Context) {
	if !s.models.Ready() {
		c.JSON(http.StatusServiceUnavailable, gin.H{"ready": false})
		return
	}
	c.JSON(http.StatusOK, gin.H{"ready": true})
}

func (s *Server) restModelMetadata(c *gin.Context) {
	md, err := s.modelMetadata(c.Param("model"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, md)
}

func (s *Server) modelReady(c *gin.Context) {
	v, err := s.models.Get(c.Param("model"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"name": v.Model, "ready": true})
}

func (s *Server) modelStatus(c *gin.Context) {
	st, ok := s.models.Status(c.Param("model"))
	if !ok {
		s.fail(c, fmt.Errorf("%w: unknown model %q", ErrModelNotFound, c.Param("model")))
		return
	}
	c.JSON(http.StatusOK, st)
}

func (s *Server) modelRollout(c *gin.Context) {
	r, ok := s.models.Rollout(c.Param("model"))
	if !ok {
		s.fail(c, fmt.Errorf("%w: model %q has no canary or shadow on this node: set canary or shadow for it in --config", ErrModelNotFound, c.Param("model")))
		return
	}
	c.JSON(http.StatusOK, r)
}

func (s *Server) modelDrift(c *gin.Context) {
	v, err := s.models.Get(c.Param("model"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if v.drift == nil {
		s.fail(c, fmt.Errorf("%w: %s version %s has no drift monitoring: push it with a reference profile (kiln push --reference) or set drift.profile in --config", ErrModelNotFound, v.Model, v.version))
		return
	}
	c.JSON(http.StatusOK, v.drift.status())
}

// fail answers a request to a non-inference endpoint with err, counting
// the failure by reason.
func (s *Server) fail(c *gin.Context, err error) {
	s.metrics.failures.WithLabelValues(classOf(err).reason).Inc()
	s.writeFailure(c, err)
}

// writeFailure writes err as an OIP error body with the status of its class.
func (s *Server) writeFailure(c *gin.Context, err error) {
	class := classOf(err)
	if class.http >= 500 && c.Request.Context().Err() == nil {
		s.opts.Logger.Error("request failed", "path", c.Request.URL.Path, "status", class.http, "err", err)
	}
	if class.http == http.StatusTooManyRequests || class.http == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	writeError(c, class.http, err.Error())
}

func writeError(c *gin.Context, code int, msg string) {
	c.AbortWithStatusJSON(code, oip.ErrorResponse{Error: msg})
}
