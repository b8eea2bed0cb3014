package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/onnx"
	"github.com/kilnml/kiln/pkg/registry"
)

func TestEvaluateRecordsMetricsOnTheRegistryVersion(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	reg, _ := startRegistry(t)
	if code, _, stderr := kiln(t, reg, "push", "iris", irisExample(t, "model.onnx")); code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	report := filepath.Join(t.TempDir(), "report.html")
	code, stdout, stderr := kiln(t, reg, "evaluate", "--json", "--model", "iris@1", "--data", irisExample(t, "iris.parquet"),
		"--label", "species", "--record", "--baseline", "iris@1", "--report", report, "--worst", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Metrics   map[string]float64
		Recorded  bool
		Baselines []struct {
			Name           string
			Classification struct{ Accuracy float64 }
		}
		Worst []struct {
			Index int
			Label string
		}
		Classification struct{ Confusion [][]int }
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	// The example model misclassifies 3 of the 150 flowers (examples/iris).
	if got.Metrics["accuracy"] != 147.0/150 || !got.Recorded || got.Metrics["roc_auc"] < 0.99 {
		t.Errorf("metrics %v, recorded %v", got.Metrics, got.Recorded)
	}
	if len(got.Baselines) != 2 || got.Baselines[0].Classification.Accuracy != 1.0/3 || got.Baselines[1].Classification.Accuracy != 147.0/150 {
		t.Errorf("baselines %+v", got.Baselines)
	}
	if len(got.Worst) != 2 || got.Worst[0].Label != "versicolor" || got.Classification.Confusion[0][0] != 50 {
		t.Errorf("worst %+v, confusion %v", got.Worst, got.Classification.Confusion)
	}
	v, err := registry.NewClient(reg, "", nil).Resolve(context.Background(), registry.Ref{Name: "iris", Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v.Metrics["accuracy"] != 147.0/150 || v.Metrics["f1_macro"] == 0 {
		t.Errorf("version metrics %v", v.Metrics)
	}
	html, _ := os.ReadFile(report)
	if strings.Count(string(html), "<svg") != 2 {
		t.Errorf("report has %d SVGs", strings.Count(string(html), "<svg"))
	}
}

func TestEvaluateRegressionPrintsTables(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	dir := t.TempDir()
	m, err := onnx.NewBuilder("regressor"). // y = x[0] + 1
						Input("x", onnx.TensorType(onnx.Float, -1, 2)).
						Initializer("w", onnx.Float, []int64{2, 1}, []float32{1, 0}).
						Initializer("b", onnx.Float, []int64{1}, []float32{1}).
						Node("MatMul", []string{"x", "w"}, []string{"xw"}).
						Node("Add", []string{"xw", "b"}, []string{"y"}).
						Output("y", onnx.TensorType(onnx.Float, -1, 1)).
						Build()
	if err != nil {
		t.Fatal(err)
	}
	model := testenv.WriteModel(t, m)
	data := filepath.Join(dir, "data.jsonl")
	os.WriteFile(data, []byte("{\"x\":[1,0],\"y\":2}\n{\"x\":[2,0],\"y\":3}\n{\"x\":[3,0],\"y\":5}\n{\"x\":[4,0],\"y\":null}\n"), 0o644)
	code, stdout, stderr := kiln(t, "http://127.0.0.1:1", "evaluate", "--model", model, "--data", data, "--label", "y", "--task", "regression")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// predictions 2, 3, 4 against labels 2, 3, 5.
	for _, want := range []string{"3 rows (1 skipped)", "mae", "0.3333", "mean", "residual quantile", "worst predictions"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}
