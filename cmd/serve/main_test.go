package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/oip/grpcpb"
)

// buildServe compiles kiln-serve into a temporary folder.
func buildServe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiln-serve")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeBinary(t *testing.T) {
	bin := buildServe(t)
	lib := testenv.ORTLibrary(t)

	t.Run("missing library is one clear line", func(t *testing.T) {
		cmd := exec.Command(bin, "--model", "iris=../../examples/iris/model.onnx", "--ort-lib", "/nonexistent/libonnxruntime.so.1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if cmd.ProcessState.ExitCode() != 1 || len(lines) != 1 || !strings.Contains(lines[0], "scripts/setup-ort.sh") {
			t.Errorf("exit %v, stderr %q: want exit 1 and one line saying how to install", err, stderr.String())
		}
	})

	t.Run("bad usage exits 2", func(t *testing.T) {
		cmd := exec.Command(bin, "--model", "Bad Name=x.onnx")
		cmd.Env = append(os.Environ(), "KILN_ORT_LIB="+lib)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "model name") {
			t.Errorf("exit %d, output %q", cmd.ProcessState.ExitCode(), out)
		}
		cmd = exec.Command(bin)
		out, _ = cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "--model") {
			t.Errorf("no models: exit %d, output %q", cmd.ProcessState.ExitCode(), out)
		}
	})

	t.Run("SIGTERM finishes requests in flight, REST and gRPC", func(t *testing.T) {
		model := testenv.WriteModel(t, testenv.SlowModel(t, 100))
		addr := freeAddr(t)
		logDir := t.TempDir()
		cmd := exec.Command(bin, "--model", "slow="+model, "--prediction-log-dir", logDir, "--prediction-log-sample-rate", "1")
		grpcAddr := freeAddr(t)
		cmd.Env = append(os.Environ(), "KILN_ORT_LIB="+lib, "KILN_ADDR="+addr, "KILN_GRPC_ADDR="+grpcAddr, "KILN_LOG_FORMAT=json")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		client := oip.NewClient("http://" + addr)
		waitReady(t, client)

		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		grpcClient := grpcpb.NewGRPCInferenceServiceClient(conn)

		const rows = 32
		req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{rows, 1024}, make([]float32, rows*1024))}}
		done := make(chan error, 2)
		var resp *oip.InferResponse
		var grpcResp *grpcpb.ModelInferResponse
		go func() {
			var err error
			resp, err = client.Infer(context.Background(), "slow", "", req, true)
			done <- err
		}()
		go func() {
			var err error
			grpcResp, err = grpcClient.ModelInfer(context.Background(), must(grpcpb.FromRequest("slow", "", req, true)))
			done <- err
		}()
		time.Sleep(300 * time.Millisecond) // the requests are now running
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := <-done; err != nil {
				t.Fatalf("request in flight at SIGTERM failed: %v\n%s", err, stderr.String())
			}
		}
		if fmt.Sprint(resp.Outputs[0].Shape) != fmt.Sprintf("[%d 1024]", rows) {
			t.Errorf("output shape %v", resp.Outputs[0].Shape)
		}
		if fmt.Sprint(grpcResp.GetOutputs()[0].GetShape()) != fmt.Sprintf("[%d 1024]", rows) {
			t.Errorf("gRPC output shape %v", grpcResp.GetOutputs())
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "shutting down") {
			t.Errorf("the shutdown was not logged:\n%s", stderr.String())
		}
		logs, _ := filepath.Glob(filepath.Join(logDir, "predictions-*.jsonl"))
		if len(logs) != 1 {
			t.Fatalf("prediction log files after shutdown: %v", logs)
		}
		if data, _ := os.ReadFile(logs[0]); !strings.Contains(string(data), `"model":"slow"`) {
			t.Errorf("the request in flight at SIGTERM is not in the prediction log: %.200s", data)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func waitReady(t *testing.T, client *oip.Client) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if ok, _ := client.Ready(context.Background()); ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("kiln-serve did not become ready")
}
