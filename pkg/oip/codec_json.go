package oip

import (
	"strconv"
	"sync"
)

// DecodeRequest parses an inference request. With headerLen < 0 all of body
// is JSON; otherwise body[:headerLen] is the JSON header and the rest holds
// the binary data of the inputs that carry a binary_data_size parameter.
// The request shares memory with body (binary data and unescaped strings are
// not copied): do not change body while the request is in use. Every error
// matches ErrInvalid.
func DecodeRequest(body []byte, headerLen int) (*InferRequest, error) {
	hdr, blob, err := splitBody(body, headerLen)
	if err != nil {
		return nil, err
	}
	s := &scanner{buf: hdr}
	req := &InferRequest{}
	var bins []binaryRef
	if s.peek() != '{' {
		return nil, s.unexpected("a JSON object")
	}
	err = s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return decodeID(s, &req.ID)
		case "parameters":
			p, err := decodeParameters(s, nil)
			req.Parameters = p
			return err
		case "inputs":
			return decodeTensors(s, "input", &req.Inputs, &bins)
		case "outputs":
			if s.null() {
				return nil
			}
			return s.array(func() error {
				o, err := decodeRequestedOutput(s, len(req.Outputs))
				req.Outputs = append(req.Outputs, o)
				return err
			})
		}
		return s.skipValue(0)
	})
	if err == nil {
		err = s.end()
	}
	if err == nil {
		err = attachBinary(bins, blob)
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DecodeResponse parses an inference response; headerLen, sharing of body
// and errors are as for DecodeRequest.
func DecodeResponse(body []byte, headerLen int) (*InferResponse, error) {
	hdr, blob, err := splitBody(body, headerLen)
	if err != nil {
		return nil, err
	}
	s := &scanner{buf: hdr}
	resp := &InferResponse{}
	var bins []binaryRef
	if s.peek() != '{' {
		return nil, s.unexpected("a JSON object")
	}
	err = s.object(func(key []byte) error {
		switch string(key) {
		case "model_name":
			return decodeID(s, &resp.ModelName)
		case "model_version":
			return decodeID(s, &resp.ModelVersion)
		case "id":
			return decodeID(s, &resp.ID)
		case "parameters":
			p, err := decodeParameters(s, nil)
			resp.Parameters = p
			return err
		case "outputs":
			return decodeTensors(s, "output", &resp.Outputs, &bins)
		}
		return s.skipValue(0)
	})
	if err == nil {
		err = s.end()
	}
	if err == nil {
		err = attachBinary(bins, blob)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// decodeID reads a string field; null leaves it empty.
func decodeID(s *scanner, dst *string) error {
	if s.null() {
		return nil
	}
	str, err := s.readString()
	*dst = string(str)
	return err
}

// decodeTensors reads an array of tensors, noting those whose data is in the
// binary part.
func decodeTensors(s *scanner, role string, dst *[]*Tensor, bins *[]binaryRef) error {
	if s.null() {
		return nil
	}
	return s.array(func() error {
		index := len(*dst)
		t, size, err := decodeTensor(s, role, index)
		if err != nil {
			return err
		}
		*dst = append(*dst, t)
		if size >= 0 {
			*bins = append(*bins, binaryRef{t: t, size: size, role: role, index: index})
		}
		return nil
	})
}

// decodeTensor reads one tensor object. It returns the tensor's
// binary_data_size (removed from its parameters), or -1 when its data was
// in JSON. Errors name the tensor.
func decodeTensor(s *scanner, role string, index int) (*Tensor, int64, error) {
	t := &Tensor{}
	var haveType, haveShape, haveData bool
	var badType []byte
	var bin binaryParam
	// Data seen before the name, datatype and shape is parsed at the end.
	deferStart, deferEnd := -1, -1
	var seen [4]bool // name, datatype, shape, data: each at most once
	err := s.object(func(key []byte) error {
		if k := tensorKey(key); k >= 0 {
			if seen[k] {
				return invalidf("duplicate key %q", key)
			}
			seen[k] = true
		}
		switch string(key) {
		case "name":
			str, err := s.readString()
			t.Name = string(str)
			return err
		case "datatype":
			str, err := s.readString()
			if err != nil {
				return err
			}
			t.Datatype, haveType = parseDatatype(str)
			badType = str
			return nil
		case "shape":
			shape, err := decodeShape(s)
			t.Shape, haveShape = shape, true
			return err
		case "parameters":
			p, err := decodeParameters(s, &bin)
			t.Parameters = p
			return err
		case "data":
			if s.null() {
				return nil
			}
			haveData = true
			if haveType && haveShape && t.Name != "" {
				return decodeData(s, t)
			}
			s.peek()
			deferStart = s.pos
			err := s.skipValue(0)
			deferEnd = s.pos
			return err
		}
		return s.skipValue(0)
	})
	label := func(err error) error {
		return invalidf("%s: %s", tensorLabel(role, index, t.Name), err.Error())
	}
	if err != nil {
		return nil, 0, label(err)
	}
	switch {
	case t.Name == "":
		return nil, 0, label(invalidf("missing name"))
	case badType == nil:
		return nil, 0, label(invalidf("missing datatype"))
	case !haveType:
		return nil, 0, label(invalidf("unknown datatype %q", clip(badType)))
	case !haveShape:
		return nil, 0, label(invalidf("missing shape"))
	}
	n, err := t.NumElements()
	if err != nil {
		return nil, 0, label(err)
	}
	binSize := int64(-1)
	if bin.present {
		size, ok := intValue(bin.value)
		if !ok || size < 0 {
			return nil, 0, label(invalidf("binary_data_size must be a non-negative integer"))
		}
		if haveData {
			return nil, 0, label(invalidf("has both data and binary_data_size"))
		}
		binSize = size
	}
	switch {
	case deferStart >= 0:
		if err := decodeData(&scanner{buf: s.buf[:deferEnd], pos: deferStart}, t); err != nil {
			return nil, 0, label(err)
		}
	case !haveData && binSize < 0 && n != 0:
		return nil, 0, label(invalidf("missing data"))
	}
	return t, binSize, nil
}

// tensorKey numbers the tensor keys that may appear only once, or -1.
func tensorKey(key []byte) int {
	switch string(key) {
	case "name":
		return 0
	case "datatype":
		return 1
	case "shape":
		return 2
	case "data":
		return 3
	}
	return -1
}

// tensorLabel names a tensor in error messages: `input "x"`, or `input 2`
// when it has no name.
func tensorLabel(role string, index int, name string) string {
	if name == "" {
		return role + " " + strconv.Itoa(index)
	}
	return role + " " + strconv.Quote(name)
}

// decodeShape reads an array of integers.
func decodeShape(s *scanner) ([]int64, error) {
	shape := make([]int64, 0, 4)
	err := s.array(func() error {
		tok, err := s.readNumber()
		if err != nil {
			return err
		}
		mag, neg, st := parseIntToken(tok)
		if st != intOK || mag > 1<<63 || !neg && mag == 1<<63 {
			return invalidf("invalid shape dimension %s", clip(tok))
		}
		v := int64(mag)
		if neg {
			v = -v
		}
		shape = append(shape, v) // NumElements rejects negative dimensions
		return nil
	})
	return shape, err
}

// decodeRequestedOutput reads one entry of a request's "outputs".
func decodeRequestedOutput(s *scanner, index int) (RequestedOutput, error) {
	var o RequestedOutput
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "name":
			str, err := s.readString()
			o.Name = string(str)
			return err
		case "parameters":
			p, err := decodeParameters(s, nil)
			o.Parameters = p
			return err
		}
		return s.skipValue(0)
	})
	if err == nil && o.Name == "" {
		err = invalidf("missing name")
	}
	if err != nil {
		return o, invalidf("%s: %s", tensorLabel("requested output", index, o.Name), err.Error())
	}
	return o, nil
}

// EncodeRequest encodes req. With binary set, every input's data goes in the
// binary part: body is the JSON header followed by the data and headerLen is
// the header's length, to send as Inference-Header-Content-Length.
// Otherwise body is plain JSON and headerLen is -1. Tensors are encoded as
// they are; see Tensor.Validate.
func EncodeRequest(req *InferRequest, binary bool) (body []byte, headerLen int) {
	var small [16]bool
	flags := binaryFlags(req.Inputs, func(string) bool { return binary }, small[:])
	return encodeMessage(req.Inputs, flags, func(b []byte) []byte {
		return appendRequestHeader(b, req, flags)
	})
}

// EncodeResponse encodes resp, putting in the binary part the data of each
// output for which binaryOutputs (which may be nil) returns true; a server
// passes req.WantsBinary. headerLen is the JSON header's length when some
// output is binary, to send as Inference-Header-Content-Length, and -1 when
// body is plain JSON. Tensors are encoded as they are; see Tensor.Validate.
func EncodeResponse(resp *InferResponse, binaryOutputs func(name string) bool) (body []byte, headerLen int) {
	var small [16]bool
	flags := binaryFlags(resp.Outputs, binaryOutputs, small[:])
	return encodeMessage(resp.Outputs, flags, func(b []byte) []byte {
		return appendResponseHeader(b, resp, flags)
	})
}

// scratchPool holds buffers for JSON text, so that encoding allocates only
// the returned body.
var scratchPool = sync.Pool{New: func() any { return new([]byte) }}

// encodeMessage writes the JSON header with header into a pooled buffer,
// then copies it into a body of exactly the right size followed by the
// binary data of the flagged tensors.
func encodeMessage(tensors []*Tensor, flags []bool, header func([]byte) []byte) ([]byte, int) {
	buf := scratchPool.Get().(*[]byte)
	hdr := header((*buf)[:0])
	body := make([]byte, len(hdr), len(hdr)+blobsSize(tensors, flags))
	copy(body, hdr)
	if cap(hdr) <= 16<<20 {
		*buf = hdr[:0]
		scratchPool.Put(buf)
	}
	if flags == nil {
		return body, -1
	}
	return appendBlobs(body, tensors, flags), len(hdr)
}

func appendRequestHeader(b []byte, req *InferRequest, flags []bool) []byte {
	b = append(b, '{')
	sep := false
	if req.ID != "" {
		b = append(b, `"id":`...)
		b = appendString(b, req.ID)
		sep = true
	}
	if len(req.Parameters) > 0 {
		if sep {
			b = append(b, ',')
		}
		b = append(b, `"parameters":`...)
		b = appendParameters(b, req.Parameters, false, -1)
		sep = true
	}
	if sep {
		b = append(b, ',')
	}
	b = append(b, `"inputs":`...)
	b = appendTensors(b, req.Inputs, flags)
	if len(req.Outputs) > 0 {
		b = append(b, `,"outputs":[`...)
		for i := range req.Outputs {
			o := &req.Outputs[i]
			b = appendSep(b, i)
			b = append(b, `{"name":`...)
			b = appendString(b, o.Name)
			if len(o.Parameters) > 0 {
				b = append(b, `,"parameters":`...)
				b = appendParameters(b, o.Parameters, false, -1)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendResponseHeader(b []byte, resp *InferResponse, flags []bool) []byte {
	b = append(b, `{"model_name":`...)
	b = appendString(b, resp.ModelName)
	if resp.ModelVersion != "" {
		b = append(b, `,"model_version":`...)
		b = appendString(b, resp.ModelVersion)
	}
	if resp.ID != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, resp.ID)
	}
	if len(resp.Parameters) > 0 {
		b = append(b, `,"parameters":`...)
		b = appendParameters(b, resp.Parameters, false, -1)
	}
	b = append(b, `,"outputs":`...)
	b = appendTensors(b, resp.Outputs, flags)
	return append(b, '}')
}

// appendTensors appends a JSON array of tensors; flagged tensors get a
// binary_data_size parameter instead of data.
func appendTensors(b []byte, tensors []*Tensor, flags []bool) []byte {
	b = append(b, '[')
	for i, t := range tensors {
		b = appendSep(b, i)
		size := int64(-1)
		if flags != nil && flags[i] {
			size = binarySize(t)
		}
		b = appendTensor(b, t, size)
	}
	return append(b, ']')
}

// appendTensor appends one tensor object: its data when binSize < 0, else a
// binary_data_size parameter of binSize.
func appendTensor(b []byte, t *Tensor, binSize int64) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, t.Name)
	b = append(b, `,"datatype":`...)
	b = appendString(b, string(t.Datatype))
	b = append(b, `,"shape":`...)
	b = appendShape(b, t.Shape)
	if binSize >= 0 || hasParameters(t.Parameters) {
		b = append(b, `,"parameters":`...)
		b = appendParameters(b, t.Parameters, true, binSize)
	}
	if binSize < 0 {
		b = append(b, `,"data":`...)
		b = appendData(b, t)
	}
	return append(b, '}')
}

// hasParameters reports whether p has an entry other than binary_data_size.
func hasParameters(p Parameters) bool {
	_, bin := p[ParamBinaryDataSize]
	return len(p) > 1 || len(p) == 1 && !bin
}

// MarshalJSON encodes r as plain OIP JSON, all data inline.
func (r *InferRequest) MarshalJSON() ([]byte, error) {
	return appendRequestHeader(nil, r, nil), nil
}

// UnmarshalJSON decodes OIP JSON into r, with the errors of DecodeRequest.
func (r *InferRequest) UnmarshalJSON(b []byte) error {
	dec, err := DecodeRequest(append([]byte(nil), b...), -1)
	if err != nil {
		return err
	}
	*r = *dec
	return nil
}

// MarshalJSON encodes r as plain OIP JSON, all data inline.
func (r *InferResponse) MarshalJSON() ([]byte, error) {
	return appendResponseHeader(nil, r, nil), nil
}

// UnmarshalJSON decodes OIP JSON into r, with the errors of DecodeResponse.
func (r *InferResponse) UnmarshalJSON(b []byte) error {
	dec, err := DecodeResponse(append([]byte(nil), b...), -1)
	if err != nil {
		return err
	}
	*r = *dec
	return nil
}

// MarshalJSON encodes t as an OIP tensor object with its data inline.
func (t *Tensor) MarshalJSON() ([]byte, error) {
	return appendTensor(nil, t, -1), nil
}

// UnmarshalJSON decodes an OIP tensor object with inline data into t.
func (t *Tensor) UnmarshalJSON(b []byte) error {
	s := &scanner{buf: append([]byte(nil), b...)}
	dec, size, err := decodeTensor(s, "tensor", 0)
	if err == nil && size >= 0 {
		err = invalidf("tensor %q: binary_data_size needs the binary extension", dec.Name)
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return err
	}
	*t = *dec
	return nil
}
