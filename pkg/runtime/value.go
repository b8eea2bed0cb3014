package runtime

import (
	"fmt"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// oneByte backs zero-size tensors: onnxruntime_go wants at least one byte
// of data even where the shape needs none. ONNX Runtime never writes inputs.
var oneByte = []byte{0}

// newValue wraps an OIP tensor as an ONNX Runtime value; a scalar is passed
// as shape [1] (adapt reshapes it back inside the graph). Fixed-size tensors
// share t.Raw with ONNX Runtime (no copy); BYTES tensors are copied into ORT strings.
func newValue(t *oip.Tensor, scalar bool) (ort.Value, error) {
	shape := ort.Shape(t.Shape)
	if scalar {
		shape = ort.Shape{1}
	}
	if t.Datatype == oip.Bytes {
		st, err := ort.NewStringTensor(shape)
		if err != nil {
			return nil, err
		}
		strs := make([]string, len(t.Strings))
		for i, s := range t.Strings {
			strs[i] = string(s)
		}
		if err := st.SetContents(strs); err != nil {
			st.Destroy()
			return nil, err
		}
		return st, nil
	}
	dt, ok := onnx.DataTypeFromOIP(t.Datatype)
	if !ok {
		return nil, fmt.Errorf("unsupported datatype %s", t.Datatype)
	}
	raw := t.Raw
	if len(raw) == 0 {
		raw = oneByte
	}
	return ort.NewCustomDataTensor(shape, raw, ort.TensorElementDataType(dt))
}

// constants are session inputs made once, at load, for every Run that needs them.
type constants struct {
	// omitted holds, per input, what the session gets when a request leaves
	// the input out: its default, or an empty tensor for an optional input;
	// nil for required inputs.
	omitted []ort.Value
	// given and notGiven are bool [1] presence flags of optional inputs.
	given, notGiven ort.Value
	placeholder     ort.Value
	made            []ort.Value
}

func (c *constants) make(p *plan) error {
	value := func(t *oip.Tensor, scalar bool) (ort.Value, error) {
		v, err := newValue(t, scalar)
		if err == nil {
			c.made = append(c.made, v)
		}
		return v, err
	}
	var err error
	if c.given, err = value(oip.NewTensor("given", []int64{1}, []bool{true}), false); err != nil {
		return err
	}
	if c.notGiven, err = value(oip.NewTensor("not given", []int64{1}, []bool{false}), false); err != nil {
		return err
	}
	if c.placeholder, err = value(oip.NewTensor(placeholderName, []int64{1}, []float32{0}), false); err != nil {
		return err
	}
	c.omitted = make([]ort.Value, len(p.inputs))
	for i, in := range p.inputs {
		switch {
		case in.def != nil:
			c.omitted[i], err = value(in.def, in.scalar)
		case in.present >= 0:
			dt, _ := tensorView(*in.Type.Value)
			c.omitted[i], err = value(&oip.Tensor{Name: in.Name, Datatype: dt, Shape: []int64{0}}, false)
		}
		if err != nil {
			return fmt.Errorf("input %q: %w", in.Name, err)
		}
	}
	return nil
}

func (c *constants) destroy() { destroyAll(c.made) }

// toTensor converts an ONNX Runtime output value of type typ (the unknown
// type where the model does not say) to an OIP tensor.
func toTensor(name string, v ort.Value, typ onnx.Type) (*oip.Tensor, error) {
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		return rawTensor(name, oip.FP32, t), nil
	case *ort.Tensor[float64]:
		return rawTensor(name, oip.FP64, t), nil
	case *ort.Tensor[int8]:
		return rawTensor(name, oip.Int8, t), nil
	case *ort.Tensor[int16]:
		return rawTensor(name, oip.Int16, t), nil
	case *ort.Tensor[int32]:
		return rawTensor(name, oip.Int32, t), nil
	case *ort.Tensor[int64]:
		return rawTensor(name, oip.Int64, t), nil
	case *ort.Tensor[uint8]:
		return rawTensor(name, oip.Uint8, t), nil
	case *ort.Tensor[uint16]:
		return rawTensor(name, oip.Uint16, t), nil
	case *ort.Tensor[uint32]:
		return rawTensor(name, oip.Uint32, t), nil
	case *ort.Tensor[uint64]:
		return rawTensor(name, oip.Uint64, t), nil
	case *ort.Tensor[bool]:
		return rawTensor(name, oip.Bool, t), nil
	case *ort.CustomDataTensor:
		dt := onnx.DataType(t.DataType()).OIP()
		if dt == "" {
			return nil, fmt.Errorf("unsupported element type %d", t.DataType())
		}
		shape := t.GetShape()
		// A preallocated zero-size output holds the one byte the binding wants.
		size := shape.FlattenedSize() * int64(dt.Size())
		return &oip.Tensor{Name: name, Datatype: dt, Shape: shape, Raw: t.GetData()[:size]}, nil
	case *ort.StringTensor:
		strs, err := t.GetContents()
		if err != nil {
			return nil, err
		}
		// The strings are fresh copies out of ONNX Runtime, so the tensor's
		// elements can share their bytes (tensors are never written to).
		data := make([][]byte, len(strs))
		for i, s := range strs {
			data[i] = unsafe.Slice(unsafe.StringData(s), len(s))
		}
		return &oip.Tensor{Name: name, Datatype: oip.Bytes, Shape: t.GetShape(), Strings: data}, nil
	case *ort.Sequence:
		return sequenceTensor(name, t, typ)
	case *ort.Map:
		return mapTensor(name, []*ort.Map{t}, false)
	}
	return nil, fmt.Errorf("unsupported output value %s", v.GetONNXType())
}

// rawTensor takes the Go-owned copy of an output's data as the tensor's Raw bytes.
func rawTensor[T ort.TensorData](name string, dt oip.Datatype, t *ort.Tensor[T]) *oip.Tensor {
	data := t.GetData()
	var raw []byte
	if len(data) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), len(data)*int(unsafe.Sizeof(data[0])))
	}
	return &oip.Tensor{Name: name, Datatype: dt, Shape: t.GetShape(), Raw: raw}
}
