package oip

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

func edgeRequest() *InferRequest {
	return &InferRequest{
		ID:         "req-1 \"quoted\"",
		Parameters: Parameters{"priority": int64(3), "timeout": 1.5, "tag": "x", "flag": true, "none": nil},
		Inputs:     edgeTensors(),
		Outputs: []RequestedOutput{
			{Name: "y", Parameters: Parameters{"binary_data": true, "classification": int64(2)}},
			{Name: "z"},
		},
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, binary := range []bool{false, true} {
		want := edgeRequest()
		if binary {
			want.Inputs = append(want.Inputs, binaryOnlyTensors()...)
		}
		body, headerLen := EncodeRequest(want, binary)
		if binary != (headerLen >= 0) {
			t.Fatalf("binary=%v: headerLen %d", binary, headerLen)
		}
		got, err := DecodeRequest(body, headerLen)
		if err != nil {
			t.Fatalf("binary=%v: %v\n%s", binary, err, body)
		}
		if d := sameRequest(want, got); d != "" {
			t.Errorf("binary=%v: %s", binary, d)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	outputs := append(edgeTensors(), binaryOnlyTensors()...)
	outputs[0].Parameters = Parameters{"unit": "cm"}
	want := &InferResponse{ModelName: "iris", ModelVersion: "2", ID: "abc", Parameters: Parameters{"n": int64(1)}, Outputs: outputs}
	jsonOK := len(edgeTensors())
	cases := []struct {
		name   string
		binary func(string) bool
	}{
		{"json", nil},
		{"all binary", func(string) bool { return true }},
		{"mixed", func(name string) bool { return name == "f32" || name == "str" || name == "bool" }},
	}
	for _, c := range cases {
		w := *want
		if c.name != "all binary" { // some outputs travel in JSON
			w.Outputs = outputs[:jsonOK]
		}
		body, headerLen := EncodeResponse(&w, c.binary)
		if (c.binary != nil) != (headerLen >= 0) {
			t.Fatalf("%s: headerLen %d", c.name, headerLen)
		}
		got, err := DecodeResponse(body, headerLen)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got.ModelName != w.ModelName || got.ModelVersion != w.ModelVersion || got.ID != w.ID || !sameParams(got.Parameters, w.Parameters) {
			t.Errorf("%s: envelope %+v", c.name, got)
		}
		if d := sameTensors(w.Outputs, got.Outputs); d != "" {
			t.Errorf("%s: %s", c.name, d)
		}
		if c.binary != nil {
			hdr := string(body[:headerLen])
			if !strings.Contains(hdr, `"name":"f32","datatype":"FP32","shape":[2,5],"parameters":{"binary_data_size":40}}`) {
				t.Errorf("%s: header lacks f32's binary_data_size: %s", c.name, hdr)
			}
		}
		if c.name == "mixed" && !strings.Contains(string(body), `"name":"i8","datatype":"INT8","shape":[4],"data":[-128,-1,0,127]}`) {
			t.Errorf("mixed: i8 not inline: %s", body)
		}
	}
}

func TestEncodeResponseGolden(t *testing.T) {
	resp := &InferResponse{
		ModelName: "iris",
		Outputs: []*Tensor{
			NewTensor("probs", []int64{1, 3}, []float32{0.1, 0.25, 1e-7}),
			NewTensor("label", []int64{1}, []int64{-2}),
			NewTensor("ok", []int64{1}, []bool{true}),
			NewTensor("f", []int64{3}, []float64{float64(math.NaN()), math.Inf(1), math.Inf(-1)}),
			NewBytesTensor("s", nil, [][]byte{[]byte("a\"b\\\n\x01"), {0xff}}),
		},
	}
	body, headerLen := EncodeResponse(resp, nil)
	want := `{"model_name":"iris","outputs":[` +
		`{"name":"probs","datatype":"FP32","shape":[1,3],"data":[0.1,0.25,1e-07]},` +
		`{"name":"label","datatype":"INT64","shape":[1],"data":[-2]},` +
		`{"name":"ok","datatype":"BOOL","shape":[1],"data":[true]},` +
		`{"name":"f","datatype":"FP64","shape":[3],"data":["NaN","Inf","-Inf"]},` +
		`{"name":"s","datatype":"BYTES","shape":[2],"data":["a\"b\\\n\u0001","\ufffd"]}]}`
	if headerLen != -1 || string(body) != want {
		t.Errorf("got  %s (%d)\nwant %s", body, headerLen, want)
	}
	if !json.Valid(body) {
		t.Error("not valid JSON")
	}
}

func TestDecodeNestedAndFlat(t *testing.T) {
	want := []float32{1, 2, 3, 4, 5, 6}
	for _, data := range []string{
		`[1,2,3,4,5,6]`,
		`[[1,2,3],[4,5,6]]`,
		`[[[1],[2],[3]],[[4],[5],[6]]]`,
		` [ [1 , 2] , [ 3,4 ] ,[5,6] ] `,
		`[[1,[2,[3]]],4,[[5,6]],[]]`,
		`[1.0,2e0,0.3e1,40e-1,5,6]`,
	} {
		body := `{"inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":` + data + `}]}`
		req, err := DecodeRequest([]byte(body), -1)
		if err != nil {
			t.Errorf("%s: %v", data, err)
			continue
		}
		got, err := Values[float32](req.Inputs[0])
		if err != nil || len(got) != len(want) {
			t.Errorf("%s: %v %v", data, got, err)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: %v", data, got)
				break
			}
		}
	}
}

func TestDecodeElementForms(t *testing.T) {
	cases := []struct {
		dt   Datatype
		data string
		want *Tensor
	}{
		{Bool, `[true,false,1,0]`, NewTensor("x", []int64{4}, []bool{true, false, true, false})},
		{Int32, `[1.0,-2e0,3E+2,-0,0.0e5]`, NewTensor("x", []int64{5}, []int32{1, -2, 300, 0, 0})},
		{Uint64, `[18446744073709551615, 1.8446744073709551615e19]`, NewTensor("x", []int64{2}, []uint64{math.MaxUint64, math.MaxUint64})},
		{Int64, `[-9223372036854775808, 9223372036854775807, 9007199254740993.0]`, NewTensor("x", []int64{3}, []int64{math.MinInt64, math.MaxInt64, 9007199254740993})},
		{FP32, `["NaN","inf","-Infinity","+Inf",16777217, 3.4028235e38]`, NewTensor("x", []int64{6}, []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Inf(1)), 16777216, math.MaxFloat32})},
		{FP16, `[1, 65504, 5.960464477539063e-8, -0, 1e-30, 0.1]`, NewFP16Tensor("x", []int64{6}, []uint16{0x3C00, 0x7BFF, 0x0001, 0x8000, 0x0000, 0x2E66})},
		{BF16, `[1, -2, 1.00390625, 1.01171875]`, NewBF16Tensor("x", []int64{4}, []uint16{0x3F80, 0xC000, 0x3F80, 0x3F82})},
		{Bytes, `["", "a\u00e9\ud83d\ude00\/", "\ud800x"]`, NewBytesTensor("x", []int64{3}, [][]byte{{}, []byte("aé😀/"), []byte("\uFFFDx")})},
		{Uint8, `7`, NewTensor("x", []int64{}, []uint8{7})},
	}
	for _, c := range cases {
		shape := string(appendShape(nil, c.want.Shape))
		body := `{"inputs":[{"name":"x","datatype":"` + string(c.dt) + `","shape":` + shape + `,"data":` + c.data + `}]}`
		req, err := DecodeRequest([]byte(body), -1)
		if err != nil {
			t.Errorf("%s %s: %v", c.dt, c.data, err)
			continue
		}
		if d := sameTensor(c.want, req.Inputs[0]); d != "" {
			t.Errorf("%s %s: %s", c.dt, c.data, d)
		}
	}
}

func TestDecodeKeyOrderAndUnknownKeys(t *testing.T) {
	body := `{"future":{"a":[1,{"b":null}]},"inputs":[{"data":[[1,2]],"extra":"x","shape":[1,2],"parameters":{"p":1},"datatype":"INT16","name":"x"}],"id":"7"}`
	req, err := DecodeRequest([]byte(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := NewTensor("x", []int64{1, 2}, []int16{1, 2})
	want.Parameters = Parameters{"p": int64(1)}
	if d := sameTensor(want, req.Inputs[0]); d != "" || req.ID != "7" {
		t.Errorf("%s id=%q", d, req.ID)
	}
}

func TestDecodeParameters(t *testing.T) {
	body := `{"parameters":{"i":-5,"big":123456789012345678901234567890,"f":2.5,"g":3.0,"s":"x\n","t":true,"n":null,"o":{"k":[1,"a"]}},"inputs":[]}`
	req, err := DecodeRequest([]byte(body), -1)
	if err != nil {
		t.Fatal(err)
	}
	want := Parameters{"i": int64(-5), "big": 1.2345678901234568e29, "f": 2.5, "g": 3.0, "s": "x\n", "t": true, "n": nil,
		"o": map[string]any{"k": []any{1.0, "a"}}}
	if !sameParams(want, req.Parameters) {
		t.Fatalf("got %#v", req.Parameters)
	}
	// Re-encoding keeps each value's kind: 3.0 stays a float.
	body2, _ := EncodeRequest(req, false)
	if !strings.Contains(string(body2), `"g":3.0`) {
		t.Errorf("float parameter lost its kind: %s", body2)
	}
	again, err := DecodeRequest(body2, -1)
	if err != nil || !sameParams(want, again.Parameters) {
		t.Errorf("re-decoded %#v, %v", again.Parameters, err)
	}
	if _, err := DecodeRequest([]byte(`{"parameters":{}}`), -1); err != nil {
		t.Error(err)
	}
}

func TestEncodeParameterKinds(t *testing.T) {
	p := Parameters{"a": 1, "b": uint8(2), "c": float32(0.5), "d": math.NaN(), "e": []int{1, 2}, "f": json.Number("12"), "g": make(chan int)}
	b := appendParameters(nil, p, false, -1)
	want := `{"a":1,"b":2,"c":0.5,"d":"NaN","e":[1,2],"f":12,"g":null}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	// A tensor's own binary_data_size is the codec's business.
	tb := appendTensor(nil, &Tensor{Name: "x", Datatype: Int8, Shape: []int64{1}, Raw: []byte{1}, Parameters: Parameters{"binary_data_size": 99}}, -1)
	if strings.Contains(string(tb), "binary_data_size") {
		t.Errorf("stale binary_data_size encoded: %s", tb)
	}
}

func TestWantsBinary(t *testing.T) {
	cases := []struct {
		name string
		req  InferRequest
		want map[string]bool
	}{
		{"default", InferRequest{Outputs: []RequestedOutput{{Name: "a"}}}, map[string]bool{"a": false, "b": false}},
		{"request level", InferRequest{Parameters: Parameters{"binary_data_output": true}}, map[string]bool{"a": true}},
		{"per output wins", InferRequest{
			Parameters: Parameters{"binary_data_output": true},
			Outputs:    []RequestedOutput{{Name: "a", Parameters: Parameters{"binary_data": false}}, {Name: "b"}},
		}, map[string]bool{"a": false, "b": true, "c": true}},
		{"per output only", InferRequest{
			Outputs: []RequestedOutput{{Name: "a", Parameters: Parameters{"binary_data": true}}},
		}, map[string]bool{"a": true, "b": false}},
	}
	for _, c := range cases {
		for out, want := range c.want {
			if got := c.req.WantsBinary(out); got != want {
				t.Errorf("%s: WantsBinary(%q) = %v, want %v", c.name, out, got, want)
			}
		}
	}
	// Through the wire: the decoded request answers the same.
	req, err := DecodeRequest([]byte(`{"parameters":{"binary_data_output":true},"outputs":[{"name":"a","parameters":{"binary_data":false}}]}`), -1)
	if err != nil || req.WantsBinary("a") || !req.WantsBinary("b") {
		t.Errorf("decoded request: %v", err)
	}
}

func TestMarshalJSON(t *testing.T) {
	want := edgeRequest()
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var got InferRequest
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if d := sameRequest(want, &got); d != "" {
		t.Error(d)
	}

	resp := InferResponse{ModelName: "m", Outputs: edgeTensors()}
	b, err = json.Marshal(&resp)
	if err != nil {
		t.Fatal(err)
	}
	var gotResp InferResponse
	if err := json.Unmarshal(b, &gotResp); err != nil {
		t.Fatal(err)
	}
	if d := sameTensors(resp.Outputs, gotResp.Outputs); d != "" {
		t.Error(d)
	}

	// Tensors embedded in other JSON documents, such as JSONL batch records.
	type record struct {
		Row    int       `json:"row"`
		Tensor []*Tensor `json:"tensors"`
	}
	b, err = json.Marshal(record{Row: 3, Tensor: edgeTensors()})
	if err != nil {
		t.Fatal(err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if d := sameTensors(edgeTensors(), rec.Tensor); d != "" || rec.Row != 3 {
		t.Error(d)
	}
	var tt Tensor
	err = json.Unmarshal([]byte(`{"name":"x","datatype":"INT8","shape":[1],"data":[300]}`), &tt)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `tensor "x": value 300 out of range for INT8`) {
		t.Errorf("got %v", err)
	}
	err = json.Unmarshal([]byte(`{"name":"x","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":1}}`), &tt)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("binary_data_size in plain JSON: %v", err)
	}
}
