package oip

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// binaryParam receives a tensor's binary_data_size parameter, which the
// codec consumes instead of keeping it in the tensor's parameters.
type binaryParam struct {
	value   any
	present bool
}

// decodeParameters parses a parameters object at the cursor. Integer
// literals that fit become int64, other numbers float64; nested objects and
// arrays are decoded by encoding/json. An empty or null object gives nil.
// With bin set, binary_data_size goes to bin and not into the result.
func decodeParameters(s *scanner, bin *binaryParam) (Parameters, error) {
	if bin != nil {
		*bin = binaryParam{}
	}
	if s.null() {
		return nil, nil
	}
	var p Parameters
	err := s.object(func(key []byte) error {
		v, err := decodeParamValue(s)
		if err != nil {
			return err
		}
		if bin != nil && string(key) == ParamBinaryDataSize {
			*bin = binaryParam{value: v, present: true}
			return nil
		}
		if p == nil {
			p = make(Parameters, 2)
		}
		p[string(key)] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func decodeParamValue(s *scanner) (any, error) {
	switch c := s.peek(); {
	case c == '"':
		str, err := s.readString()
		return string(str), err
	case c == '-' || ('0' <= c && c <= '9'):
		tok, err := s.readNumber()
		if err != nil {
			return nil, err
		}
		if i, err := strconv.ParseInt(bytesString(tok), 10, 64); err == nil {
			return i, nil
		}
		f, err := strconv.ParseFloat(bytesString(tok), 64)
		if err != nil {
			return nil, invalidf("parameter value %s out of range", clip(tok))
		}
		return f, nil
	case c == '{' || c == '[':
		span, err := s.readValueSpan()
		if err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(span, &v); err != nil {
			return nil, invalidf("parameter value: %v", err)
		}
		return v, nil
	}
	lit, err := s.literal()
	if err != nil {
		return nil, err
	}
	switch lit[0] {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	}
	return nil, nil
}

// appendParameters appends p as a JSON object with sorted keys. For a
// tensor's parameters (forTensor), any binary_data_size entry is left out,
// since only the codec may set it, and binary_data_size: binSize is added
// when binSize >= 0.
func appendParameters(b []byte, p Parameters, forTensor bool, binSize int64) []byte {
	var stack [8]string
	keys := stack[:0]
	for k := range p {
		if !forTensor || k != ParamBinaryDataSize {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		b = appendSep(b, i)
		b = appendString(b, k)
		b = append(b, ':')
		b = appendParamValue(b, p[k])
	}
	if binSize >= 0 {
		b = appendSep(b, len(keys))
		b = append(b, `"binary_data_size":`...)
		b = strconv.AppendInt(b, binSize, 10)
	}
	return append(b, '}')
}

// appendParamValue appends one parameter value. Floats that hold an integer
// keep a ".0" so that they decode as floats again; other kinds of value go
// through encoding/json, and values it cannot encode become null.
func appendParamValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int8:
		return strconv.AppendInt(b, int64(v), 10)
	case int16:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case float32:
		return appendParamFloat(b, float64(v), 32)
	case float64:
		return appendParamFloat(b, v, 64)
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

func appendParamFloat(b []byte, f float64, bits int) []byte {
	start := len(b)
	b = appendFloat(b, f, bits)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b
	}
	for _, c := range b[start:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, ".0"...)
}
