package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx/internal/onnxpb"
)

// Defaults returns the graph inputs that have an initializer, as tensors
// holding the initializer's value: ONNX lets a caller override such an
// input, the initializer being its default. Inputs whose initializer is
// larger than maxBytes, stored outside the file, or of a type OIP cannot
// carry are left out: they are the model's constants.
func (m *Model) Defaults(maxBytes int) []Default {
	g := m.proto.GetGraph()
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = t
	}
	var out []Default
	for _, v := range g.GetInput() {
		init := inits[v.GetName()]
		if init == nil {
			continue
		}
		vi, err := valueInfoFromProto(v)
		if err != nil || !vi.Type.IsTensor() {
			continue
		}
		t, err := tensorFromProto(v.GetName(), init, maxBytes)
		if err != nil {
			continue
		}
		out = append(out, Default{ValueInfo: vi, Value: t})
	}
	return out
}

// Default is a graph input backed by an initializer, with its value.
type Default struct {
	ValueInfo
	Value *oip.Tensor
}

// tensorFromProto decodes a TensorProto stored in the file into an OIP tensor.
func tensorFromProto(name string, t *onnxpb.TensorProto, maxBytes int) (*oip.Tensor, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, fmt.Errorf("tensor %q: stored outside the model file", name)
	}
	dt := DataType(t.GetDataType())
	odt := dt.OIP()
	if odt == "" {
		return nil, fmt.Errorf("tensor %q: no OIP datatype for %s", name, dt)
	}
	shape := append([]int64{}, t.GetDims()...)
	count := int64(1)
	for _, d := range shape {
		count *= d
	}
	if dt == String {
		if len(t.GetStringData()) != int(count) {
			return nil, fmt.Errorf("tensor %q: %d strings for shape %v", name, len(t.GetStringData()), shape)
		}
		return oip.NewBytesTensor(name, shape, t.GetStringData()), nil
	}
	size := elemSize(dt)
	if count*int64(size) > int64(maxBytes) {
		return nil, fmt.Errorf("tensor %q: larger than %d bytes", name, maxBytes)
	}
	raw := t.GetRawData()
	if len(raw) == 0 && count > 0 {
		raw = typedData(t, dt, int(count))
	}
	if int64(len(raw)) != count*int64(size) {
		return nil, fmt.Errorf("tensor %q: %d bytes of data for shape %v", name, len(raw), shape)
	}
	return &oip.Tensor{Name: name, Datatype: odt, Shape: shape, Raw: append([]byte{}, raw...)}, nil
}

// typedData encodes a TensorProto's typed fields (float_data, int32_data,
// ...) as little-endian bytes of dt, or returns nil when they do not hold count elements.
func typedData(t *onnxpb.TensorProto, dt DataType, count int) []byte {
	var out []byte
	switch dt {
	case Float:
		for _, v := range t.GetFloatData() {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	case Double:
		for _, v := range t.GetDoubleData() {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	case Int64:
		for _, v := range t.GetInt64Data() {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	case Uint32, Uint64:
		for _, v := range t.GetUint64Data() {
			if dt == Uint32 {
				out = binary.LittleEndian.AppendUint32(out, uint32(v))
			} else {
				out = binary.LittleEndian.AppendUint64(out, v)
			}
		}
	default: // bool, 8-, 16- and 32-bit integers and 16-bit floats live in int32_data
		for _, v := range t.GetInt32Data() {
			switch elemSize(dt) {
			case 1:
				out = append(out, byte(v))
			case 2:
				out = binary.LittleEndian.AppendUint16(out, uint16(v))
			default:
				out = binary.LittleEndian.AppendUint32(out, uint32(v))
			}
		}
	}
	if len(out) != count*elemSize(dt) {
		return nil
	}
	return out
}
