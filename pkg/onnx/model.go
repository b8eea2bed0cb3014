// Package onnx reads and writes ONNX model files in pure Go: the signature
// (inputs and outputs with element types and shapes), opset imports,
// producer and metadata, and a Builder for small models.
package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	"github.com/kilnml/kiln/pkg/onnx/internal/onnxpb"
)

// ErrInvalid is wrapped by every error about bytes that are not a usable ONNX model.
var ErrInvalid = errors.New("not a valid ONNX model")

// Opset is one operator set import: a domain ("" is the default ai.onnx) and its version.
type Opset struct {
	Domain  string
	Version int64
}

// Model is a parsed ONNX model file.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	Doc             string
	GraphName       string
	Opsets          []Opset
	Metadata        map[string]string
	Inputs          []ValueInfo
	Outputs         []ValueInfo

	proto *onnxpb.ModelProto
}

// Parse decodes an ONNX model from its protobuf bytes.
func Parse(data []byte) (*Model, error) {
	var pb onnxpb.ModelProto
	if err := proto.Unmarshal(data, &pb); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return fromProto(&pb)
}

// Read decodes an ONNX model from r.
func Read(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// ReadFile decodes the ONNX model stored at path.
func ReadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Bytes encodes the model as ONNX protobuf bytes.
func (m *Model) Bytes() ([]byte, error) {
	return proto.MarshalOptions{Deterministic: true}.Marshal(m.proto)
}

// WriteFile writes the model to path.
func (m *Model) WriteFile(path string) error {
	data, err := m.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// Input returns the graph input with the given name.
func (m *Model) Input(name string) (ValueInfo, bool) { return findValue(m.Inputs, name) }

// Output returns the graph output with the given name.
func (m *Model) Output(name string) (ValueInfo, bool) { return findValue(m.Outputs, name) }

func findValue(vs []ValueInfo, name string) (ValueInfo, bool) {
	for _, v := range vs {
		if v.Name == name {
			return v, true
		}
	}
	return ValueInfo{}, false
}

func fromProto(pb *onnxpb.ModelProto) (*Model, error) {
	g := pb.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("%w: no graph", ErrInvalid)
	}
	if pb.GetIrVersion() <= 0 {
		return nil, fmt.Errorf("%w: missing ir_version", ErrInvalid)
	}
	m := &Model{
		IRVersion:       pb.GetIrVersion(),
		ProducerName:    pb.GetProducerName(),
		ProducerVersion: pb.GetProducerVersion(),
		Domain:          pb.GetDomain(),
		ModelVersion:    pb.GetModelVersion(),
		Doc:             pb.GetDocString(),
		GraphName:       g.GetName(),
		Metadata:        map[string]string{},
		proto:           pb,
	}
	for _, o := range pb.GetOpsetImport() {
		m.Opsets = append(m.Opsets, Opset{Domain: o.GetDomain(), Version: o.GetVersion()})
	}
	for _, p := range pb.GetMetadataProps() {
		m.Metadata[p.GetKey()] = p.GetValue()
	}
	initialized := map[string]bool{}
	for _, t := range g.GetInitializer() {
		initialized[t.GetName()] = true
	}
	for _, v := range g.GetInput() {
		// Inputs that have an initializer are optional overrides of constants, not part of the signature.
		if initialized[v.GetName()] {
			continue
		}
		vi, err := valueInfoFromProto(v)
		if err != nil {
			return nil, err
		}
		m.Inputs = append(m.Inputs, vi)
	}
	for _, v := range g.GetOutput() {
		vi, err := valueInfoFromProto(v)
		if err != nil {
			return nil, err
		}
		m.Outputs = append(m.Outputs, vi)
	}
	if len(m.Outputs) == 0 {
		return nil, fmt.Errorf("%w: graph has no outputs", ErrInvalid)
	}
	return m, nil
}

func valueInfoFromProto(v *onnxpb.ValueInfoProto) (ValueInfo, error) {
	if v.GetName() == "" {
		return ValueInfo{}, fmt.Errorf("%w: graph value without a name", ErrInvalid)
	}
	t, err := typeFromProto(v.GetType())
	if err != nil {
		return ValueInfo{}, fmt.Errorf("%w: %s: %v", ErrInvalid, v.GetName(), err)
	}
	return ValueInfo{Name: v.GetName(), Type: t, Doc: v.GetDocString()}, nil
}

func typeFromProto(tp *onnxpb.TypeProto) (Type, error) {
	switch v := tp.GetValue().(type) {
	case *onnxpb.TypeProto_TensorType:
		return Type{Kind: KindTensor, Elem: DataType(v.TensorType.GetElemType()), Shape: shapeFromProto(v.TensorType.GetShape())}, nil
	case *onnxpb.TypeProto_SparseTensorType:
		return Type{Kind: KindSparseTensor, Elem: DataType(v.SparseTensorType.GetElemType()), Shape: shapeFromProto(v.SparseTensorType.GetShape())}, nil
	case *onnxpb.TypeProto_SequenceType:
		elem, err := typeFromProto(v.SequenceType.GetElemType())
		return Type{Kind: KindSequence, Value: &elem}, err
	case *onnxpb.TypeProto_OptionalType:
		elem, err := typeFromProto(v.OptionalType.GetElemType())
		return Type{Kind: KindOptional, Value: &elem}, err
	case *onnxpb.TypeProto_MapType:
		val, err := typeFromProto(v.MapType.GetValueType())
		return Type{Kind: KindMap, Elem: DataType(v.MapType.GetKeyType()), Value: &val}, err
	}
	return Type{}, errors.New("missing or unknown type")
}

func shapeFromProto(sp *onnxpb.TensorShapeProto) []Dim {
	if sp == nil {
		return nil
	}
	dims := make([]Dim, len(sp.GetDim()))
	for i, d := range sp.GetDim() {
		switch v := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			dims[i] = Dim{Size: v.DimValue}
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			dims[i] = Dim{Size: -1, Name: v.DimParam}
		default:
			dims[i] = Dim{Size: -1}
		}
	}
	return dims
}
