package drift

import (
	"slices"
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
)

// TestTensorColumns splits tensors into per-row columns: names from the
// tensor (name, or name_i for vectors) or given, text for BYTES, discrete
// numbers for integers and booleans, FP16 converted.
func TestTensorColumns(t *testing.T) {
	cols, err := TensorColumns(oip.NewTensor("input", []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}), []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 3 || cols[1].Name != "b" || !slices.Equal(cols[1].Values, []float64{2, 5}) || cols[1].Discrete {
		t.Errorf("FP32 [2,3] with names: %+v", cols)
	}
	cols, err = TensorColumns(oip.NewTensor("probabilities", []int64{2, 2}, []float64{0.1, 0.9, 0.8, 0.2}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cols[0].Name != "probabilities_0" || cols[1].Name != "probabilities_1" || !slices.Equal(cols[1].Values, []float64{0.9, 0.2}) {
		t.Errorf("FP64 [2,2]: %+v", cols)
	}
	cols, err = TensorColumns(oip.NewTensor("label", []int64{3}, []int64{2, 0, 1}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cols) != 1 || cols[0].Name != "label" || !cols[0].Discrete || !slices.Equal(cols[0].Values, []float64{2, 0, 1}) {
		t.Errorf("INT64 [3]: %+v", cols)
	}
	cols, err = TensorColumns(oip.NewBytesTensor("label", []int64{2, 1}, [][]byte{[]byte("setosa"), []byte("virginica")}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cols[0].Name != "label" || !slices.Equal(cols[0].Labels, []string{"setosa", "virginica"}) || cols[0].Len() != 2 {
		t.Errorf("BYTES [2,1]: %+v", cols)
	}
	cols, err = TensorColumns(oip.NewTensor("flag", []int64{2}, []bool{true, false}), nil)
	if err != nil || !cols[0].Discrete || !slices.Equal(cols[0].Values, []float64{1, 0}) {
		t.Errorf("BOOL: %+v %v", cols, err)
	}
	half := oip.NewFP16Tensor("h", []int64{1}, []uint16{oip.Float32ToFloat16(1.5)})
	if cols, err = TensorColumns(half, nil); err != nil || cols[0].Values[0] != 1.5 {
		t.Errorf("FP16: %+v %v", cols, err)
	}
	// A scalar is one row of one value; a zero-size tensor gives empty columns.
	if cols, err = TensorColumns(oip.NewTensor("sr", []int64{}, []int64{16000}), nil); err != nil || len(cols) != 1 || cols[0].Name != "sr" || !slices.Equal(cols[0].Values, []float64{16000}) {
		t.Errorf("scalar: %+v %v", cols, err)
	}
	if cols, err = TensorColumns(oip.NewTensor("boxes", []int64{0, 6}, []float32{}), nil); err != nil || len(cols) != 6 || cols[0].Len() != 0 {
		t.Errorf("[0,6]: %+v %v", cols, err)
	}

	for _, bad := range []struct {
		t     *oip.Tensor
		names []string
	}{
		{oip.NewTensor("x", []int64{2, 2}, []float32{1, 2, 3}), nil},
		{oip.NewTensor("x", []int64{1, 2}, []float32{1, 2}), []string{"a"}},
	} {
		if _, err := TensorColumns(bad.t, bad.names); err == nil {
			t.Errorf("TensorColumns(%s %v, %v) succeeded", bad.t.Name, bad.t.Shape, bad.names)
		}
	}
}
