package oip

import (
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

func init() {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		panic("oip: this package requires a little-endian host")
	}
}

// NumElements returns the product of Shape (1 for a scalar with an empty
// shape). It fails on a negative dimension or when the product overflows.
func (t *Tensor) NumElements() (int64, error) {
	return shapeElements(t.Shape)
}

func shapeElements(shape []int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, invalidf("shape %s has a negative dimension", formatShape(shape))
		}
		if d != 0 && n > math.MaxInt64/d {
			return 0, invalidf("shape %s has too many elements", formatShape(shape))
		}
		n *= d
	}
	return n, nil
}

// Validate checks that t has a name, a known datatype, a valid shape and
// exactly the number of elements its shape needs. The encoders trust their
// input; a server calls Validate on tensors it did not decode itself.
func (t *Tensor) Validate() error {
	if t.Name == "" {
		return invalidf("tensor: missing name")
	}
	size := t.Datatype.Size()
	if size < 0 {
		return invalidf("tensor %q: unknown datatype %q", t.Name, string(t.Datatype))
	}
	n, err := t.NumElements()
	if err != nil {
		return invalidf("tensor %q: %v", t.Name, err)
	}
	if size == 0 {
		if int64(len(t.Strings)) != n {
			return invalidf("tensor %q: shape %s needs %d elements, got %d", t.Name, formatShape(t.Shape), n, len(t.Strings))
		}
		return nil
	}
	if n > math.MaxInt64/int64(size) || int64(len(t.Raw)) != n*int64(size) {
		return invalidf("tensor %q: shape %s needs %d elements of %s, got %d bytes", t.Name, formatShape(t.Shape), n, t.Datatype, len(t.Raw))
	}
	return nil
}

// NewTensor returns a tensor of the datatype that matches T. Raw shares
// data's memory (no copy): do not change data while the tensor is in use. A
// nil shape means the 1-D shape [len(data)].
func NewTensor[T Element](name string, shape []int64, data []T) *Tensor {
	if shape == nil {
		shape = []int64{int64(len(data))}
	}
	return &Tensor{Name: name, Datatype: DatatypeOf[T](), Shape: shape, Raw: asBytes(data)}
}

// NewBytesTensor returns a BYTES tensor holding data (not copied). A nil
// shape means the 1-D shape [len(data)].
func NewBytesTensor(name string, shape []int64, data [][]byte) *Tensor {
	if shape == nil {
		shape = []int64{int64(len(data))}
	}
	return &Tensor{Name: name, Datatype: Bytes, Shape: shape, Strings: data}
}

// NewFP16Tensor returns an FP16 tensor whose elements are the binary16 bit
// patterns in bits (shared, not copied). A nil shape means [len(bits)].
func NewFP16Tensor(name string, shape []int64, bits []uint16) *Tensor {
	t := NewTensor(name, shape, bits)
	t.Datatype = FP16
	return t
}

// NewBF16Tensor returns a BF16 tensor whose elements are the bfloat16 bit
// patterns in bits (shared, not copied). A nil shape means [len(bits)].
func NewBF16Tensor(name string, shape []int64, bits []uint16) *Tensor {
	t := NewTensor(name, shape, bits)
	t.Datatype = BF16
	return t
}

// Values returns the elements of t as a []T. It fails unless t's datatype is
// the one T maps to and Raw holds a whole number of elements. The result
// shares Raw's memory when Raw is suitably aligned and is a copy otherwise,
// so treat it as read-only. BOOL bytes other than 0 and 1 read as true.
func Values[T Element](t *Tensor) ([]T, error) {
	want := DatatypeOf[T]()
	if t.Datatype != want {
		return nil, invalidf("tensor %q: datatype is %s, not %s", t.Name, t.Datatype, want)
	}
	if want == Bool {
		for i, b := range t.Raw {
			if b > 1 {
				return any(normalizeBools(t.Raw, i)).([]T), nil
			}
		}
	}
	return view[T](t)
}

// HalfBits returns the 16-bit patterns of an FP16 or BF16 tensor, sharing
// Raw's memory when it is aligned.
func HalfBits(t *Tensor) ([]uint16, error) {
	if t.Datatype != FP16 && t.Datatype != BF16 {
		return nil, invalidf("tensor %q: datatype is %s, not FP16 or BF16", t.Name, t.Datatype)
	}
	return view[uint16](t)
}

// view reinterprets Raw as []T, copying when Raw is misaligned for T.
func view[T Element](t *Tensor) ([]T, error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(t.Raw)%size != 0 {
		return nil, invalidf("tensor %q: %d bytes is not a whole number of %s elements", t.Name, len(t.Raw), t.Datatype)
	}
	n := len(t.Raw) / size
	if n == 0 {
		return []T{}, nil
	}
	p := unsafe.Pointer(unsafe.SliceData(t.Raw))
	if uintptr(p)%unsafe.Alignof(zero) == 0 {
		return unsafe.Slice((*T)(p), n), nil
	}
	out := make([]T, n)
	copy(asBytes(out), t.Raw)
	return out, nil
}

// normalizeBools copies raw as []bool, mapping every non-zero byte to true;
// raw[:from] is known to hold only 0 and 1.
func normalizeBools(raw []byte, from int) []bool {
	out := make([]bool, len(raw))
	copy(asBytes(out), raw[:from])
	for i := from; i < len(raw); i++ {
		out[i] = raw[i] != 0
	}
	return out
}

// asBytes reinterprets a slice of fixed-size elements as its bytes.
func asBytes[T Element](data []T) []byte {
	if len(data) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), len(data)*int(unsafe.Sizeof(zero)))
}

// formatShape renders a shape as it appears in JSON, for error messages.
func formatShape(shape []int64) string {
	return string(appendShape(make([]byte, 0, 2+len(shape)*4), shape))
}

// appendShape appends shape as a JSON array of integers.
func appendShape(b []byte, shape []int64) []byte {
	b = append(b, '[')
	for i, d := range shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, d, 10)
	}
	return append(b, ']')
}
