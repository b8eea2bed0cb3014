package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kilnml/kiln/internal/flagenv"
	"github.com/kilnml/kiln/pkg/loadgen"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
)

// serverFlags say which inference server kiln predict and kiln bench talk
// to, and over which protocol.
type serverFlags struct {
	url      string
	grpcAddr string
	protocol string
}

func (s *serverFlags) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&s.url, "server", "http://127.0.0.1:8000", "OIP REST server URL")
	f.StringVar(&s.grpcAddr, "grpc-server", "127.0.0.1:8001", "gRPC server host:port, with --protocol grpc")
	f.StringVar(&s.protocol, "protocol", "rest", "rest (HTTP, JSON or --binary) or grpc (--binary: raw contents instead of typed)")
	flagenv.Bind(f, "server", "grpc-server")
}

// server is an inference server reached over REST or gRPC.
type server struct {
	flags *serverFlags
	rest  *oip.Client
	http  *http.Client
	grpc  *grpcpb.Client
}

// validate checks --protocol.
func (s *serverFlags) validate() error {
	if s.protocol != "rest" && s.protocol != "grpc" {
		return fmt.Errorf("--protocol %q: want rest or grpc", s.protocol)
	}
	return nil
}

// dial connects to the server, keeping connections for clients concurrent callers.
func (s *serverFlags) dial(clients int) (*server, error) {
	switch s.protocol {
	case "grpc":
		c, err := grpcpb.Dial(strings.TrimPrefix(s.grpcAddr, "grpc://"), 1<<30)
		if err != nil {
			return nil, fmt.Errorf("gRPC server %s: %w", s.grpcAddr, err)
		}
		return &server{flags: s, grpc: c}, nil
	default:
		hc := loadgen.HTTPClient(clients)
		rest := oip.NewClient(s.url)
		rest.HTTP = hc
		return &server{flags: s, rest: rest, http: hc}, nil
	}
}

// address names the server in messages.
func (s *server) address() string {
	if s.grpc != nil {
		return "grpc://" + s.flags.grpcAddr
	}
	return s.flags.url
}

func (s *server) close() {
	if s.grpc != nil {
		s.grpc.Close()
	}
}

// codec names how tensors travel: JSON or binary over REST, typed or raw over gRPC.
func (s *server) codec(binary bool) string {
	switch {
	case s.grpc != nil && binary:
		return "raw"
	case s.grpc != nil:
		return "typed"
	case binary:
		return "binary"
	}
	return "JSON"
}

// infer sends one request; binary is the binary extension over REST and raw contents over gRPC.
func (s *server) infer(ctx context.Context, model, version string, req *oip.InferRequest, binary bool) (*oip.InferResponse, error) {
	if s.grpc != nil {
		return s.grpc.Infer(ctx, model, version, req, binary)
	}
	return s.rest.Infer(ctx, model, version, req, binary)
}

func (s *server) modelMetadata(ctx context.Context, model, version string) (*oip.ModelMetadata, error) {
	if s.grpc != nil {
		return s.grpc.ModelMetadata(ctx, model, version)
	}
	return s.rest.ModelMetadata(ctx, model, version)
}

// loadRequest is the load generator's request for req, encoded once.
func (s *server) loadRequest(model, version string, req *oip.InferRequest, binary bool) (loadgen.Request, error) {
	if s.grpc != nil {
		return loadgen.GRPCInferRequest(s.grpc, model, version, req, binary)
	}
	return loadgen.InferRequest(s.http, s.flags.url, model, version, req, binary)
}
