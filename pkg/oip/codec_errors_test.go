package oip

import (
	"errors"
	"strings"
	"testing"
)

// in wraps one input object in a request.
func in(tensor string) string { return `{"inputs":[` + tensor + `]}` }

func TestDecodeRequestErrors(t *testing.T) {
	hdr := func(h string, blob string) (string, int) { return h + blob, len(h) }
	bin := func(tensor, blob string) (string, int) { return hdr(in(tensor), blob) }
	cases := []struct {
		name      string
		body      string
		headerLen int
		want      string
	}{
		{"empty body", ``, -1, "malformed JSON at offset 0: unexpected end of input"},
		{"not an object", `[1]`, -1, "unexpected '[', want a JSON object"},
		{"truncated", `{"inputs":[`, -1, "malformed JSON at offset 11"},
		{"trailing text", `{} x`, -1, "unexpected 'x' after the JSON value"},
		{"bad literal", `{"id":nul}`, -1, "malformed JSON"},
		{"id not a string", `{"id":5}`, -1, "want a string"},
		{"missing name", in(`{"datatype":"FP32","shape":[1],"data":[1]}`), -1, "input 0: missing name"},
		{"second input unnamed", `{"inputs":[{"name":"a","datatype":"FP32","shape":[1],"data":[1]},{"datatype":"FP32","shape":[1],"data":[1]}]}`, -1, "input 1: missing name"},
		{"unknown datatype", in(`{"name":"x","datatype":"FP8","shape":[1],"data":[1]}`), -1, `input "x": unknown datatype "FP8"`},
		{"lower-case datatype", in(`{"name":"x","datatype":"fp32","shape":[1],"data":[1]}`), -1, `input "x": unknown datatype "fp32"`},
		{"missing datatype", in(`{"name":"x","shape":[1],"data":[1]}`), -1, `input "x": missing datatype`},
		{"missing shape", in(`{"name":"x","datatype":"FP32","data":[1]}`), -1, `input "x": missing shape`},
		{"negative dim", in(`{"name":"x","datatype":"FP32","shape":[-1,3],"data":[1,2,3]}`), -1, `input "x": shape [-1,3] has a negative dimension`},
		{"fractional dim", in(`{"name":"x","datatype":"FP32","shape":[1.5],"data":[1]}`), -1, `input "x": invalid shape dimension 1.5`},
		{"shape overflow", in(`{"name":"x","datatype":"FP32","shape":[4294967296,4294967296],"data":[1]}`), -1, `input "x": shape [4294967296,4294967296] has too many elements`},
		{"too few", in(`{"name":"x","datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5]}`), -1, `input "x": shape [2,3] needs 6 elements, got 5`},
		{"too many", in(`{"name":"x","datatype":"INT8","shape":[2],"data":[[1,2],[3]]}`), -1, `input "x": shape [2] needs 2 elements, got 3`},
		{"huge shape, little data", in(`{"name":"x","datatype":"FP64","shape":[1000000000000],"data":[1]}`), -1, `input "x": shape [1000000000000] needs 1000000000000 elements, got 1`},
		{"uint8 out of range", in(`{"name":"x","datatype":"UINT8","shape":[2],"data":[1,300]}`), -1, `input "x": value 300 out of range for UINT8`},
		{"negative unsigned", in(`{"name":"x","datatype":"UINT32","shape":[1],"data":[-1]}`), -1, `input "x": value -1 out of range for UINT32`},
		{"int8 above", in(`{"name":"x","datatype":"INT8","shape":[1],"data":[128]}`), -1, `value 128 out of range for INT8`},
		{"int8 below", in(`{"name":"x","datatype":"INT8","shape":[1],"data":[-129]}`), -1, `value -129 out of range for INT8`},
		{"int16 above", in(`{"name":"x","datatype":"INT16","shape":[1],"data":[32768]}`), -1, `value 32768 out of range for INT16`},
		{"uint16 above", in(`{"name":"x","datatype":"UINT16","shape":[1],"data":[65536]}`), -1, `value 65536 out of range for UINT16`},
		{"int32 exponent above", in(`{"name":"x","datatype":"INT32","shape":[1],"data":[3e9]}`), -1, `value 3e9 out of range for INT32`},
		{"int64 above", in(`{"name":"x","datatype":"INT64","shape":[1],"data":[9223372036854775808]}`), -1, `value 9223372036854775808 out of range for INT64`},
		{"uint64 above", in(`{"name":"x","datatype":"UINT64","shape":[1],"data":[18446744073709551616]}`), -1, `value 18446744073709551616 out of range for UINT64`},
		{"huge exponent", in(`{"name":"x","datatype":"UINT64","shape":[1],"data":[1e999999999999]}`), -1, `out of range for UINT64`},
		{"not an integer", in(`{"name":"x","datatype":"INT32","shape":[1],"data":[1.5]}`), -1, `input "x": value 1.5 is not an integer (INT32)`},
		{"tiny fraction", in(`{"name":"x","datatype":"INT64","shape":[1],"data":[1e-400]}`), -1, `value 1e-400 is not an integer (INT64)`},
		{"string for float", in(`{"name":"x","datatype":"FP32","shape":[1],"data":["abc"]}`), -1, `input "x": invalid FP32 value "abc"`},
		{"string for int", in(`{"name":"x","datatype":"INT32","shape":[1],"data":["1"]}`), -1, `input "x": invalid INT32 value "1"`},
		{"NaN for int", in(`{"name":"x","datatype":"INT32","shape":[1],"data":["NaN"]}`), -1, `invalid INT32 value "NaN"`},
		{"bool for int", in(`{"name":"x","datatype":"INT32","shape":[1],"data":[true]}`), -1, `input "x": invalid INT32 value true`},
		{"null element", in(`{"name":"x","datatype":"FP64","shape":[2],"data":[1,null]}`), -1, `input "x": invalid FP64 value null`},
		{"object element", in(`{"name":"x","datatype":"FP64","shape":[1],"data":[{}]}`), -1, `input "x": invalid FP64 value: an object`},
		{"number for bytes", in(`{"name":"x","datatype":"BYTES","shape":[1],"data":[12]}`), -1, `input "x": invalid BYTES value 12`},
		{"bool 2", in(`{"name":"x","datatype":"BOOL","shape":[1],"data":[2]}`), -1, `input "x": invalid BOOL value 2`},
		{"bool string", in(`{"name":"x","datatype":"BOOL","shape":[1],"data":["true"]}`), -1, `input "x": invalid BOOL value "true"`},
		{"fp32 overflow", in(`{"name":"x","datatype":"FP32","shape":[1],"data":[1e39]}`), -1, `input "x": value 1e39 out of range for FP32`},
		{"fp64 overflow", in(`{"name":"x","datatype":"FP64","shape":[1],"data":[-1e309]}`), -1, `value -1e309 out of range for FP64`},
		{"fp16 overflow", in(`{"name":"x","datatype":"FP16","shape":[1],"data":[70000]}`), -1, `input "x": value 70000 out of range for FP16`},
		{"bf16 overflow", in(`{"name":"x","datatype":"BF16","shape":[1],"data":[3.4e38]}`), -1, `value 3.4e38 out of range for BF16`},
		{"long value clipped", in(`{"name":"x","datatype":"INT8","shape":[1],"data":["` + strings.Repeat("a", 100) + `"]}`), -1, `invalid INT8 value "` + strings.Repeat("a", 40) + `..."`},
		{"missing data", in(`{"name":"x","datatype":"FP32","shape":[1]}`), -1, `input "x": missing data`},
		{"null data", in(`{"name":"x","datatype":"FP32","shape":[1],"data":null}`), -1, `input "x": missing data`},
		{"leading zero", in(`{"name":"x","datatype":"INT32","shape":[1],"data":[01]}`), -1, `input "x": malformed JSON`},
		{"bare minus", in(`{"name":"x","datatype":"INT32","shape":[1],"data":[-]}`), -1, `want a number`},
		{"dot without digits", in(`{"name":"x","datatype":"FP32","shape":[1],"data":[1.]}`), -1, `want a digit`},
		{"missing comma", in(`{"name":"x","datatype":"FP32","shape":[2],"data":[1 2]}`), -1, `input "x": malformed JSON at offset 63: unexpected '2', want ',' or ']'`},
		{"unterminated data", in(`{"name":"x","datatype":"FP32","shape":[2],"data":[1,`), -1, `input "x": malformed JSON`},
		{"deep nesting", in(`{"name":"x","datatype":"FP32","shape":[1],"data":` + strings.Repeat("[", 300) + `1` + strings.Repeat("]", 300) + `}`), -1, `input "x": malformed JSON at offset 316: data nested deeper than 256`},
		{"deep unknown key", `{"x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, -1, `nesting deeper than 256`},
		{"invalid escape", in(`{"name":"x","datatype":"BYTES","shape":[1],"data":["a\qb"]}`), -1, `input "x": malformed JSON at offset 64: invalid escape '\q'`},
		{"short unicode escape", in(`{"name":"x","datatype":"BYTES","shape":[1],"data":["\u12"]}`), -1, `invalid \u escape`},
		{"control char", in("{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\nb\"]}"), -1, `input "x": malformed JSON at offset 64: control character in string`},
		{"invalid UTF-8", in("{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"\xff\"]}"), -1, `input "x": malformed JSON at offset 62: invalid UTF-8 in string`},
		{"invalid UTF-8 after escape", in("{\"name\":\"x\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"\\n\xff\"]}"), -1, `invalid UTF-8 in string`},
		{"unterminated string", in(`{"name":"x","datatype":"BYTES","shape":[1],"data":["abc`), -1, `unterminated string`},
		{"duplicate datatype", in(`{"name":"x","datatype":"INT8","shape":[1],"data":[1],"datatype":"FP64"}`), -1, `input "x": duplicate key "datatype"`},
		{"requested output without name", `{"outputs":[{"parameters":{"binary_data":true}}]}`, -1, `requested output 0: missing name`},
		{"bad parameters", `{"parameters":[1]}`, -1, `want '{'`},
		{"parameter overflow", `{"parameters":{"x":1e400}}`, -1, `parameter value 1e400 out of range`},
	}
	binCases := []struct {
		name string
		body func() (string, int)
		want string
	}{
		{"data and binary_data_size", func() (string, int) {
			return bin(`{"name":"x","datatype":"INT8","shape":[1],"data":[1],"parameters":{"binary_data_size":1}}`, "\x01")
		}, `input "x": has both data and binary_data_size`},
		{"negative binary_data_size", func() (string, int) {
			return bin(`{"name":"x","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":-1}}`, "")
		}, `input "x": binary_data_size must be a non-negative integer`},
		{"string binary_data_size", func() (string, int) {
			return bin(`{"name":"x","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":"1"}}`, "\x01")
		}, `input "x": binary_data_size must be a non-negative integer`},
		{"binary without header length", func() (string, int) {
			s, _ := bin(`{"name":"x","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":1}}`, "")
			return s, -1
		}, `input "x": binary_data_size 1 overruns the binary data (0 bytes left)`},
		{"overrun", func() (string, int) {
			return bin(`{"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}`, "\x00\x00\x00\x00")
		}, `input "x": binary_data_size 8 overruns the binary data (4 bytes left)`},
		{"size mismatch", func() (string, int) {
			return bin(`{"name":"x","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":4}}`, "\x00\x00\x00\x00")
		}, `input "x": binary_data_size 4 does not match shape [2] of FP32 (2 elements)`},
		{"trailing bytes", func() (string, int) {
			return bin(`{"name":"x","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":1}}`, "\x01\x02\x03")
		}, `2 bytes after the last tensor's binary data`},
		{"trailing bytes without binary inputs", func() (string, int) {
			return bin(`{"name":"x","datatype":"INT8","shape":[1],"data":[1]}`, "zz")
		}, `2 bytes after the last tensor's binary data`},
		{"header length beyond body", func() (string, int) { return `{}`, 3 }, `Inference-Header-Content-Length 3 is larger than the body (2 bytes)`},
		{"header cuts the JSON", func() (string, int) { return `{"inputs":[]}`, 5 }, `malformed JSON`},
		{"truncated BYTES prefix", func() (string, int) {
			return bin(`{"name":"s","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":3}}`, "\x01\x00\x00")
		}, `input "s": truncated BYTES length prefix in binary data`},
		{"BYTES length overrun", func() (string, int) {
			return bin(`{"name":"s","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6}}`, "\x05\x00\x00\x00ab")
		}, `input "s": BYTES element length 5 overruns the binary data`},
		{"BYTES count mismatch", func() (string, int) {
			return bin(`{"name":"s","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":6}}`, "\x02\x00\x00\x00ab")
		}, `input "s": shape [2] needs 2 elements, got 1`},
		{"second input overruns", func() (string, int) {
			return hdr(`{"inputs":[{"name":"a","datatype":"INT8","shape":[1],"parameters":{"binary_data_size":1}},{"name":"b","datatype":"INT16","shape":[1],"parameters":{"binary_data_size":2}}]}`, "\x01\x02")
		}, `input "b": binary_data_size 2 overruns the binary data (1 bytes left)`},
	}
	for _, c := range binCases {
		body, n := c.body()
		cases = append(cases, struct {
			name      string
			body      string
			headerLen int
			want      string
		}{c.name, body, n, c.want})
	}
	for _, c := range cases {
		req, err := DecodeRequest([]byte(c.body), c.headerLen)
		if err == nil {
			t.Errorf("%s: no error, got %+v", c.name, req)
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not match ErrInvalid", c.name, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got  %s\n want %s", c.name, err, c.want)
		}
		if strings.HasPrefix(err.Error(), ErrInvalid.Error()) {
			t.Errorf("%s: message carries the sentinel's prefix: %s", c.name, err)
		}
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"model_name":"m","outputs":[{"name":"y","datatype":"INT8","shape":[1],"data":[1000]}]}`, `output "y": value 1000 out of range for INT8`},
		{`{"model_name":"m","outputs":[{"datatype":"INT8","shape":[1],"data":[1]}]}`, `output 0: missing name`},
		{`{"model_name":5}`, `want a string`},
	}
	for _, c := range cases {
		_, err := DecodeResponse([]byte(c.body), -1)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.body, err, c.want)
		}
	}
}

func TestHTTPErrorMessage(t *testing.T) {
	e := &HTTPError{Status: 404, Message: "model not found"}
	if e.Error() != "oip: HTTP 404: model not found" {
		t.Error(e.Error())
	}
	if (&HTTPError{Status: 503}).Error() != "oip: HTTP 503" {
		t.Error("empty message")
	}
}
