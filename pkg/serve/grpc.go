package serve

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
)

// GRPCServer serves the KServe v2 / Triton gRPC inference protocol
// (inference.GRPCInferenceService) over the same core as the REST API, with
// the standard health service (grpc.health.v1) and server reflection.
type GRPCServer struct {
	*grpc.Server
	health *health.Server
	stop   chan struct{}
}

// NewGRPCServer returns a gRPC server for s's models. Messages may be as
// large as s's body limit.
func (s *Server) NewGRPCServer() *GRPCServer {
	limit := int(min(s.opts.BodyLimit, int64(1<<31-1)))
	g := grpc.NewServer(
		grpc.MaxRecvMsgSize(limit),
		grpc.MaxSendMsgSize(limit),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	gs := &GRPCServer{Server: g, health: health.NewServer(), stop: make(chan struct{})}
	grpcpb.RegisterGRPCInferenceServiceServer(g, &inferenceService{s: s})
	healthpb.RegisterHealthServer(g, gs.health)
	reflection.Register(g)
	go gs.followReadiness(s.models)
	return gs
}

// followReadiness keeps the health service's status in step with the
// node's readiness until the server stops.
func (g *GRPCServer) followReadiness(m *Manager) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if m.Ready() {
			st = healthpb.HealthCheckResponse_SERVING
		}
		g.health.SetServingStatus("", st)
		g.health.SetServingStatus(grpcpb.GRPCInferenceService_ServiceDesc.ServiceName, st)
		select {
		case <-tick.C:
		case <-g.stop:
			return
		}
	}
}

// Shutdown reports not serving, lets the calls in flight finish (or ends
// them when ctx ends first) and stops the server.
func (g *GRPCServer) Shutdown(ctx context.Context) {
	close(g.stop)
	g.health.Shutdown()
	done := make(chan struct{})
	go func() {
		g.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		g.Stop()
	}
}

// inferenceService implements grpcpb.GRPCInferenceServiceServer on the core.
type inferenceService struct {
	grpcpb.UnimplementedGRPCInferenceServiceServer
	s *Server
}

// grpcError gives err the gRPC code of its class.
func grpcError(err error) error {
	if _, ok := status.FromError(err); ok {
		return err // nil, or a gRPC status already
	}
	return status.Error(classOf(err).grpc, err.Error())
}

func (x *inferenceService) ServerLive(context.Context, *grpcpb.ServerLiveRequest) (*grpcpb.ServerLiveResponse, error) {
	return &grpcpb.ServerLiveResponse{Live: true}, nil
}

func (x *inferenceService) ServerReady(context.Context, *grpcpb.ServerReadyRequest) (*grpcpb.ServerReadyResponse, error) {
	return &grpcpb.ServerReadyResponse{Ready: x.s.models.Ready()}, nil
}

func (x *inferenceService) ModelReady(_ context.Context, r *grpcpb.ModelReadyRequest) (*grpcpb.ModelReadyResponse, error) {
	_, err := x.s.models.Get(r.GetName(), r.GetVersion())
	if err != nil && !errors.Is(err, ErrModelNotFound) {
		return nil, grpcError(err)
	}
	return &grpcpb.ModelReadyResponse{Ready: err == nil}, nil
}

func (x *inferenceService) ServerMetadata(context.Context, *grpcpb.ServerMetadataRequest) (*grpcpb.ServerMetadataResponse, error) {
	md := x.s.serverMetadata()
	return &grpcpb.ServerMetadataResponse{Name: md.Name, Version: md.Version, Extensions: md.Extensions}, nil
}

func (x *inferenceService) ModelMetadata(_ context.Context, r *grpcpb.ModelMetadataRequest) (*grpcpb.ModelMetadataResponse, error) {
	md, err := x.s.modelMetadata(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &grpcpb.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform}
	for _, in := range md.Inputs {
		resp.Inputs = append(resp.Inputs, &grpcpb.ModelMetadataResponse_TensorMetadata{Name: in.Name, Datatype: string(in.Datatype), Shape: in.Shape})
	}
	for _, out := range md.Outputs {
		resp.Outputs = append(resp.Outputs, &grpcpb.ModelMetadataResponse_TensorMetadata{Name: out.Name, Datatype: string(out.Datatype), Shape: out.Shape})
	}
	return resp, nil
}

// ModelInfer answers one request; outputs come back as raw contents when
// the request's inputs came raw (as tritonclient sends them), else typed.
func (x *inferenceService) ModelInfer(ctx context.Context, r *grpcpb.ModelInferRequest) (*grpcpb.ModelInferResponse, error) {
	resp, err := x.infer(ctx, r)
	return resp, grpcError(err)
}

// ModelStreamInfer answers each request of the stream in turn; a failed
// request is answered with its error message and the stream goes on.
func (x *inferenceService) ModelStreamInfer(stream grpcpb.GRPCInferenceService_ModelStreamInferServer) error {
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		resp, err := x.infer(stream.Context(), r)
		out := &grpcpb.ModelStreamInferResponse{InferResponse: resp}
		if err != nil {
			out = &grpcpb.ModelStreamInferResponse{ErrorMessage: err.Error()}
		}
		if err := stream.Send(out); err != nil {
			return err
		}
	}
}

func (x *inferenceService) infer(ctx context.Context, r *grpcpb.ModelInferRequest) (*grpcpb.ModelInferResponse, error) {
	start := time.Now()
	call := Call{Model: r.GetModelName(), Version: r.GetModelVersion(), Protocol: ProtocolGRPC, Received: start, RequestID: metadataValue(ctx, "x-request-id"),
		Header: func(name string) string { return metadataValue(ctx, name) }}
	req, err := grpcpb.ToRequest(r)
	if err != nil {
		x.s.countEarlyFailure(call, err, start)
		return nil, err
	}
	call.Request = req
	raw := len(r.GetRawInputContents()) > 0 || len(r.GetInputs()) == 0
	var out *grpcpb.ModelInferResponse
	err = x.s.Infer(ctx, call, func(resp *oip.InferResponse) error {
		var err error
		out, err = grpcpb.FromResponse(resp, raw)
		return err
	})
	return out, err
}

// metadataValue is the caller's metadata value for key (any case), or "".
func metadataValue(ctx context.Context, key string) string {
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if vs := md.Get(key); len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

func (x *inferenceService) ModelConfig(_ context.Context, r *grpcpb.ModelConfigRequest) (*grpcpb.ModelConfigResponse, error) {
	v, err := x.s.models.Get(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	return &grpcpb.ModelConfigResponse{Config: modelConfig(v)}, nil
}

func (x *inferenceService) ModelStatistics(_ context.Context, r *grpcpb.ModelStatisticsRequest) (*grpcpb.ModelStatisticsResponse, error) {
	stats, err := x.s.statistics(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &grpcpb.ModelStatisticsResponse{}
	for _, st := range stats {
		resp.ModelStats = append(resp.ModelStats, statsMessage(st))
	}
	return resp, nil
}

func statsMessage(st ModelStats) *grpcpb.ModelStatistics {
	d := func(x StatDuration) *grpcpb.StatisticDuration {
		return &grpcpb.StatisticDuration{Count: x.Count, Ns: x.NS}
	}
	is := st.InferenceStats
	m := &grpcpb.ModelStatistics{
		Name: st.Name, Version: st.Version, LastInference: st.LastInference,
		InferenceCount: st.InferenceCount, ExecutionCount: st.ExecutionCount,
		InferenceStats: &grpcpb.InferStatistics{
			Success: d(is.Success), Fail: d(is.Fail), Queue: d(is.Queue),
			ComputeInput: d(is.ComputeInput), ComputeInfer: d(is.ComputeInfer), ComputeOutput: d(is.ComputeOutput),
		},
	}
	for _, b := range st.BatchStats {
		m.BatchStats = append(m.BatchStats, &grpcpb.InferBatchStatistics{BatchSize: uint64(b.BatchSize), ComputeInfer: d(b.ComputeInfer)})
	}
	return m
}

func (x *inferenceService) RepositoryIndex(ctx context.Context, r *grpcpb.RepositoryIndexRequest) (*grpcpb.RepositoryIndexResponse, error) {
	resp := &grpcpb.RepositoryIndexResponse{}
	for _, e := range x.s.repositoryIndex(r.GetReady()) {
		resp.Models = append(resp.Models, &grpcpb.RepositoryIndexResponse_ModelIndex{Name: e.Name, Version: e.Version, State: e.State, Reason: e.Reason})
	}
	return resp, nil
}

func (x *inferenceService) RepositoryModelLoad(ctx context.Context, r *grpcpb.RepositoryModelLoadRequest) (*grpcpb.RepositoryModelLoadResponse, error) {
	if err := x.s.loadModel(ctx, r.GetModelName()); err != nil {
		return nil, grpcError(err)
	}
	return &grpcpb.RepositoryModelLoadResponse{}, nil
}

func (x *inferenceService) RepositoryModelUnload(ctx context.Context, r *grpcpb.RepositoryModelUnloadRequest) (*grpcpb.RepositoryModelUnloadResponse, error) {
	if err := x.s.unloadModel(ctx, r.GetModelName()); err != nil {
		return nil, grpcError(err)
	}
	return &grpcpb.RepositoryModelUnloadResponse{}, nil
}
