package runtime

import (
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// Signature returns the model's inputs and outputs in OIP terms, -1 for
// dynamic dimensions. Non-tensor values are described as the tensors that
// stand for them: sequences stacked, optionals as their tensor, maps as their
// values (see ParamKeys).
func (m *Model) Signature() (inputs, outputs []oip.TensorMetadata) {
	return metadata(m.Info.Inputs), metadata(m.Info.Outputs)
}

func metadata(vs []onnx.ValueInfo) []oip.TensorMetadata {
	out := make([]oip.TensorMetadata, len(vs))
	for i, v := range vs {
		dt, shape := tensorView(v.Type)
		out[i] = oip.TensorMetadata{Name: v.Name, Datatype: dt, Shape: shape}
	}
	return out
}

// tensorView gives the datatype and shape of the tensor a value of type t becomes.
func tensorView(t onnx.Type) (oip.Datatype, []int64) {
	switch t.Kind {
	case onnx.KindTensor:
		shape := t.Dims()
		if t.Shape == nil {
			shape = []int64{-1}
		}
		return t.Elem.OIP(), shape
	case onnx.KindOptional:
		return tensorView(*t.Value)
	case onnx.KindMap:
		dt, _ := tensorView(*t.Value)
		return dt, []int64{-1}
	case onnx.KindSequence:
		if t.Value.Kind == onnx.KindMap {
			dt, _ := tensorView(*t.Value.Value)
			return dt, []int64{-1, -1}
		}
		dt, shape := tensorView(*t.Value)
		return dt, append([]int64{-1}, shape...)
	}
	return "", []int64{-1}
}
