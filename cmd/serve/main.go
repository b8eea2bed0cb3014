// Command kiln-serve serves ONNX models over the Open Inference Protocol v2
// REST API (KServe v2 / Triton HTTP).
//
//	kiln-serve --model iris=examples/iris/model.onnx
//	kiln-serve --model-repository models/
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
	"github.com/kilnml/kiln/pkg/telemetry"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type config struct {
	addr            string
	models          flagenv.Strings
	sources         []serve.Source
	repository      string
	config          string
	ortLib          string
	bodyLimit       int64
	shutdownTimeout time.Duration
	logFormat       string
	logLevel        string
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
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "kiln-serve:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("kiln-serve", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8000", "listen address")
	fs.Var(&cfg.models, "model", "serve NAME=PATH.onnx as version 1 (repeatable)")
	fs.StringVar(&cfg.repository, "model-repository", "", "serve every DIR/NAME/VERSION/model.onnx")
	fs.StringVar(&cfg.config, "config", "", "per-model settings (batching, timeouts) in YAML")
	fs.StringVar(&cfg.ortLib, "ort-lib", "", "path of libonnxruntime.so.1 (default: KILN_ORT_LIB, lib/ beside bin/, system)")
	fs.Int64Var(&cfg.bodyLimit, "body-limit", serve.DefaultBodyLimit, "largest request body in bytes")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for requests in flight")
	fs.StringVar(&cfg.logFormat, "log-format", "auto", "auto, text or json")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: kiln-serve --model NAME=PATH.onnx | --model-repository DIR [flags]\nEvery flag also reads KILN_<FLAG> (e.g. KILN_ADDR).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := flagenv.Apply(fs); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; models are given with --model NAME=PATH", fs.Arg(0))
	}
	if len(cfg.models) == 0 && cfg.repository == "" {
		return nil, errors.New("no models: pass --model NAME=PATH.onnx or --model-repository DIR")
	}
	for _, spec := range cfg.models {
		src, err := serve.ParseModelFlag(spec)
		if err != nil {
			return nil, err
		}
		cfg.sources = append(cfg.sources, src)
	}
	return cfg, nil
}

func run(cfg *config) error {
	logger, err := telemetry.NewLogger(os.Stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	srcs := cfg.sources
	if cfg.repository != "" {
		repo, err := serve.ScanRepository(cfg.repository)
		if err != nil {
			return err
		}
		srcs = append(srcs, repo...)
	}
	if err := runtime.Init(runtime.FindLibrary(cfg.ortLib)); err != nil {
		return err
	}
	var settings *serve.Config
	if cfg.config != "" {
		if settings, err = serve.LoadConfig(cfg.config); err != nil {
			return err
		}
	}
	if settings != nil {
		if err := settings.Validate(func(name string) bool {
			return slices.ContainsFunc(srcs, func(s serve.Source) bool { return s.Name == name })
		}); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	models := serve.NewManager(serve.ManagerOptions{Config: settings, Metrics: serve.NewMetrics(reg)})
	defer models.Close()
	for _, src := range srcs {
		start := time.Now()
		if err := models.Load(src); err != nil {
			return err
		}
		logger.Info("model loaded", "model", src.Name, "version", src.Version, "path", src.Path, "seconds", time.Since(start).Seconds())
	}

	srv := serve.NewServer(models, serve.Options{BodyLimit: cfg.bodyLimit, Logger: logger, Version: version})

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	httpServer := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(ln) }()
	models.SetReady(true)
	logger.Info("serving", "addr", ln.Addr().String(), "onnxruntime", runtime.Version())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	models.SetReady(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
