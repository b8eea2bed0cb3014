package oip

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
)

// sameTensor describes how got differs from want, or returns "". Raw is
// compared byte for byte.
func sameTensor(want, got *Tensor) string {
	switch {
	case want.Name != got.Name:
		return fmt.Sprintf("name %q, want %q", got.Name, want.Name)
	case want.Datatype != got.Datatype:
		return fmt.Sprintf("%q: datatype %s, want %s", want.Name, got.Datatype, want.Datatype)
	case !slices.Equal(want.Shape, got.Shape):
		return fmt.Sprintf("%q: shape %v, want %v", want.Name, got.Shape, want.Shape)
	case !bytes.Equal(want.Raw, got.Raw):
		return fmt.Sprintf("%q: raw %x, want %x", want.Name, got.Raw, want.Raw)
	case len(want.Strings) != len(got.Strings):
		return fmt.Sprintf("%q: %d strings, want %d", want.Name, len(got.Strings), len(want.Strings))
	case !sameParams(want.Parameters, got.Parameters):
		return fmt.Sprintf("%q: parameters %v, want %v", want.Name, got.Parameters, want.Parameters)
	}
	for i := range want.Strings {
		if !bytes.Equal(want.Strings[i], got.Strings[i]) {
			return fmt.Sprintf("%q: string %d is %q, want %q", want.Name, i, got.Strings[i], want.Strings[i])
		}
	}
	return ""
}

func sameTensors(want, got []*Tensor) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		if d := sameTensor(want[i], got[i]); d != "" {
			return d
		}
	}
	return ""
}

func sameParams(a, b Parameters) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func sameRequest(want, got *InferRequest) string {
	if want.ID != got.ID {
		return fmt.Sprintf("id %q, want %q", got.ID, want.ID)
	}
	if !sameParams(want.Parameters, got.Parameters) {
		return fmt.Sprintf("parameters %v, want %v", got.Parameters, want.Parameters)
	}
	if len(want.Outputs) != len(got.Outputs) {
		return fmt.Sprintf("outputs %v, want %v", got.Outputs, want.Outputs)
	}
	for i := range want.Outputs {
		if want.Outputs[i].Name != got.Outputs[i].Name || !sameParams(want.Outputs[i].Parameters, got.Outputs[i].Parameters) {
			return fmt.Sprintf("outputs %v, want %v", got.Outputs, want.Outputs)
		}
	}
	return sameTensors(want.Inputs, got.Inputs)
}

// edgeTensors holds one tensor of every datatype with its edge values.
func edgeTensors() []*Tensor {
	nan32 := float32(math.NaN())
	return []*Tensor{
		NewTensor("bool", []int64{2, 2}, []bool{true, false, false, true}),
		NewTensor("u8", nil, []uint8{0, 1, 255}),
		NewTensor("u16", nil, []uint16{0, 1, math.MaxUint16}),
		NewTensor("u32", nil, []uint32{0, 1, math.MaxUint32}),
		NewTensor("u64", nil, []uint64{0, 1, math.MaxUint64}),
		NewTensor("i8", nil, []int8{math.MinInt8, -1, 0, math.MaxInt8}),
		NewTensor("i16", nil, []int16{math.MinInt16, -1, 0, math.MaxInt16}),
		NewTensor("i32", nil, []int32{math.MinInt32, -1, 0, math.MaxInt32}),
		NewTensor("i64", nil, []int64{math.MinInt64, -1, 0, math.MaxInt64}),
		NewTensor("f32", []int64{2, 5}, []float32{0, float32(math.Copysign(0, -1)), 0.1, -1.5, math.MaxFloat32,
			math.SmallestNonzeroFloat32, 1e-40, float32(math.Inf(1)), float32(math.Inf(-1)), nan32}),
		NewTensor("f64", []int64{10}, []float64{0, math.Copysign(0, -1), 0.1, -1.5, math.MaxFloat64,
			math.SmallestNonzeroFloat64, 1e300, math.Inf(1), math.Inf(-1), math.NaN()}),
		NewFP16Tensor("f16", nil, []uint16{0x3C00, 0x7BFF, 0x0001, 0x0400, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x2E66, 0xC000}),
		NewBF16Tensor("bf16", nil, []uint16{0x3F80, 0x7F7F, 0x0001, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0x3DCD, 0xC000}),
		NewBytesTensor("str", []int64{3, 2}, [][]byte{
			{}, []byte("hello"), []byte("héllo ✓ 日本語 😀"), []byte("quote\" back\\ nl\n tab\t ctl\x01\x1f"),
			[]byte("</script>&"), []byte("\u2028"),
		}),
		NewTensor("empty", []int64{0, 3}, []float32{}),
		NewTensor("scalar", []int64{}, []int32{42}),
	}
}

// binaryOnlyTensors holds values that JSON cannot carry exactly.
func binaryOnlyTensors() []*Tensor {
	return []*Tensor{
		NewTensor("nan-payload", nil, []float32{math.Float32frombits(0x7F800001), math.Float32frombits(0xFFC00123)}),
		NewBytesTensor("raw-bytes", nil, [][]byte{{0xff, 0xfe, 0x00}, {}, {0x80}}),
		NewFP16Tensor("f16-snan", nil, []uint16{0x7C01, 0xFE01}),
	}
}
