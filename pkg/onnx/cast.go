package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/kilnml/kiln/pkg/onnx/internal/onnxpb"
)

// CastOutputs returns the model's bytes with each named graph output
// converted to the element type to by an added Cast node; the outputs keep
// their names. Used where a runtime cannot hand back an output's own type.
func (m *Model) CastOutputs(names []string, to DataType) ([]byte, error) {
	pb := proto.Clone(m.proto).(*onnxpb.ModelProto)
	g := pb.GetGraph()
	for _, name := range names {
		out := findOutputProto(g, name)
		if out == nil || out.GetType().GetTensorType() == nil {
			return nil, fmt.Errorf("cast output %q: not a tensor output of the graph", name)
		}
		inner := name + "__kiln_uncast"
		produced := false
		for _, n := range g.GetNode() {
			renameIn(n.Output, name, inner, &produced)
			renameIn(n.Input, name, inner, nil)
		}
		if !produced {
			return nil, fmt.Errorf("cast output %q: no node produces it", name)
		}
		g.Node = append(g.Node, &onnxpb.NodeProto{
			OpType:    proto.String("Cast"),
			Name:      proto.String("kiln_cast_" + name),
			Input:     []string{inner},
			Output:    []string{name},
			Attribute: []*onnxpb.AttributeProto{AttrInt("to", int64(to)).pb},
		})
		out.GetType().GetTensorType().ElemType = proto.Int32(int32(to))
	}
	return proto.Marshal(pb)
}

func findOutputProto(g *onnxpb.GraphProto, name string) *onnxpb.ValueInfoProto {
	for _, o := range g.GetOutput() {
		if o.GetName() == name {
			return o
		}
	}
	return nil
}

func renameIn(names []string, from, to string, found *bool) {
	for i, n := range names {
		if n == from {
			names[i] = to
			if found != nil {
				*found = true
			}
		}
	}
}
