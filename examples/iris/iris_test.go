package iris_test

import (
	"context"
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
)

// TestExampleModelClassifiesIris runs the committed example model over the
// whole Iris data and checks its labels.
func TestExampleModelClassifiesIris(t *testing.T) {
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	m, err := runtime.Load("model.onnx", runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f, err := os.Open("iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	classes := rows[0][2:]
	var features []float32
	var want []string
	for _, row := range rows[1:] {
		for _, v := range row[:4] {
			x, _ := strconv.ParseFloat(v, 32)
			features = append(features, float32(x))
		}
		idx, _ := strconv.Atoi(row[4])
		want = append(want, classes[idx])
	}
	n := int64(len(want))
	out, err := m.Run(context.Background(), []*oip.Tensor{oip.NewTensor("input", []int64{n, 4}, features)}, []string{"label"})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, label := range out[0].Strings {
		if string(label) == want[i] {
			right++
		}
	}
	accuracy := float64(right) / float64(n)
	t.Logf("accuracy %.3f on %d rows", accuracy, n)
	if accuracy < 0.95 {
		t.Errorf("accuracy %.3f, want at least 0.95", accuracy)
	}
	if got := m.Info.Metadata["class_names"]; got != strings.Join(classes, ",") {
		t.Errorf("class_names metadata %q", got)
	}
}
