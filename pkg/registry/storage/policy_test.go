package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
	"github.com/kilnml/kiln/pkg/registry/auth"
	"github.com/kilnml/kiln/pkg/registry/server"
	"github.com/kilnml/kiln/pkg/registry/storage"
	"github.com/kilnml/kiln/pkg/validate"
)

// roles is a registry served with one token per role.
type roles struct {
	srv                   *testenv.Registry
	reader, writer, admin *registry.Client
	tokens                map[string]string
}

func serveWithRoles(t *testing.T, store storage.Store) roles {
	t.Helper()
	r := roles{tokens: map[string]string{}}
	var file strings.Builder
	for _, role := range []string{"reader", "writer", "admin"} {
		r.tokens[role] = auth.NewToken()
		fmt.Fprintf(&file, "%s %s ci-%s\n", auth.HashToken(r.tokens[role]), role, role)
	}
	tokens, err := auth.ParseTokens(strings.NewReader(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	r.srv = testenv.StartRegistry(t, store, storage.Options{}, server.Options{Tokens: tokens})
	r.writer = r.srv.Client(r.tokens["writer"])
	r.reader = registry.NewClient(r.srv.URL, r.tokens["reader"], nil)
	r.admin = registry.NewClient(r.srv.URL, r.tokens["admin"], nil)
	return r
}

// renamedInputModel is the adder model with its input called "features".
func renamedInputModel(t *testing.T) []byte {
	t.Helper()
	m, err := onnx.NewBuilder("add").
		Input("features", onnx.TensorType(onnx.Float, -1, 2)).
		Initializer("b", onnx.Float, []int64{2}, []float32{9, 9}).
		Node("Add", []string{"features", "b"}, []string{"y"}).
		Output("y", onnx.TensorType(onnx.Float, -1, 2)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := m.Bytes()
	return data
}

func pushWith(t *testing.T, c *registry.Client, name string, model []byte, accuracy float64) int {
	t.Helper()
	req := registry.PushRequest{Digest: registry.Digest(model), Metrics: map[string]float64{"accuracy": accuracy},
		InputExample: json.RawMessage(`{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`)}
	if bytes.Contains(model, []byte("features")) {
		req.InputExample = nil
	}
	v, err := c.Push(context.Background(), name, req, bytes.NewReader(model), nil)
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

func failedGates(r *validate.Report) []string {
	var names []string
	for _, g := range r.Failed() {
		names = append(names, g.Gate)
	}
	return names
}

func TestPolicyGatesProtectedAliases(t *testing.T) {
	backends(t, testPolicyGates)
}

func testPolicyGates(t *testing.T, store storage.Store) {
	ctx := context.Background()
	r := serveWithRoles(t, store)
	if _, err := r.admin.SetPolicy(ctx, "churn", validate.Policy{}); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("policy of a model that does not exist: %v, want 404", err)
	}
	v1 := pushWith(t, r.writer, "churn", testenv.ModelBytes(t, testenv.AdderModel(t, 1)), 0.95)
	v2 := pushWith(t, r.writer, "churn", testenv.ModelBytes(t, testenv.AdderModel(t, 2)), 0.80) // fails accuracy >= 0.9
	v3 := pushWith(t, r.writer, "churn", testenv.ModelBytes(t, testenv.AdderModel(t, 3)), 0.96)
	v4 := pushWith(t, r.writer, "churn", renamedInputModel(t), 0.97)                            // incompatible signature
	v5 := pushWith(t, r.writer, "churn", testenv.ModelBytes(t, testenv.AdderModel(t, 5)), 0.93) // regresses against v1

	// Without a policy: production is protected but there are no gates.
	if p, err := r.reader.GetPolicy(ctx, "churn"); err != nil || !p.Protects("production") || p.Metrics != nil {
		t.Fatalf("default policy: %+v, %v", p, err)
	}
	min := 0.9
	policy := validate.Policy{
		Metrics:      map[string]validate.Threshold{"accuracy": {Min: &min}},
		MaxSizeBytes: 1 << 20,
		Signature:    true,
		Regression:   map[string]float64{"accuracy": 0.005},
	}
	if _, err := r.writer.SetPolicy(ctx, "churn", policy); !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("a writer set the policy: %v, want 403", err)
	}
	bad := policy
	bad.ProtectedAliases = []string{"123"}
	if _, err := r.admin.SetPolicy(ctx, "churn", bad); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("an all-digit protected alias: %v, want 400", err)
	}
	bad = validate.Policy{Metrics: map[string]validate.Threshold{"accuracy": {}}}
	if _, err := r.admin.SetPolicy(ctx, "churn", bad); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "set min, max or both") {
		t.Errorf("a threshold without bounds: %v, want 400", err)
	}
	if _, err := r.admin.SetPolicy(ctx, "churn", policy); err != nil {
		t.Fatal(err)
	}
	if got, err := r.reader.GetPolicy(ctx, "churn"); err != nil || *got.Metrics["accuracy"].Min != 0.9 || !got.Signature {
		t.Fatalf("policy read back: %+v, %v", got, err)
	}
	if m, err := r.reader.GetModel(ctx, "churn"); err != nil || m.Policy == nil || m.Policy.MaxSizeBytes != 1<<20 {
		t.Errorf("the model record lacks the policy: %+v, %v", m, err)
	}

	// The first move has nothing to compare with: metrics and size run.
	a, err := r.writer.SetAlias(ctx, "churn", "production", v1, nil)
	if err != nil || a.Report == nil || !a.Report.Passed || a.Report.Where != "registry" {
		t.Fatalf("production -> v1: %+v, %v", a, err)
	}
	// Unprotected aliases move freely.
	if a, err := r.writer.SetAlias(ctx, "churn", "staging", v2, nil); err != nil || a.Report != nil {
		t.Fatalf("staging -> v2: %+v, %v", a, err)
	}

	// v2 fails the accuracy threshold: 409 with the report, nothing moves.
	_, err = r.writer.SetAlias(ctx, "churn", "production", v2, nil)
	var apiErr *registry.APIError
	if !errors.Is(err, registry.ErrConflict) || !errors.As(err, &apiErr) || apiErr.Report == nil {
		t.Fatalf("production -> v2: %v, want 409 with a report", err)
	}
	if got := failedGates(apiErr.Report); len(got) != 2 || got[0] != "metric:accuracy" || got[1] != "regression:accuracy" {
		t.Errorf("failed gates %v, want metric:accuracy and regression:accuracy", got)
	}
	if !strings.Contains(err.Error(), "--force") || apiErr.Report.Against != v1 {
		t.Errorf("refusal: %q, against %d", err, apiErr.Report.Against)
	}
	assertAlias(t, r.reader, "churn", "production", v1)

	// The raw answer is {"error": "...", "report": {...}}.
	body, status := rawJSON(t, http.MethodPut, r.srv.URL+"/api/v1/models/churn/aliases/production", r.tokens["writer"], fmt.Sprintf(`{"version":%d}`, v2))
	if status != http.StatusConflict || body["error"] == nil || body["report"] == nil {
		t.Errorf("raw refusal: %d %v", status, body)
	}

	// --force is for admins only, and is audited with the report.
	if _, err := r.writer.MoveAlias(ctx, "churn", "production", registry.SetAliasRequest{Version: v2, Force: true}); !errors.Is(err, registry.ErrForbidden) {
		t.Fatalf("writer --force: %v, want 403", err)
	}
	assertAlias(t, r.reader, "churn", "production", v1)
	if a, err := r.admin.MoveAlias(ctx, "churn", "production", registry.SetAliasRequest{Version: v2, Force: true}); err != nil || a.Version != v2 || a.Report.Passed {
		t.Fatalf("admin --force: %+v, %v", a, err)
	}
	if a, err := r.admin.SetAlias(ctx, "churn", "production", v1, nil); err != nil {
		t.Fatalf("production back to v1: %+v, %v", a, err)
	}

	// v4 renamed its input: the signature gate refuses it.
	_, err = r.writer.SetAlias(ctx, "churn", "production", v4, nil)
	if !errors.As(err, &apiErr) || apiErr.Report == nil || strings.Join(failedGates(apiErr.Report), ",") != "signature" {
		t.Fatalf("production -> v4 (renamed input): %v", err)
	}
	// A stale --expect is a plain conflict, before any gate runs.
	stale := v3
	if _, err := r.writer.SetAlias(ctx, "churn", "production", v3, &stale); !errors.As(err, &apiErr) || apiErr.Report != nil || !strings.Contains(err.Error(), "not the expected") {
		t.Errorf("stale expect: %v", err)
	}
	if a, err := r.writer.SetAlias(ctx, "churn", "production", v3, nil); err != nil || !a.Report.Passed || a.Report.Against != v1 {
		t.Fatalf("production -> v3: %+v, %v", a, err)
	}

	// Rolling back to v1 drops accuracy by 0.01 (> 0.005), but v1 held
	// production before, so the regression gate is waived.
	a, err = r.writer.SetAlias(ctx, "churn", "production", v1, nil)
	if err != nil || !a.Report.Passed {
		t.Fatalf("rollback to v1: %+v, %v", a, err)
	}
	if g := a.Report.Gates[len(a.Report.Gates)-1]; g.Gate != "regression:accuracy" || !g.Skipped || !strings.Contains(g.Detail, "rollback") {
		t.Errorf("rollback regression gate: %+v", g)
	}
	// v5 never held production: the same kind of drop is refused.
	if _, err := r.writer.SetAlias(ctx, "churn", "production", v5, nil); !errors.As(err, &apiErr) || strings.Join(failedGates(apiErr.Report), ",") != "regression:accuracy" {
		t.Fatalf("production -> v5: %v", err)
	}

	// The audit log holds the refusals and the forced move, with reports.
	events, err := r.reader.ListEvents(ctx, "churn", registry.Page{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, e := range events.Events {
		counts[e.Type]++
		if e.Type == registry.EventAliasSet && e.Forced && (e.Report == nil || e.By != "ci-admin" || e.Version != v2) {
			t.Errorf("forced move event: %+v", e)
		}
		if e.Type == registry.EventAliasRefused && (e.Report == nil || e.Report.Passed || e.Alias != "production") {
			t.Errorf("refusal event: %+v", e)
		}
	}
	forced := 0
	for _, e := range events.Events {
		if e.Forced {
			forced++
		}
	}
	if counts[registry.EventPolicySet] != 1 || counts[registry.EventAliasRefused] != 4 || counts[registry.EventAliasSet] != 6 || forced != 1 {
		t.Errorf("events by type %v, forced %d", counts, forced)
	}
}

func assertAlias(t *testing.T, c *registry.Client, name, alias string, want int) {
	t.Helper()
	a, err := c.GetAlias(context.Background(), name, alias)
	if err != nil || a.Version != want {
		t.Fatalf("%s@%s: %+v, %v; want version %d", name, alias, a, err, want)
	}
}

// rawJSON sends body with a bearer token and decodes the JSON answer.
func rawJSON(t *testing.T, method, url, token, body string) (map[string]any, int) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return out, resp.StatusCode
}

func TestRecordValidation(t *testing.T) {
	ctx := context.Background()
	r := serveWithRoles(t, testenv.FolderStore(t, ""))
	n := pushWith(t, r.writer, "m", testenv.ModelBytes(t, testenv.AdderModel(t, 1)), 0.9)
	report := validate.Report{Model: "m", Version: n, Passed: false, Where: "cli test",
		Gates: []validate.GateResult{{Gate: "latency:p99@1", Measured: "3ms", Threshold: "<= 1ms"}}}

	if _, err := r.reader.RecordValidation(ctx, "m", n, report); !errors.Is(err, registry.ErrForbidden) {
		t.Errorf("reader: %v, want 403", err)
	}
	other := report
	other.Version = n + 1
	if _, err := r.writer.RecordValidation(ctx, "m", n, other); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("report for another version: %v, want 400", err)
	}
	lying := report
	lying.Passed = true
	if _, err := r.writer.RecordValidation(ctx, "m", n, lying); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("passed with a failed gate: %v, want 400", err)
	}
	for range storage.MaxValidations + 2 {
		if _, err := r.writer.RecordValidation(ctx, "m", n, report); err != nil {
			t.Fatal(err)
		}
	}
	v, err := r.reader.Resolve(ctx, registry.Ref{Name: "m", Version: n})
	if err != nil || len(v.Validations) != storage.MaxValidations {
		t.Fatalf("validations kept: %d, %v", len(v.Validations), err)
	}
	if got := v.Validations[0]; got.Where != "cli test" || got.Gates[0].Measured != "3ms" || got.CheckedAt.IsZero() {
		t.Errorf("stored report: %+v", got)
	}
}

func TestCandidateFromVersion(t *testing.T) {
	client := testenv.StartRegistry(t, testenv.FolderStore(t, ""), storage.Options{}, server.Options{}).Client("")
	n := pushWith(t, client, "m", testenv.ModelBytes(t, testenv.AdderModel(t, 1)), 0.9)
	v, err := client.Resolve(context.Background(), registry.Ref{Name: "m", Version: n})
	if err != nil {
		t.Fatal(err)
	}
	c := registry.CandidateFromVersion(v)
	if c.Name != "m" || c.Version != n || c.SizeBytes != v.Size || c.Metrics["accuracy"] != 0.9 {
		t.Errorf("candidate: %+v", c)
	}
	if len(c.Inputs) != 1 || c.Inputs[0].Name != "x" || c.Inputs[0].Datatype != "FP32" || fmt.Sprint(c.Inputs[0].Shape) != "[-1 2]" || c.Outputs[0].Name != "y" {
		t.Errorf("signature: %+v %+v", c.Inputs, c.Outputs)
	}
	if c.InputExample == nil || len(c.InputExample.Inputs) != 1 || fmt.Sprint(c.InputExample.Inputs[0].Shape) != "[1 2]" {
		t.Errorf("input example: %+v", c.InputExample)
	}
}
