// Command kiln-serve serves ONNX models over the Open Inference Protocol v2:
// REST (KServe v2 / Triton HTTP, with Triton's extensions) and gRPC.
//
//	kiln-serve --model iris=examples/iris/model.onnx
//	kiln-serve --model-repository models/
//	kiln-serve --registry http://registry:8081 --model churn@production
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/predlog"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
	"github.com/kilnml/kiln/pkg/telemetry"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	addr            string
	grpcAddr        string
	pprofAddr       string
	modelControl    string
	models          flagenv.Strings
	sources         []serve.Source
	refs            []registry.Ref
	repository      string
	registry        string
	cacheDir        string
	cacheMaxBytes   int64
	pollInterval    time.Duration
	watch           time.Duration
	config          string
	ortLib          string
	bodyLimit       int64
	shutdownTimeout time.Duration
	logFormat       string
	logLevel        string
	predLogDir      string
	predLogRate     float64
	predLogS3       string
	s3              objstore.S3Options
	checkConfig     bool
	advertiseAddr   string
	nodeID          string
	heartbeat       time.Duration
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kiln-serve:", err)
		os.Exit(2)
	}
	if cfg.checkConfig {
		settings, err := serve.LoadConfig(cfg.config)
		if err == nil {
			err = settings.Validate(func(string) bool { return true })
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "kiln-serve:", err)
			os.Exit(1)
		}
		fmt.Println(cfg.config + ": ok")
		return
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "kiln-serve:", err)
		os.Exit(1)
	}
}

// gcPercent is the node's garbage collection target unless GOGC says
// otherwise: a node's Go heap is small (the models live in ONNX Runtime's
// memory) and every request allocates, so collecting when the heap has grown
// by 400% rather than Go's 100% saves CPU per request for a few MiB more
// (docs/performance.md).
const gcPercent = 400

func defaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "kiln-cache"
	}
	return filepath.Join(dir, "kiln", "models")
}

// helpOutput is where --help prints.
var helpOutput io.Writer = os.Stdout

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("kiln-serve", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8000", "listen address")
	fs.StringVar(&cfg.grpcAddr, "grpc-addr", "127.0.0.1:8001", "gRPC listen address (inference.GRPCInferenceService); empty turns gRPC off")
	fs.StringVar(&cfg.pprofAddr, "pprof-addr", "", "serve Go's profiles (/debug/pprof/) on this address, for profiling under load; empty: off")
	fs.StringVar(&cfg.modelControl, "model-control", "none", "none, or explicit: clients may load and unload models (the repository extension)")
	fs.Var(&cfg.models, "model", "NAME=PATH.onnx (a local file, version 1) or NAME@ALIAS / NAME@N (from --registry); repeatable")
	fs.StringVar(&cfg.repository, "model-repository", "", "serve every DIR/NAME/VERSION/model.onnx")
	fs.StringVar(&cfg.registry, "registry", "", "kiln-registry URL for NAME@REF models; the token comes from KILN_TOKEN")
	fs.StringVar(&cfg.cacheDir, "cache-dir", defaultCacheDir(), "where models downloaded from the registry are kept")
	fs.Int64Var(&cfg.cacheMaxBytes, "cache-max-bytes", 10<<30, "evict cached models not in use beyond this size")
	fs.DurationVar(&cfg.pollInterval, "poll-interval", 5*time.Second, "how often to ask the registry whether an alias moved, when --watch is 0 or the watch fails")
	fs.DurationVar(&cfg.watch, "watch", 30*time.Second, "long-poll the registry for alias moves, each request waiting up to this long; 0 polls every --poll-interval")
	fs.StringVar(&cfg.advertiseAddr, "advertise-addr", "", "URL the registry's console reaches this node at (default: from --addr)")
	fs.StringVar(&cfg.nodeID, "node-id", "", "this node's name in the registry (default: host name and port)")
	fs.DurationVar(&cfg.heartbeat, "heartbeat-interval", 5*time.Second, "how often to report to --registry; 0 turns reports off")
	fs.StringVar(&cfg.config, "config", "", "per-model settings (batching, timeouts) in YAML")
	fs.StringVar(&cfg.ortLib, "ort-lib", "", "path of libonnxruntime.so.1 (default: lib/ beside bin/, then the system)")
	fs.Int64Var(&cfg.bodyLimit, "body-limit", serve.DefaultBodyLimit, "largest request body in bytes")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for requests in flight")
	fs.StringVar(&cfg.predLogDir, "prediction-log-dir", "", "keep a sampled log of predictions (JSON lines) in this folder")
	fs.Float64Var(&cfg.predLogRate, "prediction-log-sample-rate", 0.01, "share of predictions logged")
	fs.StringVar(&cfg.predLogS3, "prediction-log-s3", "", "ship finished prediction log files to s3://BUCKET/PREFIX/date=YYYY-MM-DD/")
	fs.StringVar(&cfg.s3.Endpoint, "s3-endpoint", "", "S3 endpoint URL for --prediction-log-s3 (empty: AWS S3); credentials from the AWS chain")
	fs.StringVar(&cfg.s3.Region, "s3-region", os.Getenv("AWS_REGION"), "S3 region for --prediction-log-s3, by default $AWS_REGION")
	fs.BoolVar(&cfg.s3.PathStyle, "s3-path-style", false, "address buckets as ENDPOINT/BUCKET (MinIO, versitygw); without it, path style for endpoints other than AWS")
	fs.BoolVar(&cfg.checkConfig, "check-config", false, "read the --config settings file, report what is wrong with it, and exit")
	fs.StringVar(&cfg.logFormat, "log-format", "auto", "auto, text or json")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	const header = "Usage: kiln-serve --model NAME=PATH.onnx | --model-repository DIR | --registry URL --model NAME@ALIAS [flags]"
	if err := flagenv.Parse(fs, args, header, helpOutput); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; models are given with --model", fs.Arg(0))
	}
	if cfg.checkConfig {
		if cfg.config == "" {
			return nil, errors.New("--check-config needs --config FILE.yaml")
		}
		return cfg, nil
	}
	if cfg.modelControl != "none" && cfg.modelControl != "explicit" {
		return nil, fmt.Errorf("--model-control %q: want none or explicit", cfg.modelControl)
	}
	if len(cfg.models) == 0 && cfg.repository == "" {
		return nil, errors.New("no models: pass --model NAME=PATH.onnx, --model-repository DIR or --registry URL --model NAME@ALIAS")
	}
	names := map[string]bool{}
	for _, spec := range cfg.models {
		name, err := cfg.addModel(spec)
		if err != nil {
			return nil, err
		}
		if names[name] {
			return nil, fmt.Errorf("--model %q: model %q is given twice", spec, name)
		}
		names[name] = true
	}
	if len(cfg.refs) > 0 && cfg.registry == "" {
		return nil, fmt.Errorf("--model %s needs --registry URL (or KILN_REGISTRY)", cfg.refs[0])
	}
	return cfg, nil
}

// addModel parses one --model value into a local source or a registry reference.
func (cfg *config) addModel(spec string) (string, error) {
	if strings.Contains(spec, "=") {
		src, err := serve.ParseModelFlag(spec)
		cfg.sources = append(cfg.sources, src)
		return src.Name, err
	}
	ref, err := registry.ParseRef(spec)
	if err != nil {
		return "", fmt.Errorf("--model %q: want NAME=PATH.onnx or NAME@ALIAS: %w", spec, err)
	}
	cfg.refs = append(cfg.refs, ref)
	return ref.Name, nil
}

func run(cfg *config) error {
	logger, logLevel, err := telemetry.NewLevelLogger(os.Stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	var settings *serve.Config
	if cfg.config != "" {
		if settings, err = serve.LoadConfig(cfg.config); err != nil {
			return err
		}
	}
	if err := runtime.Init(runtime.FindLibrary(cfg.ortLib)); err != nil {
		return err
	}
	sampler := telemetry.NewSampler(1)
	tracing, stopTracing, err := telemetry.SetupTracing(context.Background(), "kiln-serve", version, sampler)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer stopTracing(context.Background())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var client *registry.Client
	if cfg.registry != "" {
		client = registry.NewClient(cfg.registry, os.Getenv("KILN_TOKEN"), &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport)})
	}
	models := serve.NewManager(serve.ManagerOptions{
		Config: settings, Metrics: serve.NewMetrics(reg), Logger: logger,
		RolloutStopped: reportRolloutStop(client, cfg, logger),
	})
	defer models.Close()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	follow, err := followFunc(cfg, client, settings, models, logger)
	if err != nil {
		return err
	}
	repo := serve.NewRepository(models, serve.RepositoryOptions{Files: cfg.sources, Dir: cfg.repository, Refs: cfg.refs, Follow: follow, Logger: logger})
	if settings != nil {
		served := func(name string) bool { return slices.Contains(repo.Names(), name) }
		if err := settings.Validate(served); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := repo.Start(ctx); err != nil {
		return err
	}
	defer func() {
		stop()
		repo.Wait()
	}()
	logger.Info("models loaded", "models", strings.Join(repo.Names(), ","), "seconds", time.Since(start).Seconds())

	predictions, err := openPredictionLog(ctx, cfg, logger)
	if err != nil {
		return err
	}
	if predictions != nil {
		defer predictions.Close()
	}
	opts := serve.Options{
		BodyLimit: cfg.bodyLimit, Logger: logger, LogLevel: logLevel, Version: version, PredictionLog: predictions,
		TracerProvider: tracing, TraceSampler: sampler,
	}
	if tracing == nil {
		opts.TraceSampler = nil
	}
	if cfg.modelControl == "explicit" {
		opts.ModelControl = repo
	}
	srv := serve.NewServer(models, opts)
	servers, err := listen(cfg, srv, logger)
	if err != nil {
		return err
	}
	if cfg.registry != "" && cfg.heartbeat > 0 {
		go newReporter(cfg, client, servers.addr, models, logger).Run(ctx)
	}
	select {
	case err := <-servers.failed:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	models.Drain()
	if err := servers.shutdown(cfg.shutdownTimeout); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// servers are the node's listening front ends.
type servers struct {
	http *http.Server
	grpc *serve.GRPCServer // nil without --grpc-addr
	// addr is the REST address; failed receives the error of a server that stopped serving.
	addr   string
	failed chan error
}

// listen serves srv over REST on --addr, gRPC on --grpc-addr and profiles
// on --pprof-addr (each when set).
func listen(cfg *config, srv *serve.Server, logger *slog.Logger) (*servers, error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s := &servers{
		http:   &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second},
		addr:   ln.Addr().String(),
		failed: make(chan error, 2),
	}
	go func() { s.failed <- s.http.Serve(ln) }()
	if cfg.grpcAddr != "" {
		gln, err := net.Listen("tcp", cfg.grpcAddr)
		if err != nil {
			return nil, fmt.Errorf("--grpc-addr: %w", err)
		}
		s.grpc = srv.NewGRPCServer()
		go func() { s.failed <- s.grpc.Serve(gln) }()
		logger.Info("serving gRPC", "addr", gln.Addr().String())
	}
	if cfg.pprofAddr != "" {
		pln, err := net.Listen("tcp", cfg.pprofAddr)
		if err != nil {
			return nil, fmt.Errorf("--pprof-addr: %w", err)
		}
		go http.Serve(pln, profilingHandler())
		logger.Info("serving profiles", "addr", pln.Addr().String())
	}
	logger.Info("serving", "addr", s.addr, "onnxruntime", runtime.Version())
	return s, nil
}

// shutdown lets the requests in flight on both transports finish, for at
// most timeout.
func (s *servers) shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	grpcStopped := make(chan struct{})
	go func() {
		if s.grpc != nil {
			s.grpc.Shutdown(ctx)
		}
		close(grpcStopped)
	}()
	err := s.http.Shutdown(ctx)
	<-grpcStopped
	return err
}

// profilingHandler serves Go's runtime profiles under /debug/pprof/.
func profilingHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// openPredictionLog opens the prediction log when --prediction-log-dir is set.
func openPredictionLog(ctx context.Context, cfg *config, logger *slog.Logger) (*predlog.Log, error) {
	if cfg.predLogDir == "" {
		return nil, nil
	}
	opts := predlog.Options{Dir: cfg.predLogDir, SampleRate: cfg.predLogRate, Logger: logger}
	if cfg.predLogS3 != "" {
		if !strings.HasPrefix(cfg.predLogS3, "s3://") {
			return nil, fmt.Errorf("--prediction-log-s3 %q: want s3://BUCKET/PREFIX", cfg.predLogS3)
		}
		store, err := objstore.Open(ctx, cfg.predLogS3, cfg.s3)
		if err != nil {
			return nil, fmt.Errorf("--prediction-log-s3: %w", err)
		}
		opts.Upload = store
	}
	return predlog.Open(opts)
}

// followFunc returns how to follow a registry reference, or nil when the
// node has no registry.
func followFunc(cfg *config, client *registry.Client, settings *serve.Config, models *serve.Manager, logger *slog.Logger) (func(context.Context, registry.Ref, string), error) {
	if client == nil {
		return nil, nil
	}
	cache, err := serve.OpenCache(cfg.cacheDir, cfg.cacheMaxBytes)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ref registry.Ref, role string) {
		serve.NewFollower(ref, client, cache, models, serve.FollowOptions{
			PollInterval: cfg.pollInterval,
			Watch:        cfg.watch,
			Gates:        serve.GatesFor(client, settings, ref.Name),
			Logger:       logger,
			Role:         role,
		}).Run(ctx)
	}, nil
}

// reportRolloutStop tells the registry when this node stops a canary or a
// shadow, naming the node as its heartbeats do; nil without a registry.
func reportRolloutStop(client *registry.Client, cfg *config, logger *slog.Logger) func(serve.RolloutEvent) {
	if client == nil {
		return nil
	}
	host, _ := os.Hostname()
	node := cfg.nodeID
	if node == "" {
		node = defaultNodeID(host, advertised(cfg.advertiseAddr, cfg.addr, host))
	}
	return func(e serve.RolloutEvent) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := client.ReportRolloutStop(ctx, e.Model, registry.RolloutReport{Role: e.Role, Version: int(e.Version), Node: node, Reason: e.Reason})
		if err != nil {
			logger.Error("could not report the stopped rollout to the registry", "model", e.Model, "role", e.Role, "err", err)
		}
	}
}

// newReporter returns the reporter of this node's heartbeats to --registry.
func newReporter(cfg *config, client *registry.Client, listenAddr string, models *serve.Manager, logger *slog.Logger) *serve.Reporter {
	host, _ := os.Hostname()
	addr := advertised(cfg.advertiseAddr, listenAddr, host)
	id := cfg.nodeID
	if id == "" {
		id = defaultNodeID(host, addr)
	}
	return serve.NewReporter(client, models, serve.HeartbeatOptions{Node: id, Address: addr, Interval: cfg.heartbeat, Build: version, Logger: logger})
}

// defaultNodeID names a node by its host name and the port of its
// advertised URL, if that has one.
func defaultNodeID(hostname, advertised string) string {
	if u, err := url.Parse(advertised); err == nil && u.Port() != "" {
		return hostname + ":" + u.Port()
	}
	return hostname
}

// advertised returns the base URL the node reports: --advertise-addr
// (http:// added when it has no scheme), else the listen address, with
// the host name in place of an unspecified address such as 0.0.0.0.
func advertised(flagValue, listenAddr, hostname string) string {
	if flagValue != "" {
		if !strings.Contains(flagValue, "://") {
			flagValue = "http://" + flagValue
		}
		return strings.TrimSuffix(flagValue, "/")
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return "http://" + listenAddr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = hostname
	}
	return "http://" + net.JoinHostPort(host, port)
}
