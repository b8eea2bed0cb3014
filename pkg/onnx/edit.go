package onnx

import (
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/kilnml/kiln/pkg/onnx/internal/onnxpb"
)

// Edit returns a Builder over a copy of the model, for rewriting its graph:
// nodes, inputs, outputs and initializers added there leave m unchanged.
func (m *Model) Edit() *Builder {
	pb := proto.Clone(m.proto).(*onnxpb.ModelProto)
	return &Builder{pb: pb, graph: pb.GetGraph()}
}

// RemoveInput removes the graph input with the given name; the value stays
// in the graph, to be produced by a node added in its place.
func (b *Builder) RemoveInput(name string) *Builder {
	b.graph.Input = slices.DeleteFunc(b.graph.Input, func(v *onnxpb.ValueInfoProto) bool { return v.GetName() == name })
	return b
}

// RemoveOutput removes the graph output with the given name (the value stays
// in the graph, for a node added after it).
func (b *Builder) RemoveOutput(name string) *Builder {
	b.graph.Output = slices.DeleteFunc(b.graph.Output, func(v *onnxpb.ValueInfoProto) bool { return v.GetName() == name })
	return b
}

// Bytes encodes the model built so far, or returns the first error met.
func (b *Builder) Bytes() ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	return proto.Marshal(b.pb)
}

// AttrGraph is a graph attribute (the branches of If, the body of Loop):
// the graph that body assembles. Its nodes may read values of the outer graph.
func AttrGraph(name string, body *Builder) Attribute {
	if body.err != nil {
		return Attribute{err: body.err}
	}
	a := attr(name, onnxpb.AttributeProto_GRAPH)
	a.G = body.graph
	return Attribute{pb: a}
}

// RemoveInitializer removes the initializer with the given name.
func (b *Builder) RemoveInitializer(name string) *Builder {
	b.graph.Initializer = slices.DeleteFunc(b.graph.Initializer, func(t *onnxpb.TensorProto) bool { return t.GetName() == name })
	return b
}

// ImportsOpset returns the version of domain the model imports ("" is the
// default domain), or 0 when it imports none.
func (b *Builder) ImportsOpset(domain string) int64 {
	for _, o := range b.pb.OpsetImport {
		if o.GetDomain() == domain {
			return o.GetVersion()
		}
	}
	return 0
}

// SetNodeAttr sets a string attribute on every node of the main graph whose
// operator is op and for which keep(current value, present) is false.
func (b *Builder) SetNodeAttr(op, name, value string, keep func(current string, present bool) bool) *Builder {
	for _, n := range b.graph.Node {
		if n.GetOpType() != op {
			continue
		}
		i := slices.IndexFunc(n.Attribute, func(a *onnxpb.AttributeProto) bool { return a.GetName() == name })
		if i < 0 {
			if !keep("", false) {
				n.Attribute = append(n.Attribute, AttrString(name, value).pb)
			}
			continue
		}
		if !keep(string(n.Attribute[i].GetS()), true) {
			n.Attribute[i] = AttrString(name, value).pb
		}
	}
	return b
}

// ExternalInitializer adds a constant tensor whose little-endian data lies
// in the file location (relative to the model's folder) at offset, length bytes.
func (b *Builder) ExternalInitializer(name string, dt DataType, dims []int64, location string, offset, length int64) *Builder {
	entry := func(k, v string) *onnxpb.StringStringEntryProto {
		return &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(v)}
	}
	b.graph.Initializer = append(b.graph.Initializer, &onnxpb.TensorProto{
		Name: proto.String(name), DataType: proto.Int32(int32(dt)), Dims: dims,
		DataLocation: onnxpb.TensorProto_EXTERNAL.Enum(),
		ExternalData: []*onnxpb.StringStringEntryProto{
			entry("location", location), entry("offset", strconv.FormatInt(offset, 10)), entry("length", strconv.FormatInt(length, 10)),
		},
	})
	return b
}
