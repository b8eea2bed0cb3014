package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
)

// builtBinary is kiln-registry compiled once for all tests of the package.
var builtBinary string

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBinary != "" {
		os.RemoveAll(filepath.Dir(builtBinary))
	}
	os.Exit(code)
}

// buildRegistry compiles kiln-registry without cgo, as it is released.
func buildRegistry(t *testing.T) string {
	t.Helper()
	if builtBinary != "" {
		return builtBinary
	}
	dir, err := os.MkdirTemp("", "kiln-registry-bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kiln-registry")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build with CGO_ENABLED=0: %v\n%s", err, out)
	}
	builtBinary = bin
	return bin
}

// process is a running kiln-registry.
type process struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{} // closed once the process has exited
}

// startProcess runs kiln-registry on a free loopback port against the
// versitygw bucket, with credentials from the AWS_* environment (the
// credential chain), and waits until /healthz answers.
func startProcess(t *testing.T, bin string, s3 *testenv.S3) *process {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--addr", addr, "--store", "s3://"+s3.Bucket+"/models-prefix", "--s3-endpoint", s3.Endpoint,
		"--s3-path-style", "--auth=none", "--log-format", "json")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s3.AccessKey, "AWS_SECRET_ACCESS_KEY="+s3.SecretKey, "AWS_REGION="+s3.Region)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.stop)
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("kiln-registry exited before serving: %s", logs.String())
		case <-time.After(delay):
		}
	}
}

// stop interrupts the process (a graceful shutdown) and waits for it.
func (p *process) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	<-p.exited
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes.
func (p *process) peakRSS(t *testing.T) int64 {
	t.Helper()
	return testenv.ProcStatusKiB(t, p.cmd.Process.Pid, "VmHWM") << 10
}

func TestProcessesShareBucketAndSurviveRestart(t *testing.T) {
	bin := buildRegistry(t)
	s3 := testenv.NewS3(t)
	a, b := startProcess(t, bin, s3), startProcess(t, bin, s3)
	ctx := context.Background()
	data, _ := testenv.AdderModel(t, 5).Bytes()
	v, err := registry.NewClient(a.url, "", nil).Push(ctx, "shared", registry.PushRequest{Digest: registry.Digest(data)}, bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.NewClient(b.url, "", nil).SetAlias(ctx, "shared", "prod", v.Version, nil); err != nil {
		t.Fatalf("second process sets an alias on the first one's version: %v", err)
	}
	a.stop()
	restarted := startProcess(t, bin, s3)
	var buf bytes.Buffer
	got, err := registry.NewClient(restarted.url, "", nil).Download(ctx, registry.Ref{Name: "shared", Alias: "prod"}, &buf)
	if err != nil || got.Version != 1 || !bytes.Equal(buf.Bytes(), data) {
		t.Fatalf("after restart, shared@prod: %+v, %v", got, err)
	}
}

// TestLargeModelMemory pushes and pulls a 1 GiB model through a
// kiln-registry process and checks its peak RSS grows by under 64 MiB.
func TestLargeModelMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1 GiB through S3; skipped with -short")
	}
	const size, budget = 1 << 30, 64 << 20
	bin := buildRegistry(t)
	s3 := testenv.NewS3(t)
	p := startProcess(t, bin, s3)
	ctx := context.Background()
	client := registry.NewClient(p.url, "", nil)

	path := filepath.Join(t.TempDir(), "big.onnx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.AdderModel(t, 1).WriteWithRawInitializer(f, "weights", onnx.Uint8, []int64{size}, io.LimitReader(pattern{}, size)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Warm up with a small push and pull so the baseline includes the
	// server's steady-state allocations.
	small, _ := testenv.AdderModel(t, 2).Bytes()
	if _, err := client.Push(ctx, "warm", registry.PushRequest{Digest: registry.Digest(small)}, bytes.NewReader(small), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Download(ctx, registry.Ref{Name: "warm", Version: 1}, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := p.peakRSS(t)

	v, err := client.PushFile(ctx, "big", path, registry.PushRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Download(ctx, v.Ref(), io.Discard); err != nil {
		t.Fatal(err)
	}
	after := p.peakRSS(t)
	t.Logf("peak RSS %d MiB before, %d MiB after pushing and pulling %d MiB: growth %d MiB",
		before>>20, after>>20, v.Size>>20, (after-before)>>20)
	if after-before >= budget {
		t.Fatalf("peak RSS grew by %d MiB, budget %d MiB", (after-before)>>20, budget>>20)
	}
}

// pattern yields non-zero, non-repeating-per-part bytes.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return len(p), nil
}
