package oip

import (
	"bytes"
	"errors"
	"net/http"
	"testing"
	"unsafe"
)

func TestBinaryIsZeroCopy(t *testing.T) {
	in := NewTensor("x", []int64{64, 1024}, make([]float32, 64*1024))
	body, n := EncodeRequest(&InferRequest{Inputs: []*Tensor{in, NewBytesTensor("s", nil, [][]byte{[]byte("abc")})}}, true)
	req, err := DecodeRequest(body, n)
	if err != nil {
		t.Fatal(err)
	}
	x := req.Inputs[0]
	if len(x.Raw) != 64*1024*4 || unsafe.SliceData(x.Raw) != &body[n] {
		t.Error("fixed-size binary data was copied")
	}
	if cap(x.Raw) != len(x.Raw) {
		t.Error("Raw can grow into the next tensor's bytes")
	}
	s := req.Inputs[1].Strings[0]
	if string(s) != "abc" || unsafe.SliceData(s) != &body[len(body)-3] || cap(s) != 3 {
		t.Error("BYTES element was copied or can grow")
	}
}

func TestBinaryLayout(t *testing.T) {
	req := &InferRequest{Inputs: []*Tensor{
		NewTensor("a", nil, []int16{1, -2}),
		NewBytesTensor("s", nil, [][]byte{[]byte("hi"), {}}),
	}}
	body, n := EncodeRequest(req, true)
	wantHdr := `{"inputs":[{"name":"a","datatype":"INT16","shape":[2],"parameters":{"binary_data_size":4}},` +
		`{"name":"s","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":10}}]}`
	if string(body[:n]) != wantHdr {
		t.Errorf("header\n got  %s\n want %s", body[:n], wantHdr)
	}
	wantBlob := []byte{1, 0, 0xfe, 0xff, 2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0}
	if !bytes.Equal(body[n:], wantBlob) {
		t.Errorf("blob % x, want % x", body[n:], wantBlob)
	}
}

// TestBinaryFromTritonClient decodes a body laid out as tritonclient sends
// it: JSON inputs mixed with binary ones, parameters kept beside
// binary_data_size, and a request for binary outputs.
func TestBinaryFromTritonClient(t *testing.T) {
	hdr := `{"inputs":[{"name":"INPUT0","shape":[1,2],"datatype":"INT32","parameters":{"binary_data_size":8}},` +
		`{"name":"INPUT1","shape":[1,2],"datatype":"INT32","data":[[5,6]]},` +
		`{"name":"INPUT2","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":7,"note":"x"}}],` +
		`"outputs":[{"name":"OUTPUT0","parameters":{"binary_data":true}}]}`
	body := append([]byte(hdr), 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 'a', 'b', 'c')
	req, err := DecodeRequest(body, len(hdr))
	if err != nil {
		t.Fatal(err)
	}
	want := []*Tensor{
		NewTensor("INPUT0", []int64{1, 2}, []int32{1, 2}),
		NewTensor("INPUT1", []int64{1, 2}, []int32{5, 6}),
		NewBytesTensor("INPUT2", []int64{1}, [][]byte{[]byte("abc")}),
	}
	want[2].Parameters = Parameters{"note": "x"}
	if d := sameTensors(want, req.Inputs); d != "" {
		t.Error(d)
	}
	if !req.WantsBinary("OUTPUT0") || req.WantsBinary("OUTPUT1") {
		t.Error("WantsBinary")
	}
}

func TestParseHeaderLength(t *testing.T) {
	cases := []struct {
		value string
		n     int
		ok    bool
	}{
		{"", -1, true},
		{"0", 0, true},
		{" 123 ", 123, true},
		{"-1", 0, false},
		{"12a", 0, false},
		{"99999999999999999999999", 0, false},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.value != "" {
			h.Set(HeaderContentLength, c.value)
		}
		n, err := ParseHeaderLength(h)
		if c.ok && (err != nil || n != c.n) || !c.ok && !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %d %v", c.value, n, err)
		}
	}
}
