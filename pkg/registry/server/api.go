// Package server is kiln-registry's HTTP API (gin) on the storage service:
// routes, roles, error statuses, downloads and node heartbeats.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/storage"
)

// Options configure the HTTP API.
type Options struct {
	// Tokens authenticates requests; nil turns authentication off.
	Tokens *auth.Tokens
	// Registry receives the API's metrics and is served on /metrics
	// (default: a new registry).
	Registry *prometheus.Registry
	// RedirectDownloads answers model downloads with a redirect to a
	// presigned storage URL when the store supports it.
	RedirectDownloads bool
	// PresignTTL is how long a presigned URL stays valid (default 15 minutes).
	PresignTTL time.Duration
	// Logger receives one line per failed request (default slog.Default()).
	Logger *slog.Logger
	// Nodes keeps the heartbeats of serving nodes (default: a new one with
	// the default time to live).
	Nodes *Nodes
	// Console, when set, serves every path outside /api/, /healthz,
	// /readyz and /metrics (the web console).
	Console http.Handler
}

// api holds the HTTP handlers of the registry.
type api struct {
	svc   *storage.Service
	opts  Options
	log   *slog.Logger
	nodes *Nodes
}

// NewHandler returns the registry's HTTP handler: the API under /api/v1
// (see docs/api.md), /healthz, /readyz and /metrics.
func NewHandler(svc *storage.Service, opts Options) http.Handler {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.PresignTTL <= 0 {
		opts.PresignTTL = 15 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Nodes == nil {
		opts.Nodes = NewNodes(0)
	}
	a := &api{svc: svc, opts: opts, log: opts.Logger, nodes: opts.Nodes}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(gin.Recovery(), a.instrument(opts.Registry))
	r.NoRoute(func(c *gin.Context) {
		if opts.Console != nil && !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			c.Set(routeKey, "console")
			opts.Console.ServeHTTP(c.Writer, c.Request)
			return
		}
		a.fail(c, &registry.APIError{Status: http.StatusNotFound, Message: "no such endpoint: " + c.Request.URL.Path})
	})
	r.NoMethod(func(c *gin.Context) {
		a.fail(c, &registry.APIError{Status: http.StatusMethodNotAllowed, Message: c.Request.Method + " is not allowed on " + c.Request.URL.Path})
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", a.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{})))

	read, write, admin := a.require(auth.RoleReader), a.require(auth.RoleWriter), a.require(auth.RoleAdmin)
	v1 := r.Group("/api/v1")
	v1.GET("/models", read, a.listModels)
	m := v1.Group("/models/:name", a.checkName)
	m.GET("", read, a.getModel)
	m.GET("/versions", read, a.listVersions)
	m.POST("/versions", write, a.push)
	m.GET("/versions/:ref", read, a.getVersion)
	m.PATCH("/versions/:ref", write, a.updateVersion)
	m.DELETE("/versions/:ref", admin, a.deleteVersion)
	m.GET("/versions/:ref/model", read, a.downloadModel)
	m.HEAD("/versions/:ref/model", read, a.downloadModel)
	m.GET("/versions/:ref/reference-profile", read, a.downloadProfile)
	m.GET("/aliases", read, a.listAliases)
	m.GET("/aliases/:alias", read, a.getAlias)
	m.PUT("/aliases/:alias", write, a.setAlias)
	m.DELETE("/aliases/:alias", write, a.deleteAlias)
	m.GET("/events", read, a.listEvents)
	m.POST("/rollout-events", read, a.recordRolloutStop)
	m.GET("/policy", read, a.getPolicy)
	m.PUT("/policy", admin, a.setPolicy)
	m.POST("/versions/:ref/validations", write, a.recordValidation)
	m.GET("/nodes", read, a.modelNodes)
	v1.GET("/nodes", read, a.listNodes)
	v1.GET("/nodes/:node", read, a.getNode)
	v1.PUT("/nodes/:node", read, a.reportNode)
	return r
}

// fail answers with the status of err and the {"error": "..."} body (with
// the gate report when a protected alias move was refused).
func (a *api) fail(c *gin.Context, err error) {
	status := registry.StatusOf(err)
	var apiErr *registry.APIError
	if errors.As(err, &apiErr) {
		status = apiErr.Status
	}
	msg := err.Error()
	if status >= 500 {
		a.log.Error("request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		if errors.Is(err, context.Canceled) {
			msg = "request canceled"
		}
	}
	var refused *registry.GateError
	if errors.As(err, &refused) {
		c.AbortWithStatusJSON(status, registry.ErrorBody{Error: msg, Report: &refused.Report})
		return
	}
	c.AbortWithStatusJSON(status, oip.ErrorResponse{Error: msg})
}

// instrument records kiln_registry_http_request_duration_seconds.
func (a *api) instrument(reg prometheus.Registerer) gin.HandlerFunc {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "kiln_registry_http_request_duration_seconds",
		Help:    "Duration of registry HTTP requests, by method, route and status code.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
	}, []string{"method", "route", "code"})
	reg.MustRegister(duration)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = c.GetString(routeKey)
		}
		if route == "" {
			route = "unmatched"
		}
		duration.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
	}
}

// routeKey is the gin context key of the route label of a request that
// matched no API route (the console's).
const routeKey = "kiln.route"

// identityKey is the gin context key of the caller's Identity.
const identityKey = "kiln.identity"

// require lets a request through only with a token of at least role
// (any request when authentication is off).
func (a *api) require(role auth.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.opts.Tokens == nil {
			c.Set(identityKey, auth.Identity{Name: "anonymous", Role: auth.RoleAdmin})
			return
		}
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="kiln-registry"`)
			a.fail(c, fmt.Errorf("%w: missing bearer token: set KILN_TOKEN", registry.ErrUnauthorized))
			return
		}
		id, ok := a.opts.Tokens.Lookup(token)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="kiln-registry", error="invalid_token"`)
			a.fail(c, fmt.Errorf("%w: unknown token", registry.ErrUnauthorized))
			return
		}
		if id.Role < role {
			a.fail(c, fmt.Errorf("%w: token %s has role %s; this needs %s", registry.ErrForbidden, id.Name, id.Role, role))
			return
		}
		c.Set(identityKey, id)
	}
}

// caller returns the name of the authenticated caller.
func caller(c *gin.Context) string { return identity(c).Name }

// identity returns the authenticated caller.
func identity(c *gin.Context) auth.Identity {
	id, _ := c.Get(identityKey)
	return id.(auth.Identity)
}

// checkName rejects invalid model names before any handler runs.
func (a *api) checkName(c *gin.Context) {
	if err := registry.ValidateName(c.Param("name")); err != nil {
		a.fail(c, err)
	}
}

func (a *api) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 5*time.Second)
	defer cancel()
	if _, err := a.svc.Store().Attributes(ctx, "readyz"); err != nil && !errors.Is(err, registry.ErrNotFound) {
		c.JSON(http.StatusServiceUnavailable, oip.ErrorResponse{Error: "storage unreachable: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// page reads the page_token and page_size query parameters.
func page(c *gin.Context) (registry.Page, error) {
	p := registry.Page{Token: c.Query("page_token")}
	if s := c.Query("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return registry.Page{}, fmt.Errorf("%w: page_size must be a positive number", registry.ErrInvalid)
		}
		p.Size = n
	}
	return p, nil
}

// ref reads the model name and the :ref path parameter (a number or an alias).
func ref(c *gin.Context) (registry.Ref, error) {
	r, err := registry.ParseSelector(c.Param("ref"))
	r.Name = c.Param("name")
	return r, err
}

// versionNumber reads a :ref that must be a version number.
func versionNumber(c *gin.Context) (int, error) {
	r, err := ref(c)
	if err == nil && r.Version == 0 {
		err = fmt.Errorf("%w: this needs a version number, not an alias", registry.ErrInvalid)
	}
	return r.Version, err
}

// optionalInt reads an optional integer query parameter.
func optionalInt(c *gin.Context, key string) (*int, error) {
	s, ok := c.GetQuery(key)
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: %s must be a version number (0: none)", registry.ErrInvalid, key)
	}
	return &n, nil
}
