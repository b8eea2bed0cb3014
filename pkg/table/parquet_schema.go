package table

import (
	"fmt"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// parquetSchema builds a schema whose columns keep the order of fields
// (parquet.Group would sort them by name). Every column is optional; list
// columns are standard 3-level LISTs of required elements.
func parquetSchema(fields []Field) (*parquet.Schema, error) {
	g := make(orderedGroup, len(fields))
	for i, f := range fields {
		var node parquet.Node
		if f.Kind == KindList {
			leaf, err := parquetLeaf(f.Elem)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", f.Name, err)
			}
			node = parquet.List(leaf)
		} else {
			leaf, err := parquetLeaf(f.Kind)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", f.Name, err)
			}
			node = leaf
		}
		g[i] = orderedField{Node: parquet.Optional(node), name: f.Name}
	}
	return parquet.NewSchema("kiln_batch", g), nil
}

func parquetLeaf(k Kind) (parquet.Node, error) {
	switch k {
	case KindBool:
		return parquet.Leaf(parquet.BooleanType), nil
	case KindInt:
		return parquet.Int(64), nil
	case KindFloat32:
		return parquet.Leaf(parquet.FloatType), nil
	case KindFloat64:
		return parquet.Leaf(parquet.DoubleType), nil
	case KindString, KindNull:
		return parquet.String(), nil
	}
	return nil, fmt.Errorf("a %s cannot be a Parquet list element", k)
}

// orderedGroup is a group node whose fields stay in the given order.
type orderedGroup []orderedField

type orderedField struct {
	parquet.Node
	name string
}

func (f orderedField) Name() string                           { return f.name }
func (f orderedField) Value(base reflect.Value) reflect.Value { return reflect.Value{} }

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return parquet.Group{}.String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }
func (g orderedGroup) Fields() []parquet.Field {
	fields := make([]parquet.Field, len(g))
	for i, f := range g {
		fields[i] = f
	}
	return fields
}
