package testenv

import (
	"math"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// SampleTensor returns a [2,2] tensor of dt holding edge values (extremes,
// subnormals, non-ASCII strings).
func SampleTensor(name string, dt onnx.DataType) *oip.Tensor {
	shape := []int64{2, 2}
	switch dt {
	case onnx.Bool:
		return oip.NewTensor(name, shape, []bool{true, false, false, true})
	case onnx.Uint8:
		return oip.NewTensor(name, shape, []uint8{0, 1, 200, math.MaxUint8})
	case onnx.Uint16:
		return oip.NewTensor(name, shape, []uint16{0, 1, 40000, math.MaxUint16})
	case onnx.Uint32:
		return oip.NewTensor(name, shape, []uint32{0, 1, 3e9, math.MaxUint32})
	case onnx.Uint64:
		return oip.NewTensor(name, shape, []uint64{0, 1, 1 << 63, math.MaxUint64})
	case onnx.Int8:
		return oip.NewTensor(name, shape, []int8{math.MinInt8, -1, 0, math.MaxInt8})
	case onnx.Int16:
		return oip.NewTensor(name, shape, []int16{math.MinInt16, -1, 0, math.MaxInt16})
	case onnx.Int32:
		return oip.NewTensor(name, shape, []int32{math.MinInt32, -1, 0, math.MaxInt32})
	case onnx.Int64:
		return oip.NewTensor(name, shape, []int64{math.MinInt64, -1, 0, math.MaxInt64})
	case onnx.Float16:
		return oip.NewFP16Tensor(name, shape, []uint16{0x3C00, 0x7BFF, 0x0001, 0xC000})
	case onnx.BFloat16:
		return oip.NewBF16Tensor(name, shape, []uint16{0x3F80, 0x7F7F, 0x0001, 0xC000})
	case onnx.Float:
		return oip.NewTensor(name, shape, []float32{-1.5, 0, math.MaxFloat32, math.SmallestNonzeroFloat32})
	case onnx.Double:
		return oip.NewTensor(name, shape, []float64{-1.5, 0, math.MaxFloat64, math.SmallestNonzeroFloat64})
	case onnx.String:
		return oip.NewBytesTensor(name, shape, [][]byte{[]byte(""), []byte("héllo"), []byte("a,b"), []byte("日本")})
	}
	panic("no sample for " + dt.String())
}
