package onnx

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says which ONNX value type a Type describes.
type Kind int

// The ONNX value kinds.
const (
	KindUnknown Kind = iota
	KindTensor
	KindSequence
	KindMap
	KindOptional
	KindSparseTensor
)

// Dim is one dimension of a tensor shape: a fixed Size, or Size -1 with an
// optional symbolic Name ("batch", "N").
type Dim struct {
	Size int64
	Name string
}

// Dynamic reports whether the dimension has no fixed size.
func (d Dim) Dynamic() bool { return d.Size < 0 }

// Type describes the type of a graph input or output.
type Type struct {
	Kind Kind
	// Elem is the element type of a tensor, or the key type of a map.
	Elem DataType
	// Shape is the tensor shape; nil when the rank is unknown.
	Shape []Dim
	// Value is the element type of a sequence or optional, or the value type of a map.
	Value *Type
}

// IsTensor reports whether the type is a dense tensor.
func (t Type) IsTensor() bool { return t.Kind == KindTensor }

// Dims returns the tensor shape as sizes, with -1 for dynamic dimensions.
func (t Type) Dims() []int64 {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = d.Size
	}
	return dims
}

// String renders the type in ONNX notation: tensor(float)[N,4], seq(map(int64,tensor(float))).
func (t Type) String() string {
	switch t.Kind {
	case KindTensor, KindSparseTensor:
		name := "tensor"
		if t.Kind == KindSparseTensor {
			name = "sparse_tensor"
		}
		s := fmt.Sprintf("%s(%s)", name, t.Elem)
		if t.Shape != nil {
			parts := make([]string, len(t.Shape))
			for i, d := range t.Shape {
				switch {
				case d.Size >= 0:
					parts[i] = strconv.FormatInt(d.Size, 10)
				case d.Name != "":
					parts[i] = d.Name
				default:
					parts[i] = "?"
				}
			}
			s += "[" + strings.Join(parts, ",") + "]"
		}
		return s
	case KindSequence:
		return fmt.Sprintf("seq(%s)", t.Value)
	case KindMap:
		return fmt.Sprintf("map(%s,%s)", t.Elem, t.Value)
	case KindOptional:
		return fmt.Sprintf("optional(%s)", t.Value)
	}
	return "unknown"
}

// ValueInfo names a graph input or output and its type.
type ValueInfo struct {
	Name string
	Type Type
	Doc  string
}
