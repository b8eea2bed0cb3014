// Command kiln-registry serves the Kiln model registry: versioned ONNX
// models with metrics, lineage and aliases, in a folder or an S3 bucket.
//
//	kiln-registry [flags]            serve (see --help)
//	kiln-registry token NAME ROLE    print a new token and its tokens-file line
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/console"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
	"github.com/kilnml/kiln/pkg/telemetry"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "token" {
		os.Exit(tokenCommand(os.Args[2:]))
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "kiln-registry:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "kiln-registry:", err)
		os.Exit(1)
	}
}

// config is the registry's configuration from flags and KILN_* variables.
type config struct {
	addr, store, auth, tokensFile string
	logFormat, logLevel           string
	maxModelSize                  int64
	redirect                      bool
	nodeTTL                       time.Duration
	s3                            objstore.S3Options
}

// helpOutput is where --help prints.
var helpOutput io.Writer = os.Stdout

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("kiln-registry", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8081", "listen address")
	fs.StringVar(&cfg.store, "store", "file://./kiln-data", "storage: file://PATH or s3://BUCKET/PREFIX")
	fs.StringVar(&cfg.auth, "auth", "tokens", "authentication: tokens (needs --tokens-file) or none")
	fs.StringVar(&cfg.tokensFile, "tokens-file", "", `file of "sha256:<hex> ROLE NAME" lines (see: kiln-registry token)`)
	fs.StringVar(&cfg.logFormat, "log-format", "auto", "log format: auto, text or json")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&cfg.s3.Endpoint, "s3-endpoint", "", "S3 endpoint URL (empty: AWS S3)")
	fs.StringVar(&cfg.s3.Region, "s3-region", os.Getenv("AWS_REGION"), "S3 region, by default $AWS_REGION")
	maxSize, partSize := &byteSize{"8GiB", 8 << 30}, &byteSize{"8MiB", 8 << 20}
	fs.Var(maxSize, "max-model-size", "largest model accepted, a `size` such as 512MiB")
	fs.Var(partSize, "s3-part-size", "S3 multipart part `size`, at least 5MiB")
	fs.UintVar(&cfg.s3.UploadThreads, "s3-upload-threads", 2, "S3 parts uploaded in parallel; memory per upload is part size x threads")
	fs.BoolVar(&cfg.s3.PathStyle, "s3-path-style", false, "address buckets as ENDPOINT/BUCKET (MinIO, versitygw)")
	fs.DurationVar(&cfg.nodeTTL, "node-ttl", 30*time.Second, "forget a serving node after this long without a heartbeat")
	fs.BoolVar(&cfg.redirect, "redirect-downloads", false, "answer S3 downloads with a redirect to a presigned URL")
	const header = "Usage: kiln-registry [flags]\n       kiln-registry token NAME ROLE   print a new token and its tokens-file line"
	if err := flagenv.Parse(fs, args, header, helpOutput); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; see --help", fs.Arg(0))
	}
	if partSize.bytes < 5<<20 {
		return nil, fmt.Errorf("--s3-part-size %q: want a size of at least 5MiB", partSize)
	}
	cfg.maxModelSize, cfg.s3.PartSize = maxSize.bytes, uint64(partSize.bytes)
	if cfg.nodeTTL <= 0 {
		return nil, fmt.Errorf("--node-ttl %v: want a positive duration such as 30s", cfg.nodeTTL)
	}
	switch {
	case cfg.auth == "none":
	case cfg.auth == "tokens" && cfg.tokensFile == "":
		return nil, errors.New("set --tokens-file (or KILN_TOKENS_FILE), or pass --auth=none to run without authentication")
	case cfg.auth != "tokens":
		return nil, fmt.Errorf("--auth %q: want tokens or none", cfg.auth)
	}
	return cfg, nil
}

func run(cfg *config) error {
	log, err := telemetry.NewLogger(os.Stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var tokens *auth.Tokens
	if cfg.auth == "tokens" {
		if tokens, err = auth.LoadTokens(cfg.tokensFile); err != nil {
			return err
		}
	}
	store, err := objstore.Open(ctx, cfg.store, cfg.s3)
	if err != nil {
		return err
	}
	defer store.Close()
	metrics := prometheus.NewRegistry()
	metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc := storage.NewService(objstore.WrapWithMetrics(store, metrics, "kiln_registry_storage"), storage.Options{MaxModelBytes: cfg.maxModelSize, Logger: log})
	gin.SetMode(gin.ReleaseMode)
	nodes := server.NewNodes(cfg.nodeTTL)
	web, err := console.New(console.Options{Service: svc, Tokens: tokens, Nodes: nodes, Logger: log})
	if err != nil {
		return err
	}
	handler := server.NewHandler(svc, server.Options{Tokens: tokens, Registry: metrics, RedirectDownloads: cfg.redirect, Logger: log, Nodes: nodes, Console: web})

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Info("kiln-registry listening", "addr", ln.Addr().String(), "console", "http://"+ln.Addr().String()+"/", "store", cfg.store, "auth", cfg.auth)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// tokenCommand prints a new random token and the tokens-file line that
// accepts it.
func tokenCommand(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kiln-registry token NAME ROLE   (ROLE: reader, writer or admin)")
		return 2
	}
	if _, err := auth.ParseRole(args[1]); err != nil || strings.ContainsAny(args[0], " \t") || args[0] == "" {
		fmt.Fprintln(os.Stderr, "kiln-registry token: want a NAME without spaces and a ROLE of reader, writer or admin")
		return 2
	}
	tok := auth.NewToken()
	fmt.Printf("token (give it to the client as KILN_TOKEN; it is not stored): %s\n", tok)
	fmt.Printf("tokens-file line: %s %s %s\n", auth.HashToken(tok), args[1], args[0])
	return 0
}

// byteSize is a flag of a byte count with an optional KiB, MiB or GiB
// suffix.
type byteSize struct {
	text  string
	bytes int64
}

// String returns the count as given.
func (s *byteSize) String() string { return s.text }

// Set parses a count such as 512MiB.
func (s *byteSize) Set(v string) (err error) {
	s.text = v
	s.bytes, err = parseSize(v)
	return err
}

// parseSize parses a byte count with an optional KiB, MiB or GiB suffix.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = n, m
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive number of bytes, KiB, MiB or GiB")
	}
	return n * mult, nil
}
