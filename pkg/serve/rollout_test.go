package serve_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// startRollout serves adder@production from the registry with the given
// rollout settings, following the canary and shadow references as
// kiln-serve does, and reporting stopped rollouts to the registry.
func startRollout(t *testing.T, client *registry.Client, cfg serve.ModelConfig) (*serve.Manager, *oip.Client) {
	t.Helper()
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	settings := &serve.Config{Models: map[string]serve.ModelConfig{"adder": cfg}}
	if err := settings.Validate(func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	models := serve.NewManager(serve.ManagerOptions{Config: settings, Logger: quiet, RolloutStopped: func(e serve.RolloutEvent) {
		client.ReportRolloutStop(context.Background(), e.Model, registry.RolloutReport{Role: e.Role, Version: int(e.Version), Node: "test-node", Reason: e.Reason})
	}})
	cache, err := serve.OpenCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := registry.ParseRef("adder@production")
	repo := serve.NewRepository(models, serve.RepositoryOptions{Refs: []registry.Ref{ref}, Logger: quiet,
		Follow: func(ctx context.Context, ref registry.Ref, role string) {
			serve.NewFollower(ref, client, cache, models, serve.FollowOptions{PollInterval: 20 * time.Millisecond, Watch: 30 * time.Second, Logger: quiet, Role: role}).Run(ctx)
		}})
	ctx, cancel := context.WithCancel(context.Background())
	if err := repo.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.NewServer(models, serve.Options{Logger: quiet}).Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		repo.Wait()
		models.Close()
	})
	slots := []string{"adder"}
	if cfg.Canary != nil {
		slots = append(slots, "adder@canary")
	}
	if cfg.Shadow != nil {
		slots = append(slots, "adder@shadow")
	}
	for _, slot := range slots {
		testenv.Eventually(t, 20*time.Second, func() bool { _, err := models.Get(slot, ""); return err == nil }, func() string { return slot + " never loaded" })
	}
	return models, oip.NewClient(srv.URL)
}

// rolloutRegistry holds adder versions 1 (y = x + 1) and 2 (y = x + 2) with
// production at 1 and candidate at 2.
func rolloutRegistry(t *testing.T) *registry.Client {
	t.Helper()
	_, client := startRegistry(t)
	pushAdder(t, client, "adder", 1, goodExample)
	pushAdder(t, client, "adder", 2, goodExample)
	ctx := context.Background()
	for alias, v := range map[string]int{"production": 1, "candidate": 2} {
		if _, err := client.SetAlias(ctx, "adder", alias, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	return client
}

func adderRequest(x float32) *oip.InferRequest {
	return &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("x", []int64{1, 2}, []float32{x, x})}}
}

// answeredBy sends one request and returns the version that answered,
// checking that the answer is that version's (y = x + version).
func answeredBy(t *testing.T, c *oip.Client, req *oip.InferRequest, x float32) int {
	t.Helper()
	resp, err := c.Infer(context.Background(), "adder", "", req, true)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(resp.ModelVersion)
	y, _ := oip.Values[float32](resp.Outputs[0])
	if len(y) != 2 || y[0] != x+float32(v) {
		t.Fatalf("version %d answered %v for x = %v", v, y, x)
	}
	return v
}

// TestCanarySharesTraffic sends 5,000 requests with a 10% canary: the
// candidate answers 10% ± 2% of them, each with its own answer.
func TestCanarySharesTraffic(t *testing.T) {
	client := rolloutRegistry(t)
	models, c := startRollout(t, client, serve.ModelConfig{Canary: &serve.TrafficSplit{Ref: "adder@candidate", Percent: 10}})
	byCanary := 0
	const n = 5000
	for i := range n {
		if answeredBy(t, c, adderRequest(float32(i%7)), float32(i%7)) == 2 {
			byCanary++
		}
	}
	share := float64(byCanary) / n
	if math.Abs(share-0.10) > 0.02 {
		t.Errorf("the canary answered %.1f%% of %d requests, want 10%% ± 2%%", 100*share, n)
	}
	rep, ok := models.Rollout("adder")
	if !ok || rep.Roles["canary"].Requests != int64(byCanary) || rep.Roles["primary"].Requests != int64(n-byCanary) || rep.Roles["canary"].Version != "2" || len(rep.Stopped) != 0 {
		t.Errorf("rollout report %+v after %d canary answers", rep, byCanary)
	}
}

// TestStickyKeysKeepTheirVersion sends requests from 300 users, five each:
// a user always meets the same version, and some users meet each.
func TestStickyKeysKeepTheirVersion(t *testing.T) {
	client := rolloutRegistry(t)
	_, c := startRollout(t, client, serve.ModelConfig{
		Canary: &serve.TrafficSplit{Ref: "adder@candidate", Percent: 20},
		Sticky: &serve.StickyConfig{Header: "X-User-Id"},
	})
	counts := map[int]int{}
	for user := range 300 {
		hc := headerClient(map[string]string{"X-User-Id": "user-" + strconv.Itoa(user)})
		uc := oip.NewClient(c.BaseURL)
		uc.HTTP = hc
		first := answeredBy(t, uc, adderRequest(1), 1)
		for range 4 {
			if v := answeredBy(t, uc, adderRequest(1), 1); v != first {
				t.Fatalf("user %d met version %d, then %d", user, first, v)
			}
		}
		counts[first]++
	}
	if counts[1] == 0 || counts[2] == 0 || counts[2] > 120 {
		t.Errorf("users per version %v: want both, about 20%% on the canary", counts)
	}
}

// TestShadowNeverChangesAnswers mirrors every request to a shadow of the
// same model: the answers are the primary's, the shadow's agree, and a
// shadow that disagrees (another version) is stopped by its rule.
func TestShadowNeverChangesAnswers(t *testing.T) {
	client := rolloutRegistry(t)
	if _, err := client.SetAlias(context.Background(), "adder", "twin", 1, nil); err != nil {
		t.Fatal(err)
	}
	models, c := startRollout(t, client, serve.ModelConfig{Shadow: &serve.TrafficSplit{Ref: "adder@twin", Percent: 100}})
	for i := range 300 {
		if v := answeredBy(t, c, adderRequest(float32(i)), float32(i)); v != 1 {
			t.Fatalf("request %d answered by version %d with a shadow", i, v)
		}
	}
	rep := waitRollout(t, models, func(r serve.RolloutReport) bool { return r.Compared+int(r.Dropped) >= 300 || r.Compared >= 200 })
	if rep.Agreement == nil || *rep.Agreement != 1 || rep.Roles["shadow"].Requests == 0 || len(rep.Stopped) != 0 {
		t.Errorf("twin shadow: %+v", rep)
	}
	metrics := getText(t, c.BaseURL+"/metrics")
	for _, want := range []string{`kiln_rollout_shadow_agreement_ratio{model="adder"} 1`, `kiln_rollout_stopped{model="adder",role="shadow"} 0`, `kiln_inference_requests_total{code="200",model="adder",protocol="rest",role="primary",version="1"} 300`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, metrics)
		}
	}

	// Version 2 answers x+2 where the primary answers x+1: it disagrees.
	models2, c2 := startRollout(t, client, serve.ModelConfig{Shadow: &serve.TrafficSplit{Ref: "adder@candidate", Percent: 100}, Rollback: serve.RollbackRules{Window: 50}})
	for i := range 300 {
		answeredBy(t, c2, adderRequest(float32(i)), float32(i))
	}
	rep = waitRollout(t, models2, func(r serve.RolloutReport) bool { _, ok := r.Stopped["shadow"]; return ok })
	if _, stopped := rep.Stopped["shadow"]; !stopped || rep.Agreement == nil || *rep.Agreement != 0 {
		t.Errorf("disagreeing shadow: %+v", rep)
	}
}

func waitRollout(t *testing.T, models *serve.Manager, done func(serve.RolloutReport) bool) serve.RolloutReport {
	t.Helper()
	var rep serve.RolloutReport
	testenv.Eventually(t, 20*time.Second, func() bool {
		rep, _ = models.Rollout("adder")
		return done(rep)
	}, func() string { return fmt.Sprintf("rollout report %+v", rep) })
	return rep
}

// failingAdder returns y = x + 2 that fails inside ONNX Runtime when an
// element of x is 10 or more (it gathers from a 10-entry table at x).
func failingAdder(t *testing.T) *onnx.Model {
	t.Helper()
	m, err := onnx.NewBuilder("fragile").
		Input("x", onnx.TensorType(onnx.Float, -1, 2)).
		Initializer("two", onnx.Float, []int64{1}, []float32{2}).
		Initializer("table", onnx.Float, []int64{10}, make([]float32, 10)).
		Node("Cast", []string{"x"}, []string{"index"}, onnx.AttrInt("to", int64(onnx.Int64))).
		Node("Gather", []string{"table", "index"}, []string{"zeros"}).
		Node("Add", []string{"x", "zeros"}, []string{"x0"}).
		Node("Add", []string{"x0", "two"}, []string{"y"}).
		Output("y", onnx.TensorType(onnx.Float, -1, 2)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFailingCanaryIsStopped runs a canary that fails on 5% of requests:
// its rule stops it, traffic returns to the primary, no client sees a
// failure (a failed canary request is answered by the primary), and the
// registry's audit log has the rollout.stopped event.
func TestFailingCanaryIsStopped(t *testing.T) {
	_, client := startRegistry(t)
	ctx := context.Background()
	pushAdder(t, client, "adder", 1, goodExample)
	fragile, err := client.PushFile(ctx, "adder", testenv.WriteModel(t, failingAdder(t)), registry.PushRequest{})
	if err != nil {
		t.Fatal(err)
	}
	client.SetAlias(ctx, "adder", "production", 1, nil)
	client.SetAlias(ctx, "adder", "candidate", fragile.Version, nil)
	models, c := startRollout(t, client, serve.ModelConfig{Canary: &serve.TrafficSplit{Ref: "adder@candidate", Percent: 50}})
	for i := range 2000 {
		x := float32(i % 3)
		if i%20 == 0 {
			x = 50 // the canary fails on it; the primary does not
		}
		answeredBy(t, c, adderRequest(x), x) // fails the test on any failed request
	}
	rep, _ := models.Rollout("adder")
	stopped, ok := rep.Stopped["canary"]
	if !ok || rep.Roles["canary"].Errors < 3 || rep.Roles["canary"].Requests > 400 {
		t.Fatalf("the failing canary was not stopped in time: %+v", rep)
	}
	t.Logf("stopped after %d canary requests (%d failed): %s", rep.Roles["canary"].Requests, rep.Roles["canary"].Errors, stopped.Reason)
	for range 100 {
		if v := answeredBy(t, c, adderRequest(1), 1); v != 1 {
			t.Fatalf("after the stop, version %d answered", v)
		}
	}
	var events *registry.EventList
	testenv.Eventually(t, 10*time.Second, func() bool {
		var err error
		if events, err = client.ListEvents(ctx, "adder", registry.Page{}); err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(events.Events, func(e registry.Event) bool {
			return e.Type == registry.EventRolloutStopped && e.Role == "canary" && e.Version == fragile.Version && e.Node == "test-node" && e.Reason != ""
		})
	}, func() string { return fmt.Sprintf("no rollout.stopped event in the audit log: %+v", events.Events) })
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.Status + "\n" + string(data)
}

// headerClient is an HTTP client that sends the given headers with every request.
func headerClient(headers map[string]string) *http.Client {
	return &http.Client{Transport: headerTransport(headers)}
}

type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestRemovingTheCanaryAliasStopsIt removes the candidate alias (kiln alias
// rm NAME candidate): the node stops sending the canary traffic.
func TestRemovingTheCanaryAliasStopsIt(t *testing.T) {
	client := rolloutRegistry(t)
	models, c := startRollout(t, client, serve.ModelConfig{Canary: &serve.TrafficSplit{Ref: "adder@candidate", Percent: 50}})
	if err := client.DeleteAlias(context.Background(), "adder", "candidate", nil); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, func() bool { _, err := models.Get("adder@canary", ""); return err != nil },
		func() string { return "the canary version still serves after its alias was removed" })
	for range 200 {
		if v := answeredBy(t, c, adderRequest(1), 1); v != 1 {
			t.Fatalf("version %d answered after the canary alias was removed", v)
		}
	}
}
