package serve_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/drift"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/serve"
)

// irisRows reads the 150 Iris rows of the example.
func irisRows(t *testing.T) [][]float64 {
	t.Helper()
	data, err := irisdata.Read(filepath.Join(testenv.RepoRoot(t), "examples", "iris", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return data.Rows
}

func irisTensor(rows [][]float64) *oip.Tensor {
	return oip.NewTensor("input", []int64{int64(len(rows)), 4}, irisdata.Float32(rows))
}

// irisProfile profiles the Iris rows and the example model's outputs on them.
func irisProfile(t *testing.T, model string, rows [][]float64) string {
	t.Helper()
	m, err := runtime.Load(model, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := irisdata.Profile(context.Background(), m, rows)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(p)
	path := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(path, data, 0o644)
	return path
}

// TestDriftEndToEnd serves the example classifier with its reference
// profile, sends traffic like the reference (no drift reported), then the
// same rows with petal_length shifted (drift on that feature only).
func TestDriftEndToEnd(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(testenv.RepoRoot(t), "examples", "iris", "model.onnx")
	rows := irisRows(t)
	cfg := &serve.Config{Models: map[string]serve.ModelConfig{"iris": {Drift: serve.DriftConfig{
		Profile: irisProfile(t, model, rows), Config: drift.Config{WindowRows: len(rows)},
	}}}}
	models := serve.NewManager(serve.ManagerOptions{Config: cfg})
	defer models.Close()
	if err := models.Load(serve.Source{Name: "iris", Version: 1, Path: model}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(serve.NewServer(models, serve.Options{}).Handler())
	defer ts.Close()
	client := oip.NewClient(ts.URL)

	window := func(shift float64) *drift.Report {
		t.Helper()
		started := time.Now()
		for i := 0; i < len(rows); i += 10 {
			batch := make([][]float64, 10)
			for j := range batch {
				batch[j] = append([]float64(nil), rows[i+j]...)
				batch[j][2] += shift
			}
			req := &oip.InferRequest{Inputs: []*oip.Tensor{irisTensor(batch)}}
			if _, err := client.Infer(context.Background(), "iris", "", req, false); err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var st serve.DriftStatus
			resp, err := http.Get(ts.URL + "/v2/models/iris/drift")
			if err != nil {
				t.Fatal(err)
			}
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if st.Report != nil && !st.Report.WindowStart.Before(started) {
				return st.Report
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("no drift report for the window")
		return nil
	}
	drifted := func(results []drift.FeatureResult) []string {
		var names []string
		for _, f := range results {
			if f.Drift {
				names = append(names, f.Name)
			}
		}
		return names
	}

	same := window(0)
	if same.Rows != len(rows) || len(drifted(same.Features)) != 0 || len(drifted(same.Outputs)) != 0 || same.DatasetDrift {
		t.Errorf("traffic like the reference: %d rows, drifted %v and outputs %v, dataset drift %v", same.Rows, drifted(same.Features), drifted(same.Outputs), same.DatasetDrift)
	}
	shifted := window(2)
	if got := drifted(shifted.Features); len(got) != 1 || got[0] != "petal_length" {
		t.Errorf("petal_length shifted by 2: drifted features %v, want [petal_length]", got)
	}
	if got := drifted(shifted.Outputs); !slices.Contains(got, "label") {
		t.Errorf("petal_length shifted by 2: drifted outputs %v, want the predicted label among them", got)
	}
	metrics := get(t, ts.URL+"/metrics")
	for _, want := range []string{
		`kiln_drift_detected{feature="petal_length",kind="input",method="ks",model="iris",version="1"} 1`,
		`kiln_drift_detected{feature="sepal_width",kind="input",method="ks",model="iris",version="1"} 0`,
		`kiln_dataset_drift_share{model="iris",version="1"} 0.25`,
		`kiln_drift_window_rows{model="iris",version="1"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if resp, _ := http.Get(ts.URL + "/v2/models/nope/drift"); resp.StatusCode != 404 {
		t.Errorf("drift of an unknown model: %d", resp.StatusCode)
	}
}
