package batch

import (
	"fmt"
	"math"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/table"
)

// tensorBuilder collects the elements of one input tensor, set by index.
type tensorBuilder interface {
	// set converts a cell into element i.
	set(i int, v *table.Value) error
	// floats returns a function setting element i from a number, for a
	// tensor of floats; nil for other tensors.
	floats() func(i int, f float64)
	// keep compacts the elements to the given rows, of width elements each.
	keep(rows []int, width int)
	tensor(name string, shape []int64) *oip.Tensor
}

// elements builds a tensor of Ts: conv converts a cell, fromFloat a number
// (floats only), wrap makes the tensor of the data.
type elements[T any] struct {
	data      []T
	conv      func(*table.Value) (T, error)
	fromFloat func(float64) T
	wrap      func(name string, shape []int64, data []T) *oip.Tensor
}

func (e *elements[T]) floats() func(i int, f float64) {
	if e.fromFloat == nil {
		return nil
	}
	return func(i int, f float64) { e.data[i] = e.fromFloat(f) }
}

func (e *elements[T]) set(i int, v *table.Value) error {
	x, err := e.conv(v)
	e.data[i] = x
	return err
}

func (e *elements[T]) keep(rows []int, width int) {
	n := 0
	for _, r := range rows {
		n += copy(e.data[n:], e.data[r*width:(r+1)*width])
	}
	e.data = e.data[:n]
}

func (e *elements[T]) tensor(name string, shape []int64) *oip.Tensor {
	return e.wrap(name, shape, e.data)
}

func builder[T any](size int, conv func(*table.Value) (T, error), wrap func(string, []int64, []T) *oip.Tensor) *elements[T] {
	return &elements[T]{data: make([]T, size), conv: conv, wrap: wrap}
}

// floatBuilder builds a tensor of floats, which also takes numbers.
func floatBuilder[T any](size int, fromFloat func(float64) T, wrap func(string, []int64, []T) *oip.Tensor) *elements[T] {
	conv := func(v *table.Value) (T, error) {
		f, err := toFloat(*v)
		return fromFloat(f), err
	}
	e := builder(size, conv, wrap)
	e.fromFloat = fromFloat
	return e
}

// newTensorBuilder returns a builder of size elements of dt.
func newTensorBuilder(dt oip.Datatype, size int) (tensorBuilder, error) {
	switch dt {
	case oip.FP32:
		return floatBuilder(size, func(f float64) float32 { return float32(f) }, oip.NewTensor[float32]), nil
	case oip.FP64:
		return floatBuilder(size, func(f float64) float64 { return f }, oip.NewTensor[float64]), nil
	case oip.FP16:
		return floatBuilder(size, halfOf(oip.Float32ToFloat16), oip.NewFP16Tensor), nil
	case oip.BF16:
		return floatBuilder(size, halfOf(oip.Float32ToBFloat16), oip.NewBF16Tensor), nil
	case oip.Int8:
		return builder(size, intOf[int8](math.MinInt8, math.MaxInt8), oip.NewTensor[int8]), nil
	case oip.Int16:
		return builder(size, intOf[int16](math.MinInt16, math.MaxInt16), oip.NewTensor[int16]), nil
	case oip.Int32:
		return builder(size, intOf[int32](math.MinInt32, math.MaxInt32), oip.NewTensor[int32]), nil
	case oip.Int64:
		return builder(size, intOf[int64](math.MinInt64, math.MaxInt64), oip.NewTensor[int64]), nil
	case oip.Uint8:
		return builder(size, intOf[uint8](0, math.MaxUint8), oip.NewTensor[uint8]), nil
	case oip.Uint16:
		return builder(size, intOf[uint16](0, math.MaxUint16), oip.NewTensor[uint16]), nil
	case oip.Uint32:
		return builder(size, intOf[uint32](0, math.MaxUint32), oip.NewTensor[uint32]), nil
	case oip.Uint64:
		return builder(size, intOf[uint64](0, math.MaxInt64), oip.NewTensor[uint64]), nil
	case oip.Bool:
		return builder(size, func(v *table.Value) (bool, error) { return toBool(*v) }, oip.NewTensor[bool]), nil
	case oip.Bytes:
		return builder(size, func(v *table.Value) ([]byte, error) { return toBytes(*v) }, oip.NewBytesTensor), nil
	}
	return nil, fmt.Errorf("input datatype %s is not supported", dt)
}

func halfOf(conv func(float32) uint16) func(float64) uint16 {
	return func(f float64) uint16 { return conv(float32(f)) }
}

func intOf[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](lo, hi int64) func(*table.Value) (T, error) {
	return func(v *table.Value) (T, error) {
		i, err := toInt(*v, lo, hi)
		return T(i), err
	}
}
