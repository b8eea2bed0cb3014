package onnx

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

func scanFixture(t *testing.T) *Model {
	t.Helper()
	m, err := NewBuilder("scan").
		Producer("test", "3").
		Metadata("k", "v").
		Input("x", TensorType(Float, -1, 2)).
		Input("bias", TensorType(Float, 2)).
		Initializer("bias", Float, []int64{2}, []float32{1, 2}).
		Node("Add", []string{"x", "bias"}, []string{"y"}).
		Output("y", TensorType(Float, -1, 2)).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestScanMatchesParse(t *testing.T) {
	m := scanFixture(t)
	data, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Scan(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Inputs, m.Inputs) || !reflect.DeepEqual(got.Outputs, m.Outputs) {
		t.Errorf("signature %+v -> %+v, want %+v -> %+v", got.Inputs, got.Outputs, m.Inputs, m.Outputs)
	}
	if got.ProducerVersion != "3" || got.Metadata["k"] != "v" || !reflect.DeepEqual(got.Opsets, m.Opsets) {
		t.Errorf("header %+v", got)
	}
}

func TestScanLargeInitializerStaysStreaming(t *testing.T) {
	m := scanFixture(t)
	const n = 3 << 20
	var buf bytes.Buffer
	written, err := m.WriteWithRawInitializer(&buf, "big", Uint8, []int64{n}, io.LimitReader(zeros{}, n))
	if err != nil {
		t.Fatal(err)
	}
	if written != int64(buf.Len()) || written < n {
		t.Fatalf("wrote %d bytes, buffer holds %d", written, buf.Len())
	}
	// The full decoder sees the extra initializer, merged into the one graph.
	full, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(full.proto.GetGraph().GetInitializer()) != 2 || len(full.proto.GetGraph().GetNode()) != 1 {
		t.Fatalf("merged graph: %d initializers, %d nodes", len(full.proto.GetGraph().GetInitializer()), len(full.proto.GetGraph().GetNode()))
	}
	got, err := Scan(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Inputs, m.Inputs) {
		t.Errorf("inputs %+v, want %+v", got.Inputs, m.Inputs)
	}
	kept, _ := got.Bytes()
	if len(kept) > 1024 {
		t.Errorf("scan kept %d bytes of a %d byte model", len(kept), written)
	}
}

func TestScanRejectsBrokenModels(t *testing.T) {
	data, err := scanFixture(t).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"text":      []byte("hello, this is not a model"),
		"empty":     nil,
		"truncated": data[:len(data)-3],
		"group":     {0x0b},
	} {
		if _, err := Scan(bytes.NewReader(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

func TestScanReturnsReadErrors(t *testing.T) {
	boom := errors.New("connection reset")
	data, _ := scanFixture(t).Bytes()
	_, err := Scan(io.MultiReader(bytes.NewReader(data[:10]), errReader{boom}))
	if !errors.Is(err, boom) || errors.Is(err, ErrInvalid) {
		t.Fatalf("err %v, want the reader's error", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
