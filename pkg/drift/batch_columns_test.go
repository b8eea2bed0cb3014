package drift

import (
	"reflect"
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

// TestColumnsReuseMemory: one Columns fed batches of different sizes one
// after the other gives each batch exactly what BatchColumns gives it.
func TestColumnsReuseMemory(t *testing.T) {
	var c Columns
	for _, rows := range []int{3, 1, 40, 2} {
		x := make([]float32, rows*2)
		probs := make([]float32, rows*3)
		for i := range x {
			x[i] = float32(rows*100 + i)
		}
		for i := range probs {
			probs[i] = float32(i) / 10
		}
		inputs := []*oip.Tensor{oip.NewTensor("input", []int64{int64(rows), 2}, x)}
		outputs := []*oip.Tensor{oip.NewTensor("probabilities", []int64{int64(rows), 3}, probs)}
		wantIn, wantOut, err := BatchColumns(inputs, outputs, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		in, out, err := c.Of(inputs, outputs, []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, wantIn) || !reflect.DeepEqual(out, wantOut) {
			t.Errorf("%d rows: got %+v %+v, want %+v %+v", rows, in, out, wantIn, wantOut)
		}
	}
}
