package onnx

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

func TestBuildAndReadSignature(t *testing.T) {
	x := Type{Kind: KindTensor, Elem: Float, Shape: []Dim{{Size: -1, Name: "batch"}, {Size: 4}}}
	m, err := NewBuilder("linear").
		Opset("ai.onnx.ml", 3).
		Producer("test", "1.2").
		ModelVersion(7).
		Metadata("feature_names", "a,b,c,d").
		Input("x", x).
		Initializer("W", Float, []int64{4, 2}, []float32{1, 2, 3, 4, 5, 6, 7, 8}).
		Node("MatMul", []string{"x", "W"}, []string{"y"}).
		Node("ArgMax", []string{"y"}, []string{"label"}, AttrInt("axis", 1), AttrInt("keepdims", 0)).
		Output("y", TensorType(Float, -1, 2)).
		Output("label", TensorType(Int64, -1)).
		Output("probs", SequenceType(MapType(Int64, TensorType(Float)))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.onnx")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProducerName != "test" || got.ProducerVersion != "1.2" || got.ModelVersion != 7 || got.GraphName != "linear" || got.IRVersion != irVersion {
		t.Errorf("header fields: %+v", got)
	}
	if want := []Opset{{"", 17}, {"ai.onnx.ml", 3}}; !reflect.DeepEqual(got.Opsets, want) {
		t.Errorf("opsets %v, want %v", got.Opsets, want)
	}
	if got.Metadata["feature_names"] != "a,b,c,d" {
		t.Errorf("metadata %v", got.Metadata)
	}
	if len(got.Inputs) != 1 || got.Inputs[0].Name != "x" || !reflect.DeepEqual(got.Inputs[0].Type, x) {
		t.Errorf("inputs %+v", got.Inputs)
	}
	if s := got.Inputs[0].Type.String(); s != "tensor(float)[batch,4]" {
		t.Errorf("input type string %q", s)
	}
	if d := got.Inputs[0].Type.Dims(); !reflect.DeepEqual(d, []int64{-1, 4}) {
		t.Errorf("dims %v", d)
	}
	probs, ok := got.Output("probs")
	if !ok || probs.Type.String() != "seq(map(int64,tensor(float)))" {
		t.Errorf("probs output %+v", probs)
	}
}

func TestInitializerInputsAreNotSignature(t *testing.T) {
	m, err := NewBuilder("g").
		Input("x", TensorType(Float, 1)).
		Input("bias", TensorType(Float, 1)).
		Initializer("bias", Float, []int64{1}, []float32{2}).
		Node("Add", []string{"x", "bias"}, []string{"y"}).
		Output("y", TensorType(Float, 1)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || m.Inputs[0].Name != "x" {
		t.Errorf("inputs %+v, want only x", m.Inputs)
	}
}

func TestParseRejectsNonModels(t *testing.T) {
	for name, data := range map[string][]byte{
		"text":     []byte("hello, this is not a model"),
		"empty":    nil,
		"no graph": {0x08, 0x08},
	} {
		if _, err := Parse(data); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

func TestBuilderReportsBadInitializer(t *testing.T) {
	_, err := NewBuilder("g").Initializer("w", Float, []int64{2, 2}, []float32{1, 2, 3}).Build()
	if err == nil {
		t.Fatal("want error for 3 elements in a 2x2 tensor")
	}
	_, err = NewBuilder("g").Initializer("w", Int64, []int64{1}, []float32{1}).Build()
	if err == nil {
		t.Fatal("want error for float data in an int64 tensor")
	}
}
