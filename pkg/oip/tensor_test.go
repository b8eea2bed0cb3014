package oip

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

func TestDatatypeSize(t *testing.T) {
	sizes := map[Datatype]int{
		Bool: 1, Uint8: 1, Int8: 1, Uint16: 2, Int16: 2, FP16: 2, BF16: 2,
		Uint32: 4, Int32: 4, FP32: 4, Uint64: 8, Int64: 8, FP64: 8, Bytes: 0,
	}
	for dt, size := range sizes {
		if dt.Size() != size || !dt.Valid() {
			t.Errorf("%s: Size %d Valid %v, want %d true", dt, dt.Size(), dt.Valid(), size)
		}
		if got, ok := parseDatatype([]byte(dt)); !ok || got != dt {
			t.Errorf("parseDatatype(%s) = %s %v", dt, got, ok)
		}
	}
	for _, dt := range []Datatype{"", "fp32", "FP8", "STRING"} {
		if dt.Size() != -1 || dt.Valid() {
			t.Errorf("%q: Size %d Valid %v", dt, dt.Size(), dt.Valid())
		}
	}
}

func TestValuesEveryType(t *testing.T) {
	checkValues(t, []bool{true, false, true})
	checkValues(t, []uint8{0, 255})
	checkValues(t, []uint16{0, math.MaxUint16})
	checkValues(t, []uint32{0, math.MaxUint32})
	checkValues(t, []uint64{0, math.MaxUint64})
	checkValues(t, []int8{math.MinInt8, math.MaxInt8})
	checkValues(t, []int16{math.MinInt16, math.MaxInt16})
	checkValues(t, []int32{math.MinInt32, math.MaxInt32})
	checkValues(t, []int64{math.MinInt64, math.MaxInt64})
	checkValues(t, []float32{-1.5, math.MaxFloat32})
	checkValues(t, []float64{-1.5, math.MaxFloat64})
}

func checkValues[T Element](t *testing.T, data []T) {
	t.Helper()
	tensor := NewTensor("x", nil, data)
	if tensor.Datatype != DatatypeOf[T]() || !slices.Equal(tensor.Shape, []int64{int64(len(data))}) {
		t.Fatalf("%T: datatype %s shape %v", data, tensor.Datatype, tensor.Shape)
	}
	if err := tensor.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := Values[T](tensor)
	if err != nil || !slices.Equal(got, data) {
		t.Fatalf("%T: Values = %v, %v", data, got, err)
	}
	if unsafe.SliceData(got) != unsafe.SliceData(data) {
		t.Errorf("%T: Values copied an aligned tensor", data)
	}
	// Through the wire and back.
	body, n := EncodeRequest(&InferRequest{Inputs: []*Tensor{tensor}}, false)
	req, err := DecodeRequest(body, n)
	if err != nil {
		t.Fatal(err)
	}
	got, err = Values[T](req.Inputs[0])
	if err != nil || !slices.Equal(got, data) {
		t.Fatalf("%T: decoded Values = %v, %v", data, got, err)
	}
}

func TestValuesMisalignedCopies(t *testing.T) {
	buf := make([]byte, 17)
	raw := buf[1:17]
	for i := range 4 {
		f := math.Float32bits(float32(i) + 0.5)
		raw[4*i], raw[4*i+1], raw[4*i+2], raw[4*i+3] = byte(f), byte(f>>8), byte(f>>16), byte(f>>24)
	}
	got, err := Values[float32](&Tensor{Name: "x", Datatype: FP32, Shape: []int64{4}, Raw: raw})
	if err != nil || !slices.Equal(got, []float32{0.5, 1.5, 2.5, 3.5}) {
		t.Fatalf("%v %v", got, err)
	}
}

func TestValuesErrors(t *testing.T) {
	tensor := NewTensor("x", nil, []int32{1, 2})
	_, err := Values[float32](tensor)
	if !errors.Is(err, ErrInvalid) || err.Error() != `tensor "x": datatype is INT32, not FP32` {
		t.Errorf("got %v", err)
	}
	if _, err := Values[int32](&Tensor{Name: "x", Datatype: Int32, Raw: []byte{1, 2, 3}}); err == nil {
		t.Error("ragged Raw accepted")
	}
	if _, err := HalfBits(tensor); err == nil {
		t.Error("HalfBits accepted INT32")
	}
	if _, err := Values[uint16](NewFP16Tensor("h", nil, []uint16{1})); err == nil {
		t.Error("Values[uint16] accepted FP16")
	}
	got, err := Values[float32](&Tensor{Name: "e", Datatype: FP32, Shape: []int64{0}})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty tensor: %v %v", got, err)
	}
}

func TestHalfBits(t *testing.T) {
	for _, tensor := range []*Tensor{NewFP16Tensor("h", nil, []uint16{0x3C00, 0x7BFF}), NewBF16Tensor("b", nil, []uint16{0x3C00, 0x7BFF})} {
		got, err := HalfBits(tensor)
		if err != nil || !slices.Equal(got, []uint16{0x3C00, 0x7BFF}) {
			t.Errorf("%s: %v %v", tensor.Datatype, got, err)
		}
	}
}

func TestValuesBoolNormalizes(t *testing.T) {
	raw := []byte{0, 1, 7, 0}
	got, err := Values[bool](&Tensor{Name: "b", Datatype: Bool, Shape: []int64{4}, Raw: raw})
	if err != nil || !slices.Equal(got, []bool{false, true, true, false}) {
		t.Fatalf("%v %v", got, err)
	}
	if raw[2] != 7 {
		t.Error("Values changed Raw")
	}
}

func TestNumElementsAndValidate(t *testing.T) {
	cases := []struct {
		shape []int64
		n     int64
		err   string
	}{
		{[]int64{}, 1, ""},
		{[]int64{2, 3, 4}, 24, ""},
		{[]int64{5, 0, 1 << 62}, 0, ""},
		{[]int64{2, -1}, 0, "shape [2,-1] has a negative dimension"},
		{[]int64{1 << 32, 1 << 31}, 0, "shape [4294967296,2147483648] has too many elements"},
	}
	for _, c := range cases {
		n, err := (&Tensor{Shape: c.shape}).NumElements()
		if c.err == "" && (err != nil || n != c.n) || c.err != "" && (err == nil || err.Error() != c.err) {
			t.Errorf("%v: %d %v", c.shape, n, err)
		}
	}
	bad := []struct {
		tensor *Tensor
		want   string
	}{
		{&Tensor{Datatype: FP32}, "missing name"},
		{&Tensor{Name: "x", Datatype: "F32"}, `unknown datatype "F32"`},
		{&Tensor{Name: "x", Datatype: FP32, Shape: []int64{-2}}, "negative dimension"},
		{&Tensor{Name: "x", Datatype: FP32, Shape: []int64{2}, Raw: make([]byte, 4)}, `tensor "x": shape [2] needs 2 elements of FP32, got 4 bytes`},
		{&Tensor{Name: "x", Datatype: Bytes, Shape: []int64{2}, Strings: [][]byte{nil}}, `tensor "x": shape [2] needs 2 elements, got 1`},
	}
	for _, c := range bad {
		err := c.tensor.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want %q", c.tensor, err, c.want)
		}
	}
	for _, tensor := range edgeTensors() {
		if err := tensor.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestLookups(t *testing.T) {
	req := &InferRequest{Inputs: edgeTensors()}
	if req.Input("f32") == nil || req.Input("nope") != nil {
		t.Error("InferRequest.Input")
	}
	resp := &InferResponse{Outputs: edgeTensors()}
	if resp.Output("str") == nil || resp.Output("nope") != nil {
		t.Error("InferResponse.Output")
	}
	p := Parameters{"a": int64(3), "b": 4.0, "c": 4.5, "d": "s", "e": true, "f": 7, "g": uint64(math.MaxUint64)}
	for key, want := range map[string]bool{"a": true, "b": true, "c": false, "d": false, "f": true, "g": false, "zz": false} {
		if _, ok := p.Int(key); ok != want {
			t.Errorf("Int(%q) ok=%v", key, ok)
		}
	}
	if v, ok := p.String("d"); !ok || v != "s" {
		t.Error("String")
	}
	if v, ok := p.Bool("e"); !ok || !v {
		t.Error("Bool")
	}
	if _, ok := p.Bool("a"); ok {
		t.Error("Bool accepted a number")
	}
}
