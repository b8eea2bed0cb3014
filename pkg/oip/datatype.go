package oip

// Datatype is an OIP tensor element type name, such as "FP32" or "BYTES".
type Datatype string

// The OIP element types.
const (
	Bool   Datatype = "BOOL"
	Uint8  Datatype = "UINT8"
	Uint16 Datatype = "UINT16"
	Uint32 Datatype = "UINT32"
	Uint64 Datatype = "UINT64"
	Int8   Datatype = "INT8"
	Int16  Datatype = "INT16"
	Int32  Datatype = "INT32"
	Int64  Datatype = "INT64"
	FP16   Datatype = "FP16"
	FP32   Datatype = "FP32"
	FP64   Datatype = "FP64"
	BF16   Datatype = "BF16"
	Bytes  Datatype = "BYTES"
)

// Size returns the number of bytes per element: 0 for BYTES (variable
// length) and -1 for an unknown datatype.
func (d Datatype) Size() int {
	switch d {
	case Bool, Uint8, Int8:
		return 1
	case Uint16, Int16, FP16, BF16:
		return 2
	case Uint32, Int32, FP32:
		return 4
	case Uint64, Int64, FP64:
		return 8
	case Bytes:
		return 0
	}
	return -1
}

// Valid reports whether d is one of the OIP element types.
func (d Datatype) Valid() bool { return d.Size() >= 0 }

// parseDatatype maps a datatype name to its constant without allocating.
func parseDatatype(b []byte) (Datatype, bool) {
	switch string(b) {
	case "BOOL":
		return Bool, true
	case "UINT8":
		return Uint8, true
	case "UINT16":
		return Uint16, true
	case "UINT32":
		return Uint32, true
	case "UINT64":
		return Uint64, true
	case "INT8":
		return Int8, true
	case "INT16":
		return Int16, true
	case "INT32":
		return Int32, true
	case "INT64":
		return Int64, true
	case "FP16":
		return FP16, true
	case "FP32":
		return FP32, true
	case "FP64":
		return FP64, true
	case "BF16":
		return BF16, true
	case "BYTES":
		return Bytes, true
	}
	return "", false
}

// Element is the set of Go types that map one to one onto a fixed-size OIP
// datatype (FP16 and BF16 have no Go type; see NewFP16Tensor and HalfBits).
type Element interface {
	bool | uint8 | uint16 | uint32 | uint64 | int8 | int16 | int32 | int64 | float32 | float64
}

// DatatypeOf returns the OIP datatype that holds elements of type T.
func DatatypeOf[T Element]() Datatype {
	var zero T
	switch any(zero).(type) {
	case bool:
		return Bool
	case uint8:
		return Uint8
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case int8:
		return Int8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case float32:
		return FP32
	default:
		return FP64
	}
}
