package onnx

import "github.com/kilnml/kiln/pkg/oip"

var toOIP = map[DataType]oip.Datatype{
	Bool: oip.Bool, Uint8: oip.Uint8, Uint16: oip.Uint16, Uint32: oip.Uint32, Uint64: oip.Uint64,
	Int8: oip.Int8, Int16: oip.Int16, Int32: oip.Int32, Int64: oip.Int64,
	Float16: oip.FP16, Float: oip.FP32, Double: oip.FP64, BFloat16: oip.BF16, String: oip.Bytes,
}

// OIP returns the Open Inference Protocol name of the element type, or "" when
// OIP has none (complex numbers, undefined).
func (d DataType) OIP() oip.Datatype { return toOIP[d] }

var fromOIP = func() map[oip.Datatype]DataType {
	m := make(map[oip.Datatype]DataType, len(toOIP))
	for k, v := range toOIP {
		m[v] = k
	}
	return m
}()

// DataTypeFromOIP returns the ONNX element type of an OIP datatype.
func DataTypeFromOIP(d oip.Datatype) (DataType, bool) {
	t, ok := fromOIP[d]
	return t, ok
}
