package runtime

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// ParamNone is the output parameter, set to true, of an optional output
// that holds no value; such a tensor has shape [0].
const ParamNone = "optional_none"

// tensor turns the session's values for one model output into an OIP tensor.
func (o *output) tensor(out []ort.Value) (*oip.Tensor, error) {
	if o.has >= 0 && !flag(out[o.has]) {
		dt, _ := tensorView(*o.Type.Value)
		return &oip.Tensor{Name: o.Name, Datatype: dt, Shape: []int64{0}, Parameters: oip.Parameters{ParamNone: true}}, nil
	}
	if seq, ok := out[o.value].(*ort.Sequence); ok && o.shape >= 0 {
		return o.reshapedSequence(seq, out[o.shape])
	}
	t, err := toTensor(o.Name, out[o.value], o.Type)
	if err != nil {
		return nil, err
	}
	switch {
	case o.scalar:
		t.Shape = []int64{}
	case o.shape >= 0:
		shape, ok := out[o.shape].(*ort.Tensor[int64])
		if !ok {
			return nil, fmt.Errorf("shape of a flattened output is %T", out[o.shape])
		}
		t.Shape = append([]int64{}, shape.GetData()...)
	}
	if o.half != "" {
		narrow(t, o.half)
	}
	return t, nil
}

// flag reads a bool [1] value.
func flag(v ort.Value) bool {
	b, ok := v.(*ort.Tensor[bool])
	return ok && len(b.GetData()) == 1 && b.GetData()[0]
}

// narrow turns an FP32 tensor into FP16 or BF16 bit patterns.
func narrow(t *oip.Tensor, dt oip.Datatype) {
	wide, _ := oip.Values[float32](t)
	convert := oip.Float32ToFloat16
	if dt == oip.BF16 {
		convert = oip.Float32ToBFloat16
	}
	bits := make([]uint16, len(wide))
	for i, f := range wide {
		bits[i] = convert(f)
	}
	*t = *oip.NewTensor(t.Name, t.Shape, bits)
	t.Datatype = dt
}

// reshapedSequence joins a sequence of flattened elements, each given its
// shape from the matching element of shapes, as sequenceTensor does.
func (o *output) reshapedSequence(values *ort.Sequence, shapes ort.Value) (*oip.Tensor, error) {
	items, err := values.GetValues()
	if err != nil {
		return nil, err
	}
	shapeSeq, ok := shapes.(*ort.Sequence)
	if !ok {
		return nil, fmt.Errorf("shapes of a flattened sequence are %T", shapes)
	}
	shapeItems, err := shapeSeq.GetValues()
	if err != nil || len(shapeItems) != len(items) {
		return nil, fmt.Errorf("%d shapes for %d sequence elements (%v)", len(shapeItems), len(items), err)
	}
	if len(items) == 0 {
		return sequenceTensor(o.Name, values, o.Type)
	}
	parts := make([]*oip.Tensor, len(items))
	for i, it := range items {
		if parts[i], err = toTensor(o.Name, it, onnx.Type{}); err != nil {
			return nil, fmt.Errorf("sequence element %d: %w", i, err)
		}
		shape, ok := shapeItems[i].(*ort.Tensor[int64])
		if !ok {
			return nil, fmt.Errorf("shape of sequence element %d is %T", i, shapeItems[i])
		}
		parts[i].Shape = append([]int64{}, shape.GetData()...)
		if o.half != "" {
			narrow(parts[i], o.half)
		}
	}
	return stack(o.Name, parts)
}
