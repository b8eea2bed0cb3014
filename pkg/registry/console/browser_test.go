package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
	"github.com/kilnml/kiln/pkg/validate"
)

// browser starts headless Chromium with a fresh profile and returns a
// context that drives one tab.
func browser(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(testenv.Chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshots is where the browser test saves its screenshots:
// $KILN_CONSOLE_SCREENSHOTS, else a temporary folder.
func screenshots(t *testing.T) string {
	if dir := os.Getenv("KILN_CONSOLE_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// irisVersion pushes the example classifier with a reference profile of
// the Iris rows and the model's outputs on them, and an input example.
func irisVersion(t *testing.T, s *site, rows [][]float64, accuracy float64) {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(t), "examples", "iris", "model.onnx")
	m, err := runtime.Load(path, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := irisdata.Profile(context.Background(), m, rows)
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := json.Marshal(p)
	model, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Svc.PutReferenceProfile(ctx, registry.Digest(profile), bytes.NewReader(profile)); err != nil {
		t.Fatal(err)
	}
	_, err = s.Svc.Push(ctx, "iris", registry.PushRequest{
		Digest: registry.Digest(model), ReferenceProfileDigest: registry.Digest(profile), Description: "softmax regression on Iris",
		Metrics:      map[string]float64{"accuracy": accuracy},
		InputExample: json.RawMessage(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}`),
	}, bytes.NewReader(model), "ci")
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInBrowser drives the console in headless Chromium against a
// real registry and a real serving node on loopback: sign in, list models,
// open a version, see the node, move production and see it refused with
// the gate report, force it as admin, see the node serve the new version,
// see a drift chart after shifted traffic, try a prediction, and look at
// a phone-width page. Screenshots go to $KILN_CONSOLE_SCREENSHOTS.
func TestConsoleInBrowser(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	shots := screenshots(t)
	ctx := browser(t)
	s := newSite(t, true)
	data, err := irisdata.Read(filepath.Join(testenv.RepoRoot(t), "examples", "iris", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := data.Rows
	irisVersion(t, s, rows, 0.98)
	irisVersion(t, s, rows, 0.5)
	setupCtx := context.Background()
	policy, err := validate.ParsePolicy([]byte("metrics: {accuracy: {min: 0.9}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.SetPolicy(setupCtx, "iris", policy, "ci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.SetAlias(setupCtx, "iris", "production", 1, nil, "ci"); err != nil {
		t.Fatal(err)
	}

	// A serving node following iris@production, reporting every 100ms.
	quiet := slog.New(slog.DiscardHandler)
	client := registry.NewClient(s.URL, s.Tokens["reader"], nil)
	cache, err := serve.OpenCache(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &serve.Config{Models: map[string]serve.ModelConfig{"iris": {Drift: serve.DriftConfig{Config: drift.Config{WindowRows: len(rows)}}}}}
	models := serve.NewManager(serve.ManagerOptions{Config: cfg})
	node := httptest.NewServer(serve.NewServer(models, serve.Options{Logger: quiet}).Handler())
	nodeCtx, stopNode := context.WithCancel(setupCtx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		ref, _ := registry.ParseRef("iris@production")
		serve.NewFollower(ref, client, cache, models, serve.FollowOptions{PollInterval: 50 * time.Millisecond, Logger: quiet}).Run(nodeCtx)
	}()
	go serve.NewReporter(client, models, serve.HeartbeatOptions{Node: "edge-1", Address: node.URL, Interval: 100 * time.Millisecond, Build: "test", Logger: quiet}).Run(nodeCtx)
	t.Cleanup(func() {
		stopNode()
		<-followed
		node.Close()
		models.Close()
	})

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), png, 0o644)
		})
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return out
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`))
		if err != nil {
			t.Fatalf("count %s: %v", sel, err)
		}
		return n
	}
	// waitText reloads path until sel's text holds every want.
	waitText := func(path, sel string, want ...string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			run("open "+path, chromedp.Navigate(s.URL+path), chromedp.WaitReady(chromedp.CSS("body")))
			got := text(sel)
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(got, w)
			}
			if ok {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never showed %q; it shows:\n%s", path, want, got)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	signIn := func(role string) {
		t.Helper()
		run("sign in as "+role,
			chromedp.Navigate(s.URL+"/models/iris"),
			chromedp.WaitVisible(chromedp.CSS(`#sign-in`)),
			chromedp.SendKeys(chromedp.CSS(`#sign-in input[name=token]`), s.Tokens[role]),
			chromedp.Click(chromedp.CSS(`#sign-in button`)),
			chromedp.WaitVisible(chromedp.CSS(`#alias-table`)),
		)
	}
	// move asks to move production to version 2 and confirms.
	move := func() {
		t.Helper()
		run("move production",
			chromedp.Navigate(s.URL+"/models/iris"),
			chromedp.SendKeys(chromedp.CSS(`#alias-table input[name=version]`), "2"),
			chromedp.Click(chromedp.CSS(`#alias-table button`)),
			chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
			chromedp.Click(chromedp.CSS(`#confirm button`)),
		)
	}

	signIn("writer")
	run("list models", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#models`)))
	if got := text(`#models`); !strings.Contains(got, "iris") || !strings.Contains(got, "production → 1") {
		t.Errorf("models table: %q", got)
	}
	waitText("/nodes", "main", "edge-1", "ready", "version 1")
	run("nodes", shot("nodes.png"))
	waitText("/", "#models", "edge-1: v1")
	run("models", shot("models.png"))
	run("open a version",
		chromedp.Click(chromedp.CSS(`a[href="/models/iris/versions/1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signature`)),
	)
	if got := text("main"); !strings.Contains(got, "petal_length") || !strings.Contains(got, "FP32") || !strings.Contains(got, "150 reference rows") {
		t.Errorf("version page: %q", got)
	}
	run("version", shot("version.png"))

	move()
	run("refused", chromedp.WaitVisible(chromedp.CSS(`#gate-report`)))
	if got := text(`#gate-report`); !strings.Contains(got, "metric:accuracy") || !strings.Contains(got, "FAILED") || !strings.Contains(got, "0.5") {
		t.Errorf("gate report: %q", got)
	}
	if count("#force") != 0 {
		t.Error("a writer is offered to force the move")
	}
	run("refused", shot("refused.png"))

	run("sign out", chromedp.Click(chromedp.CSS(`header form button`)), chromedp.WaitVisible(chromedp.CSS(`#sign-in`)))
	signIn("admin")
	move()
	run("force",
		chromedp.WaitVisible(chromedp.CSS(`#force`)),
		chromedp.Click(chromedp.CSS(`#force button`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		chromedp.Click(chromedp.CSS(`#confirm button`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
	)
	if got := text(".notice"); !strings.Contains(got, "production now points at version 2") {
		t.Errorf("after the forced move: %q", got)
	}
	if got := text("#history"); !strings.Contains(got, "forced") || !strings.Contains(got, "refused") {
		t.Errorf("alias history: %q", got)
	}
	waitText("/nodes", "main", "edge-1", "version 2", "1 → 2")

	// Traffic with petal_length shifted: the node's drift window shows it.
	oc := oip.NewClient(node.URL)
	for i := 0; i < len(rows); i += 10 {
		batch := make([][]float64, 10)
		for j := range batch {
			batch[j] = append([]float64(nil), rows[i+j]...)
			batch[j][2] += 2
		}
		if _, err := oc.Infer(setupCtx, "iris", "", &oip.InferRequest{Inputs: []*oip.Tensor{oip.NewTensor("input", []int64{10, 4}, irisdata.Float32(batch))}}, false); err != nil {
			t.Fatal(err)
		}
	}
	got := waitText("/drift?model=iris", "main", "features drifted", "petal_length")
	if !strings.Contains(got, "1 of 4 features drifted") {
		t.Errorf("drift page: %q", got)
	}
	run("drift chart", shot("drift.png"))
	if count("svg.chart rect.cur") == 0 {
		t.Error("the drift page draws no current-window bars")
	}

	run("try it",
		chromedp.Navigate(s.URL+"/models/iris/try"),
		chromedp.WaitVisible(chromedp.CSS(`#try`)),
		chromedp.Click(chromedp.CSS(`#try button`)),
		chromedp.WaitVisible(chromedp.CSS(`#outputs`)),
	)
	if got := text("main"); !strings.Contains(got, "iris version 2") || !strings.Contains(got, "probabilities") {
		t.Errorf("try-it answer: %q", got)
	}
	run("try", shot("try.png"))

	run("phone width",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(s.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#models`)),
		shot("phone.png"),
	)
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 392 {
		t.Errorf("at 390 px the page is %d px wide", width)
	}
	t.Logf("screenshots in %s", shots)
}
