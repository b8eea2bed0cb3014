package iris_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kilnml/kiln/examples/iris/irisdata"
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
	data, err := irisdata.Read("iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(data.Rows))
	out, err := m.Run(context.Background(), []*oip.Tensor{oip.NewTensor("input", []int64{n, 4}, irisdata.Float32(data.Rows))}, []string{"label"})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, label := range out[0].Strings {
		if string(label) == data.Classes[data.Labels[i]] {
			right++
		}
	}
	accuracy := float64(right) / float64(n)
	t.Logf("accuracy %.3f on %d rows", accuracy, n)
	if accuracy < 0.95 {
		t.Errorf("accuracy %.3f, want at least 0.95", accuracy)
	}
	if got := m.Info.Metadata["class_names"]; got != strings.Join(data.Classes, ",") {
		t.Errorf("class_names metadata %q", got)
	}
	if got := m.Info.Metadata["feature_names"]; got != strings.Join(irisdata.FeatureNames, ",") {
		t.Errorf("feature_names metadata %q", got)
	}
}
