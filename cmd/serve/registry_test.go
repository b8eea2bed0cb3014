package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/validate"
)

// startProcess starts a built binary and stops it at the end of the test.
func startProcess(t *testing.T, env []string, bin string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, &out
}

// TestServeFollowsRegistryOnS3 runs kiln-registry on a real S3 server and
// kiln-serve following name@production, as processes: a version failing a
// metric gate cannot be promoted, a passing one is swapped in while clients
// send requests without pause, none of which fails, and predictions go on
// after the registry is killed.
func TestServeFollowsRegistryOnS3(t *testing.T) {
	s3 := testenv.NewS3(t)
	serveBin := buildServe(t)
	registryBin := filepath.Join(t.TempDir(), "kiln-registry")
	build := exec.Command("go", "build", "-o", registryBin, "../registry")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build kiln-registry: %v\n%s", err, out)
	}

	regAddr := freeAddr(t)
	registryProc, regLog := startProcess(t, []string{
		"AWS_ACCESS_KEY_ID=" + s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3.SecretKey, "AWS_REGION=" + s3.Region,
	}, registryBin, "--addr", regAddr, "--auth", "none", "--store", "s3://"+s3.Bucket+"/kiln", "--s3-endpoint", s3.Endpoint, "--s3-path-style", "--log-format", "json")
	ctx := context.Background()
	client := registry.NewClient("http://"+regAddr, "", nil)
	waitFor(t, func() bool { _, err := client.ListModels(ctx, registry.Page{}); return err == nil }, regLog)

	push := func(k float32, accuracy float64) int {
		path := testenv.WriteModel(t, testenv.AdderModel(t, k))
		v, err := client.PushFile(ctx, "adder", path, registry.PushRequest{Metrics: map[string]float64{"accuracy": accuracy}})
		if err != nil {
			t.Fatal(err)
		}
		return v.Version
	}
	policy, err := validate.ParsePolicy([]byte("metrics: {accuracy: {min: 0.9}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v := push(1, 0.95); v != 1 {
		t.Fatalf("first push got version %d", v)
	}
	if _, err := client.SetPolicy(ctx, "adder", policy); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetAlias(ctx, "adder", "production", 1, nil); err != nil {
		t.Fatal(err)
	}

	serveAddr := freeAddr(t)
	_, serveLog := startProcess(t, []string{"KILN_ORT_LIB=" + testenv.ORTLibrary(t), "KILN_NODE_ID=edge-1"}, serveBin,
		"--addr", serveAddr, "--grpc-addr", "", "--registry", "http://"+regAddr, "--model", "adder@production",
		"--poll-interval", "50ms", "--heartbeat-interval", "100ms", "--cache-dir", t.TempDir(), "--log-format", "json")
	oc := oip.NewClient("http://" + serveAddr)
	waitReady(t, oc)

	// Clients send requests without pause while versions change.
	var mu sync.Mutex
	var sent, failed int
	var seen []string
	answeredBy := map[int]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			latest := 0
			req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{0, 0})}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := oc.Infer(ctx, "adder", "", req, false)
				mu.Lock()
				sent++
				if err != nil {
					failed++
					seen = append(seen, err.Error())
				} else {
					v, _ := strconv.Atoi(resp.ModelVersion)
					y, _ := oip.Values[float32](resp.Outputs[0])
					if (v != 1 && v != 3) || v < latest || float32(map[int]float32{1: 1, 3: 3}[v]) != y[0] {
						seen = append(seen, fmt.Sprintf("version %s answered %v after version %d", resp.ModelVersion, y, latest))
					}
					latest = max(latest, v)
					answeredBy[v]++
				}
				mu.Unlock()
			}
		}()
	}

	v2 := push(2, 0.5)
	_, err = client.SetAlias(ctx, "adder", "production", v2, nil)
	var apiErr *registry.APIError
	if !errors.Is(err, registry.ErrConflict) || !errors.As(err, &apiErr) || apiErr.Report == nil || apiErr.Report.Passed {
		t.Fatalf("moving production to a version below the accuracy threshold: %v, want a 409 with a failed report", err)
	}
	v3 := push(3, 0.97)
	if _, err := client.SetAlias(ctx, "adder", "production", v3, nil); err != nil {
		t.Fatalf("moving production to a passing version: %v", err)
	}
	waitFor(t, func() bool {
		resp, err := oc.Infer(ctx, "adder", "", &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{0, 0})}}, false)
		return err == nil && resp.ModelVersion == "3"
	}, serveLog)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return sent >= 2000 }, serveLog)
	// The node reports itself and what it serves to the registry.
	waitFor(t, func() bool {
		nodes, err := client.ListNodes(ctx)
		return err == nil && len(nodes) == 1 && nodes[0].Node == "edge-1" && nodes[0].Address == "http://"+serveAddr &&
			nodes[0].Model("adder") != nil && nodes[0].Model("adder").Version == 3 && nodes[0].Model("adder").RequestRate > 0
	}, serveLog)

	// The registry goes away: the node keeps answering.
	registryProc.Process.Kill()
	registryProc.Wait()
	mu.Lock()
	before := sent
	mu.Unlock()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return sent >= before+500 }, serveLog)
	close(stop)
	wg.Wait()
	t.Logf("%d requests across the swap and the registry's death, %d failed", sent, failed)
	if answeredBy[1] == 0 || answeredBy[3] == 0 {
		t.Errorf("answers by version %v: want both 1 (before the swap) and 3 (after)", answeredBy)
	}
	if failed != 0 || len(seen) != 0 {
		t.Errorf("%d failed requests; problems: %.5q", failed, seen)
	}
}

// waitFor polls cond for up to 30 seconds, failing with the process log.
func waitFor(t *testing.T, cond func() bool, log *bytes.Buffer) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, cond, func() string { return "log:\n" + log.String() })
}
