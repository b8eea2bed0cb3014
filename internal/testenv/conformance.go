package testenv

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// Case is one model of the conformance set with requests to send it and,
// per request, the outputs ONNX semantics say it must answer (by name).
type Case struct {
	Name     string
	Model    *onnx.Model
	Requests []Request
}

// Request is one set of inputs and the outputs it must produce. A Want
// tensor with the parameter "optional_none" stands for an empty optional.
type Request struct {
	Inputs []*oip.Tensor
	Want   []*oip.Tensor
}

// ConformanceCases returns small models that cover what a serving node must
// carry: every datatype as a scalar, as a zero-size tensor and as an
// ordinary one; a graph without inputs; inputs backed by initializers;
// optional inputs and outputs; outputs whose rank is known only at run time;
// sequences (of one shape, ragged, empty) and StringNormalizer.
func ConformanceCases(t testing.TB) []Case {
	t.Helper()
	var cases []Case
	for _, dt := range AllTypes {
		sample := SampleTensor("x", dt)
		for _, c := range []struct {
			kind string
			dims []int64
			in   *oip.Tensor
		}{
			{"scalar", []int64{}, Scalar(sample)},
			{"empty", []int64{-1, 2}, emptyLike(sample, 0, 2)},
			{"empty-middle", []int64{3, 0, 5}, emptyLike(sample, 3, 0, 5)},
			{"matrix", []int64{-1, 2}, sample},
		} {
			typ := onnx.Type{Kind: onnx.KindTensor, Elem: dt, Shape: make([]onnx.Dim, len(c.dims))}
			for i, d := range c.dims {
				typ.Shape[i] = onnx.Dim{Size: d}
			}
			m := build(t, onnx.NewBuilder("identity").
				Input("x", typ).Node("Identity", []string{"x"}, []string{"y"}).Output("y", typ))
			want := *c.in
			want.Name = "y"
			cases = append(cases, Case{Name: c.kind + "-" + dt.String(), Model: m,
				Requests: []Request{{Inputs: []*oip.Tensor{c.in}, Want: []*oip.Tensor{&want}}}})
		}
	}
	return append(cases, specialCases(t)...)
}

func specialCases(t testing.TB) []Case {
	f32 := func(name string, shape []int64, v ...float32) *oip.Tensor { return oip.NewTensor(name, shape, v) }
	i64 := func(name string, shape []int64, v ...int64) *oip.Tensor { return oip.NewTensor(name, shape, v) }
	none := func(name string, dt oip.Datatype) *oip.Tensor {
		return &oip.Tensor{Name: name, Datatype: dt, Shape: []int64{0}, Parameters: oip.Parameters{"optional_none": true}}
	}
	floatAny := onnx.TensorType(onnx.Float) // rank unknown
	scalarF := onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Float, Shape: []onnx.Dim{}}
	scalarB := onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Bool, Shape: []onnx.Dim{}}
	optF := onnx.OptionalType(onnx.TensorType(onnx.Float, -1))
	return []Case{
		{
			Name: "no-inputs",
			Model: build(t, onnx.NewBuilder("constants").
				Node("Constant", nil, []string{"c"}, onnx.AttrTensor("value", onnx.Float, []int64{2}, []float32{3, 4})).
				Node("Constant", nil, []string{"s"}, onnx.AttrTensor("value", onnx.Int64, []int64{}, []int64{7})).
				Output("c", onnx.TensorType(onnx.Float, 2)).
				Output("s", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Int64, Shape: []onnx.Dim{}})),
			Requests: []Request{{Want: []*oip.Tensor{f32("c", []int64{2}, 3, 4), i64("s", []int64{}, 7)}}},
		},
		{
			Name: "initializer-defaults",
			Model: build(t, onnx.NewBuilder("defaults").
				Input("x", onnx.TensorType(onnx.Float, -1)).
				Input("k", onnx.TensorType(onnx.Float, 1)).
				Input("s", scalarF).
				Initializer("k", onnx.Float, []int64{1}, []float32{1}).
				Initializer("s", onnx.Float, []int64{}, []float32{10}).
				Node("Add", []string{"x", "k"}, []string{"xk"}).
				Node("Mul", []string{"xk", "s"}, []string{"y"}).
				Output("y", onnx.TensorType(onnx.Float, -1))),
			Requests: []Request{
				{Inputs: []*oip.Tensor{f32("x", nil, 1, 2)}, Want: []*oip.Tensor{f32("y", nil, 20, 30)}},
				{Inputs: []*oip.Tensor{f32("x", nil, 1, 2), f32("k", nil, 5), f32("s", []int64{}, 2)}, Want: []*oip.Tensor{f32("y", nil, 12, 14)}},
			},
		},
		{
			Name: "only-initializer-inputs",
			Model: build(t, onnx.NewBuilder("only-defaults").
				Input("k", onnx.TensorType(onnx.Int64, 2)).
				Initializer("k", onnx.Int64, []int64{2}, []int64{4, 5}).
				Node("Neg", []string{"k"}, []string{"y"}).
				Output("y", onnx.TensorType(onnx.Int64, 2))),
			Requests: []Request{
				{Want: []*oip.Tensor{i64("y", nil, -4, -5)}},
				{Inputs: []*oip.Tensor{i64("k", nil, 1, 2)}, Want: []*oip.Tensor{i64("y", nil, -1, -2)}},
			},
		},
		{
			Name: "optional-input",
			Model: build(t, onnx.NewBuilder("optional-in").Opset("", 18).
				Input("o", optF).
				Node("OptionalHasElement", []string{"o"}, []string{"has"}).
				Output("has", scalarB)),
			Requests: []Request{
				{Inputs: []*oip.Tensor{f32("o", nil, 1, 2)}, Want: []*oip.Tensor{oip.NewTensor("has", []int64{}, []bool{true})}},
				{Want: []*oip.Tensor{oip.NewTensor("has", []int64{}, []bool{false})}},
			},
		},
		{
			Name: "optional-output",
			Model: build(t, onnx.NewBuilder("optional-out").Opset("", 18).
				Input("x", onnx.TensorType(onnx.Float, -1)).
				Input("keep", scalarB).
				Node("If", []string{"keep"}, []string{"o"},
					onnx.AttrGraph("then_branch", onnx.NewBuilder("keep").
						Node("Optional", []string{"x"}, []string{"kept"}).Output("kept", optF)),
					onnx.AttrGraph("else_branch", onnx.NewBuilder("drop").
						Node("Optional", nil, []string{"dropped"}, onnx.AttrType("type", onnx.TensorType(onnx.Float, -1))).Output("dropped", optF))).
				Output("o", optF)),
			Requests: []Request{
				{Inputs: []*oip.Tensor{f32("x", nil, 1, 2), oip.NewTensor("keep", []int64{}, []bool{true})}, Want: []*oip.Tensor{f32("o", nil, 1, 2)}},
				{Inputs: []*oip.Tensor{f32("x", nil, 1, 2), oip.NewTensor("keep", []int64{}, []bool{false})}, Want: []*oip.Tensor{none("o", oip.FP32)}},
			},
		},
		{
			// An empty axes input means "reduce over every axis"; the output's
			// rank is known only when the model runs.
			Name: "reduce-sum-dynamic-rank",
			Model: build(t, onnx.NewBuilder("reduce").
				Input("x", onnx.TensorType(onnx.Float, -1, 3)).
				Input("axes", onnx.TensorType(onnx.Int64, -1)).
				Node("ReduceSum", []string{"x", "axes"}, []string{"y"}, onnx.AttrInt("keepdims", 0)).
				Output("y", floatAny)),
			Requests: []Request{
				{Inputs: []*oip.Tensor{f32("x", []int64{2, 3}, 1, 2, 3, 4, 5, 6), i64("axes", []int64{0})}, Want: []*oip.Tensor{f32("y", []int64{}, 21)}},
				{Inputs: []*oip.Tensor{f32("x", []int64{2, 3}, 1, 2, 3, 4, 5, 6), i64("axes", nil, 1)}, Want: []*oip.Tensor{f32("y", nil, 6, 15)}},
			},
		},
		{
			Name: "scalar-fp16-output",
			Model: build(t, onnx.NewBuilder("half").
				Input("x", scalarF).
				Node("Cast", []string{"x"}, []string{"h"}, onnx.AttrInt("to", int64(onnx.Float16))).
				Output("h", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Float16, Shape: []onnx.Dim{}})),
			Requests: []Request{{Inputs: []*oip.Tensor{f32("x", []int64{}, 1.5)}, Want: []*oip.Tensor{oip.NewFP16Tensor("h", []int64{}, []uint16{0x3E00})}}},
		},
		{
			Name: "sequences",
			Model: build(t, onnx.NewBuilder("sequences").
				Input("x", onnx.TensorType(onnx.Float, -1)).
				Input("split", onnx.TensorType(onnx.Int64, -1)).
				Node("SplitToSequence", []string{"x", "split"}, []string{"parts"}).
				Node("SequenceEmpty", nil, []string{"nothing"}, onnx.AttrInt("dtype", int64(onnx.Float))).
				Output("parts", onnx.SequenceType(onnx.TensorType(onnx.Float, -1))).
				Output("nothing", onnx.SequenceType(onnx.TensorType(onnx.Float)))),
			Requests: []Request{
				{
					Inputs: []*oip.Tensor{f32("x", nil, 1, 2, 3, 4), i64("split", nil, 2, 2)},
					Want:   []*oip.Tensor{f32("parts", []int64{2, 2}, 1, 2, 3, 4), f32("nothing", []int64{0})},
				},
				{
					// Ragged: the elements concatenated, their shapes in a parameter.
					Inputs: []*oip.Tensor{f32("x", nil, 1, 2, 3), i64("split", nil, 1, 2)},
					Want: []*oip.Tensor{withParams(f32("parts", nil, 1, 2, 3), oip.Parameters{"sequence_shapes": [][]int64{{1}, {2}}}),
						f32("nothing", []int64{0})},
				},
			},
		},
		{
			// Elements the binding cannot hand back as they are: scalars, and
			// 16-bit floats of unknown rank.
			Name: "sequence-of-scalars",
			Model: build(t, onnx.NewBuilder("scalars").Opset("", 18).
				Input("a", scalarF).
				Input("b", scalarF).
				Node("SequenceConstruct", []string{"a", "b"}, []string{"both"}).
				Node("Cast", []string{"a"}, []string{"ha"}, onnx.AttrInt("to", int64(onnx.Float16))).
				Node("Cast", []string{"b"}, []string{"hb"}, onnx.AttrInt("to", int64(onnx.Float16))).
				Node("SequenceConstruct", []string{"ha", "hb"}, []string{"halves"}).
				Output("both", onnx.SequenceType(scalarF)).
				Output("halves", onnx.SequenceType(onnx.TensorType(onnx.Float16)))),
			Requests: []Request{{
				Inputs: []*oip.Tensor{f32("a", []int64{}, 1.5), f32("b", []int64{}, -2)},
				Want:   []*oip.Tensor{f32("both", nil, 1.5, -2), oip.NewFP16Tensor("halves", []int64{2}, []uint16{0x3E00, 0xC000})},
			}},
		},
		{
			// A sequence input is sent stacked, [N, ...element shape].
			Name: "sequence-input",
			Model: build(t, onnx.NewBuilder("seq-in").Opset("", 18).
				Input("s", onnx.SequenceType(onnx.TensorType(onnx.Float, 3))).
				Node("SequenceLength", []string{"s"}, []string{"n"}).
				Node("ConcatFromSequence", []string{"s"}, []string{"joined"}, onnx.AttrInt("axis", 0)).
				Output("n", onnx.Type{Kind: onnx.KindTensor, Elem: onnx.Int64, Shape: []onnx.Dim{}}).
				Output("joined", onnx.TensorType(onnx.Float, -1))),
			Requests: []Request{{
				Inputs: []*oip.Tensor{f32("s", []int64{2, 3}, 1, 2, 3, 4, 5, 6)},
				Want:   []*oip.Tensor{i64("n", []int64{}, 2), f32("joined", nil, 1, 2, 3, 4, 5, 6)},
			}},
		},
		{
			Name: "string-normalizer",
			Model: build(t, onnx.NewBuilder("normalize").
				Input("x", onnx.TensorType(onnx.String, -1)).
				Node("StringNormalizer", []string{"x"}, []string{"y"}, onnx.AttrString("case_change_action", "UPPER")).
				Output("y", onnx.TensorType(onnx.String, -1))),
			Requests: []Request{{
				Inputs: []*oip.Tensor{oip.NewBytesTensor("x", nil, [][]byte{[]byte("héllo"), []byte("b")})},
				Want:   []*oip.Tensor{oip.NewBytesTensor("y", nil, [][]byte{[]byte("HÉLLO"), []byte("B")})},
			}},
		},
	}
}

// Scalar returns a rank-0 tensor holding t's first element.
func Scalar(t *oip.Tensor) *oip.Tensor {
	s := &oip.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: []int64{}}
	if t.Datatype == oip.Bytes {
		s.Strings = t.Strings[:1]
	} else {
		s.Raw = t.Raw[:t.Datatype.Size()]
	}
	return s
}

func emptyLike(t *oip.Tensor, shape ...int64) *oip.Tensor {
	e := &oip.Tensor{Name: t.Name, Datatype: t.Datatype, Shape: shape}
	if t.Datatype != oip.Bytes {
		e.Raw = []byte{}
	}
	return e
}

func withParams(t *oip.Tensor, p oip.Parameters) *oip.Tensor {
	t.Parameters = p
	return t
}

// SameTensor returns an error that says how got differs from want: name,
// datatype, shape, every element bit for bit (a NaN equals only the same
// NaN), and the parameters that describe optional and sequence outputs.
func SameTensor(got, want *oip.Tensor) error {
	if got == nil {
		return fmt.Errorf("%s: missing", want.Name)
	}
	if got.Name != want.Name || got.Datatype != want.Datatype || !slices.Equal(got.Shape, want.Shape) {
		return fmt.Errorf("got %s %s %v, want %s %s %v", got.Name, got.Datatype, got.Shape, want.Name, want.Datatype, want.Shape)
	}
	if !bytes.Equal(got.Raw, want.Raw) {
		return fmt.Errorf("%s: data %v, want %v", want.Name, got.Raw, want.Raw)
	}
	if len(got.Strings) != len(want.Strings) {
		return fmt.Errorf("%s: %d strings, want %d", want.Name, len(got.Strings), len(want.Strings))
	}
	for i := range want.Strings {
		if !bytes.Equal(got.Strings[i], want.Strings[i]) {
			return fmt.Errorf("%s: string %d is %q, want %q", want.Name, i, got.Strings[i], want.Strings[i])
		}
	}
	for _, p := range []string{"optional_none", "sequence_shapes"} {
		if g, w := fmt.Sprint(got.Parameters[p]), fmt.Sprint(want.Parameters[p]); g != w {
			return fmt.Errorf("%s: parameter %s is %s, want %s", want.Name, p, g, w)
		}
	}
	return nil
}
