package oip

import (
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
)

// HeaderContentLength is the HTTP header that gives the JSON header's length
// in a body that carries binary tensor data.
const HeaderContentLength = "Inference-Header-Content-Length"

// Content types of OIP bodies.
const (
	ContentTypeJSON   = "application/json"
	ContentTypeBinary = "application/octet-stream"
)

// ParseHeaderLength returns the value of the Inference-Header-Content-Length
// header in h, or -1 when it is absent. A malformed value is an error that
// matches ErrInvalid.
func ParseHeaderLength(h http.Header) (int, error) {
	v := strings.TrimSpace(h.Get(HeaderContentLength))
	if v == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, invalidf("invalid %s header %q", HeaderContentLength, clip([]byte(v)))
	}
	return n, nil
}

// splitBody cuts body into its JSON header and binary part.
func splitBody(body []byte, headerLen int) (hdr, blob []byte, err error) {
	if headerLen < 0 {
		return body, nil, nil
	}
	if headerLen > len(body) {
		return nil, nil, invalidf("%s %d is larger than the body (%d bytes)", HeaderContentLength, headerLen, len(body))
	}
	return body[:headerLen], body[headerLen:], nil
}

// binaryRef is a decoded tensor whose data is in the binary part.
type binaryRef struct {
	t     *Tensor
	size  int64
	role  string // for error messages: input or output, and its index
	index int
}

// attachBinary hands each tensor in refs its bytes of blob, in order, and
// checks that blob is used exactly.
func attachBinary(refs []binaryRef, blob []byte) error {
	off := 0
	for _, r := range refs {
		if r.size > int64(len(blob)-off) {
			return invalidf("%s: binary_data_size %d overruns the binary data (%d bytes left)", tensorLabel(r.role, r.index, r.t.Name), r.size, len(blob)-off)
		}
		end := off + int(r.size)
		if err := SetRawContents(r.t, blob[off:end:end]); err != nil {
			return invalidf("%s: %s", tensorLabel(r.role, r.index, r.t.Name), err.Error())
		}
		off = end
	}
	if off != len(blob) {
		return invalidf("%d bytes after the last tensor's binary data", len(blob)-off)
	}
	return nil
}

// SetRawContents makes data, in the binary layout (packed little-endian
// elements; BYTES elements each after a 4-byte little-endian length), the
// elements of t: fixed-size types take the slice itself, BYTES elements are
// sub-slices of it. The binary extension and gRPC's raw contents use it.
func SetRawContents(t *Tensor, data []byte) error {
	n, err := t.NumElements()
	if err != nil {
		return err
	}
	size := int64(t.Datatype.Size())
	if size > 0 {
		if n > int64(len(data))/size || n*size != int64(len(data)) {
			return invalidf("binary_data_size %d does not match shape %s of %s (%d elements)", len(data), formatShape(t.Shape), t.Datatype, n)
		}
		t.Raw = data
		return nil
	}
	strs := make([][]byte, 0, min(n, int64(len(data)/4)))
	for len(data) > 0 {
		if len(data) < 4 {
			return invalidf("truncated BYTES length prefix in binary data")
		}
		l := binary.LittleEndian.Uint32(data)
		if uint64(l) > uint64(len(data)-4) {
			return invalidf("BYTES element length %d overruns the binary data", l)
		}
		end := 4 + int(l)
		strs = append(strs, data[4:end:end])
		data = data[end:]
	}
	if int64(len(strs)) != n {
		return invalidf("shape %s needs %d elements, got %d", formatShape(t.Shape), n, len(strs))
	}
	t.Strings = strs
	return nil
}

// binaryFlags marks the tensors for which want returns true, or returns nil
// when there are none; buf is used when it is long enough.
func binaryFlags(tensors []*Tensor, want func(name string) bool, buf []bool) []bool {
	if want == nil {
		return nil
	}
	var flags []bool
	for i, t := range tensors {
		if !want(t.Name) {
			continue
		}
		if flags == nil {
			if len(tensors) <= len(buf) {
				flags = buf[:len(tensors)]
			} else {
				flags = make([]bool, len(tensors))
			}
		}
		flags[i] = true
	}
	return flags
}

// binarySize is the length of t's binary data.
func binarySize(t *Tensor) int64 {
	if t.Datatype != Bytes {
		return int64(len(t.Raw))
	}
	size := int64(4 * len(t.Strings))
	for _, s := range t.Strings {
		size += int64(len(s))
	}
	return size
}

// blobsSize is the length of the binary part for the flagged tensors.
func blobsSize(tensors []*Tensor, flags []bool) int {
	var size int64
	for i, t := range tensors {
		if flags != nil && flags[i] {
			size += binarySize(t)
		}
	}
	return int(size)
}

// appendBlobs appends the binary data of the flagged tensors.
func appendBlobs(b []byte, tensors []*Tensor, flags []bool) []byte {
	for i, t := range tensors {
		if flags != nil && flags[i] {
			b = AppendRawContents(b, t)
		}
	}
	return b
}

// AppendRawContents appends t's elements in the binary layout (see SetRawContents).
func AppendRawContents(b []byte, t *Tensor) []byte {
	if t.Datatype != Bytes {
		return append(b, t.Raw...)
	}
	for _, s := range t.Strings {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

// RawContents returns t's elements in the binary layout: Raw itself for
// fixed-size datatypes (no copy), a new buffer for BYTES.
func RawContents(t *Tensor) []byte {
	if t.Datatype != Bytes {
		return t.Raw
	}
	return AppendRawContents(make([]byte, 0, binarySize(t)), t)
}
