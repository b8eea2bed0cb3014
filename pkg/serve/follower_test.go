package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
	"github.com/kilnml/kiln/pkg/validate"
)

// startRegistry serves a registry over a folder store on loopback.
func startRegistry(t testing.TB) (*testenv.Registry, *registry.Client) {
	t.Helper()
	reg := testenv.StartRegistry(t, testenv.FolderStore(t, ""), storage.Options{}, server.Options{})
	return reg, reg.Client("")
}

// pushAdder pushes a model y = x + k (x float [-1,2]) with an input example.
func pushAdder(t testing.TB, client *registry.Client, name string, k float32, example string) *registry.Version {
	t.Helper()
	path := testenv.WriteModel(t, testenv.AdderModel(t, k))
	v, err := client.PushFile(context.Background(), name, path, registry.PushRequest{InputExample: json.RawMessage(example)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const goodExample = `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`

// follow serves adder@production from the registry with a fast poll,
// running the model's policy gates on this node.
func follow(t testing.TB, ctx context.Context, client *registry.Client, cacheDir string) (*serve.Manager, *httptest.Server) {
	t.Helper()
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	cache, err := serve.OpenCache(cacheDir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	models := serve.NewManager(serve.ManagerOptions{})
	ref, _ := registry.ParseRef("adder@production")
	f := serve.NewFollower(ref, client, cache, models, serve.FollowOptions{
		PollInterval: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Gates: serve.GatesFor(client, nil, "adder"),
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.Run(ctx)
	}()
	srv := httptest.NewServer(serve.NewServer(models, serve.Options{}).Handler())
	t.Cleanup(func() {
		srv.Close()
		<-done
		models.Close()
	})
	return models, srv
}

func waitVersion(t testing.TB, models *serve.Manager, want int64) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, func() bool {
		v, err := models.Get("adder", "")
		return err == nil && v.Number == want
	}, func() string {
		st, _ := models.Status("adder")
		return fmt.Sprintf("version %d never served; status %+v", want, st)
	})
}

// TestFollowSwapsWithoutFailedRequests follows an alias across a move while
// clients send requests without pause: no request fails, and each client
// sees version 1 and then only version 2.
func TestFollowSwapsWithoutFailedRequests(t *testing.T) {
	_, client := startRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushAdder(t, client, "adder", 1, goodExample)
	if _, err := client.SetAlias(ctx, "adder", "production", 1, nil); err != nil {
		t.Fatal(err)
	}
	models, srv := follow(t, ctx, client, t.TempDir())
	waitVersion(t, models, 1)
	if st, _ := models.Status("adder"); st.Ref != "adder@production" || st.Version != 1 || st.Digest == "" {
		t.Errorf("status %+v", st)
	}

	var sent, failed atomic.Int64
	var regressions atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	oc := oip.NewClient(srv.URL)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := int64(0)
			req := &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{0, 0})}}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := oc.Infer(ctx, "adder", "", req, false)
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				v, _ := strconv.ParseInt(resp.ModelVersion, 10, 64)
				y, _ := oip.Values[float32](resp.Outputs[0])
				if v < seen || float32(v) != y[0] {
					regressions.Add(1)
				}
				seen = v
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	pushAdder(t, client, "adder", 2, goodExample)
	if _, err := client.SetAlias(ctx, "adder", "production", 2, nil); err != nil {
		t.Fatal(err)
	}
	waitVersion(t, models, 2)
	for sent.Load() < 2000 {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d requests across the swap, %d failed", sent.Load(), failed.Load())
	if failed.Load() != 0 || regressions.Load() != 0 {
		t.Errorf("%d failed requests, %d answers from an older version or with the wrong values", failed.Load(), regressions.Load())
	}
	st, _ := models.Status("adder")
	if st.LastSwap == nil || st.LastSwap.From != 1 || st.LastSwap.To != 2 || st.LastSwap.Load <= 0 {
		t.Errorf("last swap %+v", st.LastSwap)
	}
}

// TestFailedVersionKeepsOldOneAndCacheServesWhileRegistryIsDown pushes a
// version whose warm-up fails (its input example does not fit), checks the
// old version keeps serving with the reason in the status, then stops the
// registry and starts a second node on the same cache.
func TestFailedVersionKeepsOldOneAndCacheServesWhileRegistryIsDown(t *testing.T) {
	regSrv, client := startRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cacheDir := filepath.Join(t.TempDir(), "cache")
	pushAdder(t, client, "adder", 1, goodExample)
	client.SetAlias(ctx, "adder", "production", 1, nil)
	models, _ := follow(t, ctx, client, cacheDir)
	waitVersion(t, models, 1)

	pushAdder(t, client, "adder", 2, `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`)
	client.SetAlias(ctx, "adder", "production", 2, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := models.Status("adder")
		if st.LastError != "" {
			if st.Version != 1 {
				t.Errorf("status version %d after a failed update, want 1", st.Version)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed update was not reported in the status")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if v, _ := models.Get("adder", ""); v.Number != 1 {
		t.Fatalf("serving version %d after a failed update, want 1", v.Number)
	}

	regSrv.Close() // the registry goes down: the node keeps serving
	time.Sleep(100 * time.Millisecond)
	if v, err := models.Get("adder", ""); err != nil || v.Number != 1 {
		t.Fatalf("with the registry down: %v %v", v, err)
	}
	restarted, _ := follow(t, ctx, client, cacheDir)
	waitVersion(t, restarted, 1)
	if !restarted.Ready() {
		t.Error("a node serving its cached version is not ready")
	}
}

// TestVersionOverTheNodesLatencyBudgetIsNeverServed sets a policy whose
// latency budget no model meets: the registry (static gates) lets the alias
// move, the node measures the latency, refuses the version, keeps the old
// one and shows the report in the status.
func TestVersionOverTheNodesLatencyBudgetIsNeverServed(t *testing.T) {
	_, client := startRegistry(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pushAdder(t, client, "adder", 1, goodExample)
	client.SetAlias(ctx, "adder", "production", 1, nil)
	models, srv := follow(t, ctx, client, t.TempDir())
	waitVersion(t, models, 1)

	policy, err := validate.ParsePolicy([]byte("latency: {p99: 1ns}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SetPolicy(ctx, "adder", policy); err != nil {
		t.Fatal(err)
	}
	pushAdder(t, client, "adder", 2, goodExample)
	if _, err := client.SetAlias(ctx, "adder", "production", 2, nil); err != nil {
		t.Fatalf("the registry refused a move that only a runtime gate can judge: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var st serve.ModelStatus
	for time.Now().Before(deadline) {
		if st, _ = models.Status("adder"); st.LastError != "" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	report, ok := st.LastReport.(validate.Report)
	if !ok || report.Passed || report.Version != 2 || !strings.Contains(report.Table(), "latency") {
		t.Fatalf("status %+v: want a failed latency report for version 2", st)
	}
	if v, _ := models.Get("adder", ""); v.Number != 1 || st.Version != 1 {
		t.Errorf("serving %d (status %d) after a version failed the node's gates, want 1", v.Number, st.Version)
	}
	metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`kiln_model_load_failures_total{model="adder",stage="validate"} `,
		`kiln_model_load_failures_total{model="adder",stage="download"} 0`,
		`kiln_model_swaps_total{model="adder"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, `kiln_model_load_failures_total{model="adder",stage="validate"} 0`) {
		t.Error("the validation failure was not counted")
	}
}
