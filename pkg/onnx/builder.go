package onnx

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/kilnml/kiln/pkg/onnx/internal/onnxpb"
)

// irVersion is the ONNX IR version written by the Builder (ONNX 1.12, understood by ONNX Runtime 1.24).
const irVersion = 8

// Builder assembles a small ONNX model: inputs, outputs, initializers and nodes.
// Errors are collected and returned by Build.
type Builder struct {
	pb    *onnxpb.ModelProto
	graph *onnxpb.GraphProto
	err   error
}

// NewBuilder starts a model whose graph has the given name, importing the
// default opset at version 17.
func NewBuilder(graphName string) *Builder {
	g := &onnxpb.GraphProto{Name: proto.String(graphName)}
	b := &Builder{
		pb: &onnxpb.ModelProto{
			IrVersion:    proto.Int64(irVersion),
			ProducerName: proto.String("kiln"),
			Graph:        g,
		},
		graph: g,
	}
	return b.Opset("", 17)
}

// Opset imports (or re-versions) an operator set domain; "" is the default domain.
func (b *Builder) Opset(domain string, version int64) *Builder {
	for _, o := range b.pb.OpsetImport {
		if o.GetDomain() == domain {
			o.Version = proto.Int64(version)
			return b
		}
	}
	b.pb.OpsetImport = append(b.pb.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String(domain), Version: proto.Int64(version)})
	return b
}

// Producer sets the producer name and version.
func (b *Builder) Producer(name, version string) *Builder {
	b.pb.ProducerName, b.pb.ProducerVersion = proto.String(name), proto.String(version)
	return b
}

// ModelVersion sets the model_version field.
func (b *Builder) ModelVersion(v int64) *Builder {
	b.pb.ModelVersion = proto.Int64(v)
	return b
}

// Doc sets the model's doc string.
func (b *Builder) Doc(doc string) *Builder {
	b.pb.DocString = proto.String(doc)
	return b
}

// Metadata adds a metadata_props entry.
func (b *Builder) Metadata(key, value string) *Builder {
	b.pb.MetadataProps = append(b.pb.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
	return b
}

// Input adds a graph input.
func (b *Builder) Input(name string, t Type) *Builder {
	b.graph.Input = append(b.graph.Input, valueInfoProto(name, t))
	return b
}

// Output adds a graph output.
func (b *Builder) Output(name string, t Type) *Builder {
	b.graph.Output = append(b.graph.Output, valueInfoProto(name, t))
	return b
}

// Initializer adds a constant tensor. data is a slice of the Go type matching dt:
// []float32, []float64, []int8 ... []uint64, []bool, []string, or []uint16 bit
// patterns for Float16 and BFloat16; nil for a tensor without elements.
func (b *Builder) Initializer(name string, dt DataType, dims []int64, data any) *Builder {
	t, err := tensorProto(name, dt, dims, data)
	if err != nil {
		b.fail(err)
		return b
	}
	b.graph.Initializer = append(b.graph.Initializer, t)
	return b
}

// Node adds an operator of the default domain.
func (b *Builder) Node(op string, inputs, outputs []string, attrs ...Attribute) *Builder {
	return b.DomainNode("", op, inputs, outputs, attrs...)
}

// DomainNode adds an operator of the given domain, such as "ai.onnx.ml".
func (b *Builder) DomainNode(domain, op string, inputs, outputs []string, attrs ...Attribute) *Builder {
	n := &onnxpb.NodeProto{
		OpType: proto.String(op),
		Domain: proto.String(domain),
		Name:   proto.String(fmt.Sprintf("%s_%d", op, len(b.graph.Node))),
		Input:  inputs,
		Output: outputs,
	}
	for _, a := range attrs {
		if a.err != nil {
			b.fail(a.err)
			continue
		}
		n.Attribute = append(n.Attribute, a.pb)
	}
	b.graph.Node = append(b.graph.Node, n)
	return b
}

// Build returns the model, or the first error met while building it.
func (b *Builder) Build() (*Model, error) {
	if b.err != nil {
		return nil, b.err
	}
	data, err := proto.Marshal(b.pb)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

func (b *Builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// TensorType returns a tensor type; a dim of -1 is dynamic. With no dims the
// rank is unknown (a scalar is Type{Kind: KindTensor, Elem: elem, Shape: []Dim{}}).
func TensorType(elem DataType, dims ...int64) Type {
	if len(dims) == 0 {
		return Type{Kind: KindTensor, Elem: elem}
	}
	shape := make([]Dim, len(dims))
	for i, d := range dims {
		shape[i] = Dim{Size: d}
	}
	return Type{Kind: KindTensor, Elem: elem, Shape: shape}
}

// SequenceType returns seq(elem).
func SequenceType(elem Type) Type { return Type{Kind: KindSequence, Value: &elem} }

// MapType returns map(key, value).
func MapType(key DataType, value Type) Type { return Type{Kind: KindMap, Elem: key, Value: &value} }

func valueInfoProto(name string, t Type) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: typeProto(t)}
}

func typeProto(t Type) *onnxpb.TypeProto {
	switch t.Kind {
	case KindSequence:
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_SequenceType{SequenceType: &onnxpb.TypeProto_Sequence{ElemType: typeProto(*t.Value)}}}
	case KindMap:
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_MapType{MapType: &onnxpb.TypeProto_Map{KeyType: proto.Int32(int32(t.Elem)), ValueType: typeProto(*t.Value)}}}
	case KindOptional:
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_OptionalType{OptionalType: &onnxpb.TypeProto_Optional{ElemType: typeProto(*t.Value)}}}
	}
	tt := &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(t.Elem))}
	if t.Shape != nil {
		tt.Shape = &onnxpb.TensorShapeProto{}
		for _, d := range t.Shape {
			dim := &onnxpb.TensorShapeProto_Dimension{}
			switch {
			case d.Size >= 0:
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Size}
			case d.Name != "":
				dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Name}
			}
			tt.Shape.Dim = append(tt.Shape.Dim, dim)
		}
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: tt}}
}

// tensorProto encodes a constant tensor (see Builder.Initializer for data types).
func tensorProto(name string, dt DataType, dims []int64, data any) (*onnxpb.TensorProto, error) {
	count := int64(1)
	for _, d := range dims {
		count *= d
	}
	t := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims}
	if data == nil && count == 0 {
		return t, nil // an empty tensor of any type
	}
	n, err := encodeTensorData(t, dt, data)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", name, err)
	}
	if int64(n) != count {
		return nil, fmt.Errorf("tensor %q: shape %v needs %d elements, got %d", name, dims, count, n)
	}
	return t, nil
}

func encodeTensorData(t *onnxpb.TensorProto, dt DataType, data any) (int, error) {
	if s, ok := data.([]string); ok && dt == String {
		for _, v := range s {
			t.StringData = append(t.StringData, []byte(v))
		}
		return len(s), nil
	}
	if !goTypeMatches(dt, data) {
		return 0, fmt.Errorf("data %T does not hold %s elements", data, dt)
	}
	raw, err := binary.Append(nil, binary.LittleEndian, data)
	if err != nil {
		return 0, err
	}
	t.RawData = raw
	return binary.Size(data) / elemSize(dt), nil
}

func goTypeMatches(dt DataType, data any) bool {
	switch data.(type) {
	case []float32:
		return dt == Float
	case []float64:
		return dt == Double
	case []int8:
		return dt == Int8
	case []int16:
		return dt == Int16
	case []int32:
		return dt == Int32
	case []int64:
		return dt == Int64
	case []uint8:
		return dt == Uint8
	case []uint16:
		return dt == Uint16 || dt == Float16 || dt == BFloat16
	case []uint32:
		return dt == Uint32
	case []uint64:
		return dt == Uint64
	case []bool:
		return dt == Bool
	}
	return false
}

func elemSize(dt DataType) int {
	switch dt {
	case Bool, Int8, Uint8:
		return 1
	case Int16, Uint16, Float16, BFloat16:
		return 2
	case Int32, Uint32, Float:
		return 4
	}
	return 8
}

// OptionalType returns optional(elem).
func OptionalType(elem Type) Type { return Type{Kind: KindOptional, Value: &elem} }
