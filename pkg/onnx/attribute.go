package onnx

import (
	"google.golang.org/protobuf/proto"

	"github.com/kilnml/kiln/pkg/onnx/internal/onnxpb"
)

// Attribute is a node attribute, made by the Attr* functions.
type Attribute struct {
	pb  *onnxpb.AttributeProto
	err error
}

func attr(name string, typ onnxpb.AttributeProto_AttributeType) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: typ.Enum()}
}

// AttrInt is an integer attribute.
func AttrInt(name string, v int64) Attribute {
	a := attr(name, onnxpb.AttributeProto_INT)
	a.I = proto.Int64(v)
	return Attribute{pb: a}
}

// AttrString is a string attribute.
func AttrString(name, v string) Attribute {
	a := attr(name, onnxpb.AttributeProto_STRING)
	a.S = []byte(v)
	return Attribute{pb: a}
}

// AttrInts is a list-of-integers attribute.
func AttrInts(name string, v ...int64) Attribute {
	a := attr(name, onnxpb.AttributeProto_INTS)
	a.Ints = v
	return Attribute{pb: a}
}

// AttrStrings is a list-of-strings attribute.
func AttrStrings(name string, v ...string) Attribute {
	a := attr(name, onnxpb.AttributeProto_STRINGS)
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return Attribute{pb: a}
}

// AttrTensor is a tensor attribute (as used by Constant); data as for Builder.Initializer.
func AttrTensor(name string, dt DataType, dims []int64, data any) Attribute {
	t, err := tensorProto("", dt, dims, data)
	if err != nil {
		return Attribute{err: err}
	}
	a := attr(name, onnxpb.AttributeProto_TENSOR)
	a.T = t
	return Attribute{pb: a}
}

// AttrType is a type attribute (as used by Optional for an empty optional).
func AttrType(name string, t Type) Attribute {
	a := attr(name, onnxpb.AttributeProto_TYPE_PROTO)
	a.Tp = typeProto(t)
	return Attribute{pb: a}
}
