package runtime

import (
	"fmt"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// newValue wraps an OIP tensor as an ONNX Runtime value. Fixed-size tensors
// share t.Raw with ONNX Runtime (no copy); BYTES tensors are copied into ORT strings.
func newValue(t *oip.Tensor) (ort.Value, error) {
	shape := ort.Shape(t.Shape)
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
	v, err := ort.NewCustomDataTensor(shape, t.Raw, ort.TensorElementDataType(dt))
	if err != nil {
		return nil, err
	}
	return v, nil
}

// toTensor converts an ONNX Runtime output value to an OIP tensor.
func toTensor(name string, v ort.Value) (*oip.Tensor, error) {
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
		return &oip.Tensor{Name: name, Datatype: dt, Shape: t.GetShape(), Raw: t.GetData()}, nil
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
		return sequenceTensor(name, t)
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
