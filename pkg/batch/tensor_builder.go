package batch

import (
	"fmt"
	"math"

	"github.com/kilnml/kiln/pkg/oip"
)

// tensorBuilder collects the elements of one input tensor, row by row.
type tensorBuilder interface {
	add(v *Value) error
	// len is the number of elements added; truncate drops the ones past n.
	len() int
	truncate(n int)
	tensor(name string, shape []int64) *oip.Tensor
}

// newTensorBuilder returns a builder for dt with room for size elements.
func newTensorBuilder(dt oip.Datatype, size int) (tensorBuilder, error) {
	switch dt {
	case oip.FP32:
		return &floatBuilder[float32]{data: make([]float32, 0, size)}, nil
	case oip.FP64:
		return &floatBuilder[float64]{data: make([]float64, 0, size)}, nil
	case oip.FP16:
		return &halfBuilder{data: make([]uint16, 0, size), dt: dt, conv: oip.Float32ToFloat16}, nil
	case oip.BF16:
		return &halfBuilder{data: make([]uint16, 0, size), dt: dt, conv: oip.Float32ToBFloat16}, nil
	case oip.Int8:
		return &intBuilder[int8]{data: make([]int8, 0, size), lo: math.MinInt8, hi: math.MaxInt8}, nil
	case oip.Int16:
		return &intBuilder[int16]{data: make([]int16, 0, size), lo: math.MinInt16, hi: math.MaxInt16}, nil
	case oip.Int32:
		return &intBuilder[int32]{data: make([]int32, 0, size), lo: math.MinInt32, hi: math.MaxInt32}, nil
	case oip.Int64:
		return &intBuilder[int64]{data: make([]int64, 0, size), lo: math.MinInt64, hi: math.MaxInt64}, nil
	case oip.Uint8:
		return &intBuilder[uint8]{data: make([]uint8, 0, size), hi: math.MaxUint8}, nil
	case oip.Uint16:
		return &intBuilder[uint16]{data: make([]uint16, 0, size), hi: math.MaxUint16}, nil
	case oip.Uint32:
		return &intBuilder[uint32]{data: make([]uint32, 0, size), hi: math.MaxUint32}, nil
	case oip.Uint64:
		return &intBuilder[uint64]{data: make([]uint64, 0, size), hi: math.MaxInt64}, nil
	case oip.Bool:
		return &boolBuilder{data: make([]bool, 0, size)}, nil
	case oip.Bytes:
		return &bytesBuilder{data: make([][]byte, 0, size)}, nil
	}
	return nil, fmt.Errorf("input datatype %s is not supported", dt)
}

type floatBuilder[T float32 | float64] struct{ data []T }

func (b *floatBuilder[T]) add(v *Value) error {
	f, err := toFloat(*v)
	b.data = append(b.data, T(f))
	return err
}
func (b *floatBuilder[T]) len() int       { return len(b.data) }
func (b *floatBuilder[T]) truncate(n int) { b.data = b.data[:n] }
func (b *floatBuilder[T]) tensor(name string, shape []int64) *oip.Tensor {
	return oip.NewTensor(name, shape, b.data)
}

type intBuilder[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64] struct {
	data   []T
	lo, hi int64
}

func (b *intBuilder[T]) add(v *Value) error {
	i, err := toInt(*v, b.lo, b.hi)
	b.data = append(b.data, T(i))
	return err
}
func (b *intBuilder[T]) len() int       { return len(b.data) }
func (b *intBuilder[T]) truncate(n int) { b.data = b.data[:n] }
func (b *intBuilder[T]) tensor(name string, shape []int64) *oip.Tensor {
	return oip.NewTensor(name, shape, b.data)
}

type halfBuilder struct {
	data []uint16
	dt   oip.Datatype
	conv func(float32) uint16
}

func (b *halfBuilder) add(v *Value) error {
	f, err := toFloat(*v)
	b.data = append(b.data, b.conv(float32(f)))
	return err
}
func (b *halfBuilder) len() int       { return len(b.data) }
func (b *halfBuilder) truncate(n int) { b.data = b.data[:n] }
func (b *halfBuilder) tensor(name string, shape []int64) *oip.Tensor {
	if b.dt == oip.BF16 {
		return oip.NewBF16Tensor(name, shape, b.data)
	}
	return oip.NewFP16Tensor(name, shape, b.data)
}

type boolBuilder struct{ data []bool }

func (b *boolBuilder) add(v *Value) error {
	x, err := toBool(*v)
	b.data = append(b.data, x)
	return err
}
func (b *boolBuilder) len() int       { return len(b.data) }
func (b *boolBuilder) truncate(n int) { b.data = b.data[:n] }
func (b *boolBuilder) tensor(name string, shape []int64) *oip.Tensor {
	return oip.NewTensor(name, shape, b.data)
}

type bytesBuilder struct{ data [][]byte }

func (b *bytesBuilder) add(v *Value) error {
	x, err := toBytes(*v)
	b.data = append(b.data, x)
	return err
}
func (b *bytesBuilder) len() int       { return len(b.data) }
func (b *bytesBuilder) truncate(n int) { b.data = b.data[:n] }
func (b *bytesBuilder) tensor(name string, shape []int64) *oip.Tensor {
	return oip.NewBytesTensor(name, shape, b.data)
}
