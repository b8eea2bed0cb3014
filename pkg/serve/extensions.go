package serve

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/kilnml/kiln/pkg/oip"
)

// Extensions lists the protocol extensions the server implements, as the
// server metadata reports them.
var Extensions = []string{
	"binary_tensor_data", "classification", "model_configuration", "statistics",
	"model_repository", "model_repository(unload_dependents)", "logging", "trace",
}

func (s *Server) serverMetadata() oip.ServerMetadata {
	return oip.ServerMetadata{Name: "kiln", Version: s.opts.Version, Extensions: Extensions}
}

func (s *Server) modelMetadata(name, version string) (oip.ModelMetadata, error) {
	v, err := s.models.Get(name, version)
	if err != nil {
		return oip.ModelMetadata{}, err
	}
	return oip.ModelMetadata{
		Name:     v.Model,
		Versions: s.models.Versions(v.Model),
		Platform: "onnxruntime_onnx",
		Inputs:   v.Inputs,
		Outputs:  v.Outputs,
	}, nil
}

// statistics returns the statistics of a version, of every version of a
// model (version ""), or of every model (name "").
func (s *Server) statistics(name, version string) ([]ModelStats, error) {
	var versions []*Version
	switch {
	case name == "":
		versions = s.models.all()
	case version == "":
		if _, err := s.models.Get(name, ""); err != nil {
			return nil, err
		}
		versions = slices.DeleteFunc(s.models.all(), func(v *Version) bool { return v.Model != name })
	default:
		v, err := s.models.Get(name, version)
		if err != nil {
			return nil, err
		}
		versions = []*Version{v}
	}
	slices.SortFunc(versions, func(a, b *Version) int {
		if a.Model != b.Model {
			return strings.Compare(a.Model, b.Model)
		}
		return int(a.Number - b.Number)
	})
	out := make([]ModelStats, len(versions))
	for i, v := range versions {
		out[i] = v.stats.snapshot()
	}
	return out, nil
}

// countEarlyFailure counts a request that failed before reaching the core
// (it could not be decoded) against the model it names, if served.
func (s *Server) countEarlyFailure(call Call, err error, start time.Time) {
	model, version, role := "", "", ""
	took := time.Since(start)
	if v, getErr := s.models.Get(call.Model, call.Version); getErr == nil {
		model, version, role = v.Model, v.version, RolePrimary
		v.stats.failed(took)
	}
	s.metrics.observe(model, version, classOf(err), call.Protocol, role, took)
}

// IndexEntry is one model version of the repository index.
type IndexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// repositoryIndex lists the served versions (state READY) and, with model
// control, the models that can be loaded (UNAVAILABLE); readyOnly leaves
// those out.
func (s *Server) repositoryIndex(readyOnly bool) []IndexEntry {
	var out []IndexEntry
	served := map[string]bool{}
	for _, v := range s.models.all() {
		served[v.Model] = true
		out = append(out, IndexEntry{Name: v.Model, Version: v.version, State: "READY"})
	}
	if s.opts.ModelControl != nil && !readyOnly {
		for _, name := range s.opts.ModelControl.Names() {
			if !served[name] {
				out = append(out, IndexEntry{Name: name, State: "UNAVAILABLE", Reason: "unloaded"})
			}
		}
	}
	slices.SortFunc(out, func(a, b IndexEntry) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out
}

var errNoModelControl = fmt.Errorf("%w: loading and unloading models is off: start kiln-serve with --model-control=explicit", errForbidden)

func (s *Server) loadModel(ctx context.Context, name string) error {
	if s.opts.ModelControl == nil {
		return errNoModelControl
	}
	if err := s.opts.ModelControl.Load(ctx, name); err != nil {
		return err
	}
	s.opts.Logger.Info("model loaded on request", "model", name)
	return nil
}

func (s *Server) unloadModel(ctx context.Context, name string) error {
	if s.opts.ModelControl == nil {
		return errNoModelControl
	}
	if err := s.opts.ModelControl.Unload(ctx, name); err != nil {
		return err
	}
	s.opts.Logger.Info("model unloaded on request", "model", name)
	return nil
}

// extensionRoutes adds Triton's REST extensions: model configuration,
// statistics, model repository, logging and trace settings.
func (s *Server) extensionRoutes(v2 *gin.RouterGroup) {
	for _, prefix := range []string{"/models/:model", "/models/:model/versions/:version"} {
		v2.GET(prefix+"/config", s.restModelConfig)
		v2.GET(prefix+"/stats", s.restStats)
	}
	v2.GET("/models/stats", s.restStats)
	v2.POST("/repository/index", s.restRepositoryIndex)
	v2.POST("/repository/models/:model/load", s.restRepositoryControl(s.loadModel))
	v2.POST("/repository/models/:model/unload", s.restRepositoryControl(s.unloadModel))
	v2.GET("/logging", s.restLogging)
	v2.POST("/logging", s.restLogging)
	v2.GET("/trace/setting", s.restTraceSetting)
	v2.POST("/trace/setting", s.restTraceSetting)
}

func (s *Server) restModelConfig(c *gin.Context) {
	v, err := s.models.Get(c.Param("model"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, protoJSON(modelConfig(v).ProtoReflect()))
}

func (s *Server) restStats(c *gin.Context) {
	stats, err := s.statistics(c.Param("model"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"model_stats": stats})
}

func (s *Server) restRepositoryIndex(c *gin.Context) {
	var body struct {
		Ready bool `json:"ready"`
	}
	if c.Request.ContentLength != 0 {
		if err := c.ShouldBindJSON(&body); err != nil {
			s.fail(c, badRequest("repository index: %v", err))
			return
		}
	}
	index := s.repositoryIndex(body.Ready)
	if index == nil {
		index = []IndexEntry{}
	}
	c.JSON(http.StatusOK, index)
}

func (s *Server) restRepositoryControl(action func(context.Context, string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := action(c.Request.Context(), c.Param("model")); err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{})
	}
}

// logSettings is Triton's log settings document, mapped onto the node's
// slog level: log_verbose_level > 0 is debug, then info, warning, error.
type logSettings struct {
	LogFile         *string `json:"log_file,omitempty"`
	LogInfo         *bool   `json:"log_info,omitempty"`
	LogWarning      *bool   `json:"log_warning,omitempty"`
	LogError        *bool   `json:"log_error,omitempty"`
	LogVerboseLevel *int    `json:"log_verbose_level,omitempty"`
	LogFormat       *string `json:"log_format,omitempty"`
}

func (s *Server) restLogging(c *gin.Context) {
	level := s.opts.LogLevel
	if level == nil {
		s.fail(c, fmt.Errorf("%w: this node's log level is fixed", errForbidden))
		return
	}
	if c.Request.Method == http.MethodPost {
		var in logSettings
		if err := c.ShouldBindJSON(&in); err != nil {
			s.fail(c, badRequest("log settings: %v", err))
			return
		}
		if in.LogFile != nil && *in.LogFile != "" {
			s.fail(c, badRequest("log settings: log_file is not supported: kiln-serve logs to stderr"))
			return
		}
		level.Set(applyLogSettings(level.Level(), in))
		s.opts.Logger.Info("log level changed", "level", level.Level().String())
	}
	lvl := level.Level()
	f, verbose := "default", 0
	if lvl <= slog.LevelDebug {
		verbose = 1
	}
	no := ""
	info, warn, errs := lvl <= slog.LevelInfo, lvl <= slog.LevelWarn, lvl <= slog.LevelError
	c.JSON(http.StatusOK, logSettings{LogFile: &no, LogInfo: &info, LogWarning: &warn, LogError: &errs, LogVerboseLevel: &verbose, LogFormat: &f})
}

// applyLogSettings returns the level the settings ask for; a toggle they
// leave out keeps its state in the current level. With every level off
// nothing is logged.
func applyLogSettings(current slog.Level, in logSettings) slog.Level {
	enabled := func(p *bool, lvl slog.Level) bool {
		if p != nil {
			return *p
		}
		return current <= lvl
	}
	verbose := current <= slog.LevelDebug
	if in.LogVerboseLevel != nil {
		verbose = *in.LogVerboseLevel > 0
	}
	switch {
	case verbose:
		return slog.LevelDebug
	case enabled(in.LogInfo, slog.LevelInfo):
		return slog.LevelInfo
	case enabled(in.LogWarning, slog.LevelWarn):
		return slog.LevelWarn
	case enabled(in.LogError, slog.LevelError):
		return slog.LevelError
	}
	return slog.LevelError + 4
}

// traceSettings is Triton's trace settings document (values as strings),
// mapped onto the node's OpenTelemetry sampler: trace_level OFF or a
// trace_rate of 0 traces nothing, otherwise one request in trace_rate.
type traceSettings struct {
	TraceLevel []string `json:"trace_level,omitempty"`
	TraceRate  string   `json:"trace_rate,omitempty"`
	TraceCount string   `json:"trace_count,omitempty"`
	TraceMode  string   `json:"trace_mode,omitempty"`
}

func (s *Server) restTraceSetting(c *gin.Context) {
	sampler := s.opts.TraceSampler
	if sampler == nil {
		s.fail(c, fmt.Errorf("%w: tracing is off: set OTEL_EXPORTER_OTLP_ENDPOINT to export traces", errForbidden))
		return
	}
	if c.Request.Method == http.MethodPost {
		var in traceSettings
		if err := c.ShouldBindJSON(&in); err != nil {
			s.fail(c, badRequest("trace settings: %v", err))
			return
		}
		rate := sampler.Rate()
		if in.TraceRate != "" {
			n, err := strconv.ParseInt(in.TraceRate, 10, 64)
			if err != nil || n < 0 {
				s.fail(c, badRequest("trace settings: trace_rate %q is not a count of requests", in.TraceRate))
				return
			}
			rate = n
		}
		if slices.Contains(in.TraceLevel, "OFF") {
			rate = 0
		} else if len(in.TraceLevel) > 0 && rate == 0 {
			rate = 1
		}
		sampler.SetRate(rate)
	}
	level := []string{"TIMESTAMPS"}
	if sampler.Rate() == 0 {
		level = []string{"OFF"}
	}
	c.JSON(http.StatusOK, traceSettings{TraceLevel: level, TraceRate: strconv.FormatInt(sampler.Rate(), 10), TraceCount: "-1", TraceMode: "opentelemetry"})
}
