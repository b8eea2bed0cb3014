package drift

import (
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
)

func TestBatchColumnsNamesSingleInputByFeatures(t *testing.T) {
	x := oip.NewTensor("input", []int64{2, 2}, []float32{1, 2, 3, 4})
	probs := oip.NewTensor("probabilities", []int64{2, 2}, []float32{0.1, 0.9, 0.8, 0.2})
	label := oip.NewBytesTensor("label", []int64{2}, [][]byte{[]byte("b"), []byte("a")})
	in, out, err := BatchColumns([]*oip.Tensor{x}, []*oip.Tensor{label, probs}, []string{"height", "width"})
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 2 || in[0].Name != "height" || in[1].Name != "width" || in[1].Values[1] != 4 {
		t.Errorf("inputs %+v", in)
	}
	if len(out) != 3 || out[0].Name != "label" || out[0].Labels[1] != "a" || out[2].Name != "probabilities_1" || out[2].Values[0] != float64(float32(0.9)) {
		t.Errorf("outputs %+v", out)
	}
	// Names that do not fit the tensor fall back to tensor-based names.
	in, _, _ = BatchColumns([]*oip.Tensor{x}, nil, []string{"only_one"})
	if in[0].Name != "input_0" {
		t.Errorf("mismatched feature names: %+v", in)
	}
}
