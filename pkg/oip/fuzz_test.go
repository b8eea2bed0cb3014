package oip

import (
	"errors"
	"testing"
)

// jsonSeeds are request bodies for the fuzzers: valid ones of every kind
// and a few broken ones.
func jsonSeeds() []string {
	full, _ := EncodeRequest(edgeRequest(), false)
	return []string{
		string(full),
		`{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}`,
		`{"inputs":[{"name":"x","shape":[2,2],"datatype":"INT64","data":[[1,-2],[3e2,4.0]]}]}`,
		`{"inputs":[{"data":["a","\u00e9\ud83d\ude00"],"datatype":"BYTES","shape":[2],"name":"s"}]}`,
		`{"id":"1","parameters":{"a":1,"b":[1,{"c":null}],"d":1.5},"inputs":[],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}`,
		`{"inputs":[{"name":"b","shape":[3],"datatype":"BOOL","data":[true,0,1]},{"name":"h","shape":[2],"datatype":"FP16","data":["NaN",65504]}]}`,
		`{"inputs":[{"name":"x","shape":[0],"datatype":"UINT8"}]}`,
		`{"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","data":[300]}]}`,
		`{"inputs":[{"name":"x","shape":[1],"datatype":"INT8","parameters":{"binary_data_size":1}}]}`,
		`{"inputs":[{"name":"x","shape":[-1],"datatype":"INT8","data":[`,
		`{"inputs":[{"name":"x","shape":[1],"datatype":"BF16","data":[[[1e-3]]]}]}`,
	}
}

// checkRoundTrip re-encodes a decoded request and checks that it decodes to
// the same request.
func checkRoundTrip(t *testing.T, req *InferRequest, binary bool) {
	body, headerLen := EncodeRequest(req, binary)
	again, err := DecodeRequest(body, headerLen)
	if err != nil {
		t.Fatalf("re-encoded request (binary=%v) does not decode: %v\n%q", binary, err, body)
	}
	if d := sameRequest(req, again); d != "" {
		t.Fatalf("re-encoded request (binary=%v) differs: %s\n%q", binary, d, body)
	}
}

func FuzzDecodeRequestJSON(f *testing.F) {
	for _, s := range jsonSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRequest(body, -1)
		if err != nil {
			if !errors.Is(err, ErrInvalid) || err.Error() == "" {
				t.Fatalf("error %q does not match ErrInvalid", err)
			}
			return
		}
		checkRoundTrip(t, req, false)
		checkRoundTrip(t, req, true)
	})
}

func FuzzDecodeRequestBinary(f *testing.F) {
	for _, s := range jsonSeeds() {
		f.Add([]byte(s), -1)
	}
	withBinary := edgeRequest()
	withBinary.Inputs = append(withBinary.Inputs, binaryOnlyTensors()...)
	body, n := EncodeRequest(withBinary, true)
	f.Add(body, n)
	f.Add(body, n-1)
	f.Add(body[:len(body)-1], n)
	small, n := EncodeRequest(&InferRequest{Inputs: []*Tensor{
		NewTensor("x", []int64{1, 2}, []float32{1, 2}),
		NewBytesTensor("s", nil, [][]byte{[]byte("ab"), {0xff}}),
	}}, true)
	f.Add(small, n)
	f.Add(small, len(small))
	hdr := `{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":4}}]}`
	f.Add([]byte(hdr+"\x00\x00\x00\x00"), len(hdr))
	f.Fuzz(func(t *testing.T, body []byte, headerLen int) {
		req, err := DecodeRequest(body, headerLen)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %q does not match ErrInvalid", err)
			}
			return
		}
		checkRoundTrip(t, req, true)
	})
}
