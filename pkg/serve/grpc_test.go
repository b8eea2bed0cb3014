package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/serve"
)

// startGRPC serves models over gRPC on a loopback port and returns a client
// of the inference service and the connection.
func startGRPC(t testing.TB, opts serve.Options, models map[string]*onnx.Model) (grpcpb.GRPCInferenceServiceClient, *grpc.ClientConn) {
	t.Helper()
	mgr := loadModels(t, models)
	return serveGRPC(t, serve.NewServer(mgr, opts), mgr)
}

func serveGRPC(t testing.TB, srv *serve.Server, mgr *serve.Manager) (grpcpb.GRPCInferenceServiceClient, *grpc.ClientConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := srv.NewGRPCServer()
	go g.Serve(ln)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(512<<20), grpc.MaxCallSendMsgSize(512<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		g.Shutdown(context.Background())
		mgr.Close()
	})
	return grpcpb.NewGRPCInferenceServiceClient(conn), conn
}

func grpcInfer(t testing.TB, c grpcpb.GRPCInferenceServiceClient, model string, req *oip.InferRequest, raw bool) (*oip.InferResponse, error) {
	t.Helper()
	m, err := grpcpb.FromRequest(model, "", req, raw)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.ModelInfer(context.Background(), m)
	if err != nil {
		return nil, err
	}
	return grpcpb.ToResponse(resp)
}

// TestGRPCEveryDatatypeTypedAndRaw sends every datatype through typed
// contents and through raw_input_contents and gets it back unchanged.
func TestGRPCEveryDatatypeTypedAndRaw(t *testing.T) {
	c, _ := startGRPC(t, serve.Options{}, map[string]*onnx.Model{"identity": testenv.IdentityModel(t)})
	req := &oip.InferRequest{ID: "all-types"}
	for _, dt := range testenv.AllTypes {
		req.Inputs = append(req.Inputs, testenv.SampleTensor("in_"+dt.String(), dt))
	}
	for _, raw := range []bool{false, true} {
		resp, err := grpcInfer(t, c, "identity", req, raw)
		if err != nil {
			t.Fatalf("raw=%v: %v", raw, err)
		}
		if resp.ID != "all-types" || resp.ModelName != "identity" || resp.ModelVersion != "1" {
			t.Errorf("raw=%v: id %q model %q version %q", raw, resp.ID, resp.ModelName, resp.ModelVersion)
		}
		for i, dt := range testenv.AllTypes {
			want := *req.Inputs[i]
			want.Name = "out_" + dt.String()
			if err := testenv.SameTensor(resp.Output(want.Name), &want); err != nil {
				t.Errorf("raw=%v: %v", raw, err)
			}
		}
	}
}

// TestGRPCConformance runs the conformance set over gRPC, raw and typed,
// against the same models run in-process.
func TestGRPCConformance(t *testing.T) {
	cases := testenv.ConformanceCases(t)
	models := map[string]*onnx.Model{}
	for i, c := range cases {
		models[fmt.Sprintf("m%d", i)] = c.Model
	}
	client, _ := startGRPC(t, serve.Options{}, models)
	for i, c := range cases {
		for r, req := range c.Requests {
			for _, raw := range []bool{false, true} {
				resp, err := grpcInfer(t, client, fmt.Sprintf("m%d", i), &oip.InferRequest{Inputs: req.Inputs}, raw)
				if err != nil {
					t.Fatalf("%s request %d raw=%v: %v", c.Name, r, raw, err)
				}
				for _, want := range req.Want {
					if err := testenv.SameTensor(resp.Output(want.Name), jsonParams(want)); err != nil {
						t.Errorf("%s request %d raw=%v: %v", c.Name, r, raw, err)
					}
				}
			}
		}
	}
}

// jsonParams is want with its list parameters as gRPC carries them: JSON text.
func jsonParams(want *oip.Tensor) *oip.Tensor {
	if shapes, ok := want.Parameters["sequence_shapes"]; ok {
		w := *want
		text, _ := json.Marshal(shapes)
		w.Parameters = oip.Parameters{"sequence_shapes": string(text)}
		return &w
	}
	return want
}

// TestGRPCErrorsHaveTheirCodes checks the gRPC code of each kind of failure
// and that the server keeps answering after them.
func TestGRPCErrorsHaveTheirCodes(t *testing.T) {
	c, _ := startGRPC(t, serve.Options{}, map[string]*onnx.Model{"multi": testenv.MultiIOModel(t)})
	good := func(name string) *oip.Tensor { return oip.NewTensor(name, []int64{1, 3}, []float32{1, 2, 3}) }
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		req  *grpcpb.ModelInferRequest
		code codes.Code
	}{
		{"unknown model", &grpcpb.ModelInferRequest{ModelName: "nope"}, codes.NotFound},
		{"unknown version", &grpcpb.ModelInferRequest{ModelName: "multi", ModelVersion: "9"}, codes.NotFound},
		{"missing input", must(grpcpb.FromRequest("multi", "", &oip.InferRequest{Inputs: []*oip.Tensor{good("a")}}, true)), codes.InvalidArgument},
		{"bad datatype", &grpcpb.ModelInferRequest{ModelName: "multi", Inputs: []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "a", Datatype: "FP99"}}}, codes.InvalidArgument},
		{"short raw contents", &grpcpb.ModelInferRequest{ModelName: "multi",
			Inputs:           []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "a", Datatype: "FP32", Shape: []int64{1, 3}}, {Name: "b", Datatype: "FP32", Shape: []int64{1, 3}}},
			RawInputContents: [][]byte{make([]byte, 12), make([]byte, 8)}}, codes.InvalidArgument},
		{"raw for some inputs only", &grpcpb.ModelInferRequest{ModelName: "multi",
			Inputs:           []*grpcpb.ModelInferRequest_InferInputTensor{{Name: "a", Datatype: "FP32", Shape: []int64{1, 3}}, {Name: "b", Datatype: "FP32", Shape: []int64{1, 3}}},
			RawInputContents: [][]byte{make([]byte, 12)}}, codes.InvalidArgument},
		{"unknown output", must(grpcpb.FromRequest("multi", "", &oip.InferRequest{Inputs: []*oip.Tensor{good("a"), good("b")}, Outputs: []oip.RequestedOutput{{Name: "nope"}}}, false)), codes.InvalidArgument},
	} {
		_, err := c.ModelInfer(ctx, tc.req)
		if status.Code(err) != tc.code || status.Convert(err).Message() == "" {
			t.Errorf("%s: %v, want code %s", tc.name, err, tc.code)
		}
	}
	if _, err := c.ModelMetadata(ctx, &grpcpb.ModelMetadataRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("metadata of an unknown model: %v", err)
	}
	if _, err := c.RepositoryModelUnload(ctx, &grpcpb.RepositoryModelUnloadRequest{ModelName: "multi"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("unload without model control: %v", err)
	}
	// Still answering, in the form it was asked: raw outputs for raw
	// inputs (as Triton answers tritonclient), typed for typed.
	for _, raw := range []bool{true, false} {
		m := must(grpcpb.FromRequest("multi", "", &oip.InferRequest{Inputs: []*oip.Tensor{good("a"), good("b")}, Outputs: []oip.RequestedOutput{{Name: "sum"}}}, raw))
		out, err := c.ModelInfer(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(out.RawOutputContents) > 0; got != raw || (!raw && !slices.Equal(out.Outputs[0].Contents.GetFp32Contents(), []float32{2, 4, 6})) {
			t.Errorf("raw=%v: answered %v", raw, out)
		}
		resp, _ := grpcpb.ToResponse(out)
		if sum, _ := oip.Values[float32](resp.Output("sum")); !slices.Equal(sum, []float32{2, 4, 6}) {
			t.Errorf("raw=%v: sum after the errors: %v", raw, sum)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestGRPCMetadataHealthReflectionAndStream covers the RPCs around inference.
func TestGRPCMetadataHealthReflectionAndStream(t *testing.T) {
	c, conn := startGRPC(t, serve.Options{Version: "test"}, map[string]*onnx.Model{"vad": testenv.VADModel(t), "multi": testenv.MultiIOModel(t)})
	ctx := context.Background()
	if r, err := c.ServerLive(ctx, &grpcpb.ServerLiveRequest{}); err != nil || !r.Live {
		t.Errorf("live: %v %v", r, err)
	}
	if r, err := c.ServerReady(ctx, &grpcpb.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Errorf("ready: %v %v", r, err)
	}
	if r, err := c.ModelReady(ctx, &grpcpb.ModelReadyRequest{Name: "vad"}); err != nil || !r.Ready {
		t.Errorf("model ready: %v %v", r, err)
	}
	if r, err := c.ModelReady(ctx, &grpcpb.ModelReadyRequest{Name: "nope"}); err != nil || r.Ready {
		t.Errorf("unknown model ready: %v %v", r, err)
	}
	md, err := c.ServerMetadata(ctx, &grpcpb.ServerMetadataRequest{})
	if err != nil || md.Name != "kiln" || md.Version != "test" || !slices.Contains(md.Extensions, "statistics") {
		t.Errorf("server metadata: %v %v", md, err)
	}
	mm, err := c.ModelMetadata(ctx, &grpcpb.ModelMetadataRequest{Name: "vad"})
	if err != nil || mm.Platform != "onnxruntime_onnx" || len(mm.Inputs) != 3 || mm.Inputs[2].Name != "sr" || len(mm.Inputs[2].Shape) != 0 || mm.Inputs[2].Datatype != "INT64" {
		t.Errorf("model metadata: %v %v", mm, err)
	}
	cfg, err := c.ModelConfig(ctx, &grpcpb.ModelConfigRequest{Name: "multi"})
	if err != nil || cfg.Config.Platform != "onnxruntime_onnx" || cfg.Config.MaxBatchSize != 64 || len(cfg.Config.Input) != 2 ||
		cfg.Config.Input[0].DataType != grpcpb.DataType_TYPE_FP32 || !slices.Equal(cfg.Config.Input[0].Dims, []int64{3}) || cfg.Config.GetDynamicBatching() == nil {
		t.Errorf("model config: %v %v", cfg, err)
	}

	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "inference.GRPCInferenceService"})
	if err != nil || health.Status != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v %v", health, err)
	}
	refl, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refl.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	listed, err := refl.Recv()
	if err != nil || !slices.ContainsFunc(listed.GetListServicesResponse().GetService(), func(s *reflectionpb.ServiceResponse) bool { return s.Name == "inference.GRPCInferenceService" }) {
		t.Errorf("reflection lists %v (%v)", listed.GetListServicesResponse(), err)
	}
	refl.CloseSend()

	stream, err := c.ModelStreamInfer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good := must(grpcpb.FromRequest("multi", "", &oip.InferRequest{ID: "s1", Inputs: []*oip.Tensor{
		oip.NewTensor("a", []int64{1, 3}, []float32{1, 2, 3}), oip.NewTensor("b", []int64{1, 3}, []float32{1, 1, 1})}}, true))
	for _, r := range []*grpcpb.ModelInferRequest{good, {ModelName: "nope"}, good} {
		if err := stream.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	for i, wantErr := range []bool{false, true, false} {
		r, err := stream.Recv()
		if err != nil {
			t.Fatalf("stream answer %d: %v", i, err)
		}
		if (r.ErrorMessage != "") != wantErr || (!wantErr && r.InferResponse.GetId() != "s1") {
			t.Errorf("stream answer %d: %v", i, r)
		}
	}
}

// TestGRPCLargeRawRequest sends 100 MB of raw input contents and gets it
// back, byte for byte.
func TestGRPCLargeRawRequest(t *testing.T) {
	typ := onnx.TensorType(onnx.Float, -1, 1024)
	m, err := onnx.NewBuilder("identity").Input("x", typ).Node("Identity", []string{"x"}, []string{"y"}).Output("y", typ).Build()
	if err != nil {
		t.Fatal(err)
	}
	c, _ := startGRPC(t, serve.Options{BodyLimit: 256 << 20}, map[string]*onnx.Model{"identity": m})
	rows := int64(100 << 20 / 4096)
	data := make([]float32, rows*1024)
	for i := range data {
		data[i] = float32(i % 1000)
	}
	resp, err := grpcInfer(t, c, "identity", &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{rows, 1024}, data)}}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := oip.NewTensor("x", nil, data)
	if y := resp.Output("y"); y == nil || !slices.Equal(y.Shape, []int64{rows, 1024}) || !bytes.Equal(y.Raw, want.Raw) {
		t.Errorf("the 100 MB answer differs")
	}
}
