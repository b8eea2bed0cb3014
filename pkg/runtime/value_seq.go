package runtime

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/onnx"
)

// ParamKeys is the output parameter that lists, as strings, the map keys
// (class labels) along the last axis of a tensor made from map outputs.
const ParamKeys = "keys"

// ParamSequenceShapes is the output parameter that lists the shape of each
// element of a sequence whose tensors differ in shape: the tensor then holds
// the elements' values one after the other, flattened.
const ParamSequenceShapes = "sequence_shapes"

// sequenceTensor turns a sequence output of type typ into one tensor: a
// sequence of N maps with the same K keys (scikit-learn's ZipMap) becomes an
// [N, K] tensor of the map values with the keys in ParamKeys; a sequence of N
// tensors of one shape and type becomes their stack, [N, ...shape]; tensors
// of different shapes are joined flat with ParamSequenceShapes; an empty
// sequence is a tensor of shape [0].
func sequenceTensor(name string, s *ort.Sequence, typ onnx.Type) (*oip.Tensor, error) {
	items, err := s.GetValues()
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		dt, _ := tensorView(typ)
		if dt == "" {
			return nil, fmt.Errorf("empty sequence of %s", typ)
		}
		return &oip.Tensor{Name: name, Datatype: dt, Shape: []int64{0}}, nil
	}
	if _, ok := items[0].(*ort.Map); ok {
		maps := make([]*ort.Map, len(items))
		for i, it := range items {
			if maps[i], ok = it.(*ort.Map); !ok {
				return nil, fmt.Errorf("sequence mixes maps and %s", it.GetONNXType())
			}
		}
		return mapTensor(name, maps, true)
	}
	parts := make([]*oip.Tensor, len(items))
	for i, it := range items {
		if parts[i], err = toTensor(name, it, elemType(typ)); err != nil {
			return nil, fmt.Errorf("sequence element %d: %w", i, err)
		}
	}
	return stack(name, parts)
}

// mapTensor puts the values of maps that share their keys into one tensor:
// [len(maps), K] when batched, else [K].
func mapTensor(name string, maps []*ort.Map, batched bool) (*oip.Tensor, error) {
	var keys []string
	rows := make([]*oip.Tensor, len(maps))
	for i, m := range maps {
		k, v, err := m.GetKeysAndValues()
		if err != nil {
			return nil, err
		}
		rowKeys, err := keyStrings(k)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			keys = rowKeys
		} else if !slices.Equal(keys, rowKeys) {
			return nil, fmt.Errorf("map %d has keys %v, map 0 has %v", i, rowKeys, keys)
		}
		if rows[i], err = toTensor(name, v, onnx.Type{}); err != nil {
			return nil, fmt.Errorf("map values: %w", err)
		}
	}
	t := rows[0]
	if batched {
		var err error
		if t, err = stack(name, rows); err != nil {
			return nil, err
		}
	}
	t.Parameters = oip.Parameters{ParamKeys: keys}
	return t, nil
}

func keyStrings(v ort.Value) ([]string, error) {
	switch k := v.(type) {
	case *ort.StringTensor:
		return k.GetContents()
	case *ort.Tensor[int64]:
		keys := make([]string, len(k.GetData()))
		for i, n := range k.GetData() {
			keys[i] = strconv.FormatInt(n, 10)
		}
		return keys, nil
	}
	return nil, fmt.Errorf("unsupported map key type %s", v.GetONNXType())
}

// stack joins tensors of one datatype along a new first axis when they
// share their shape, and flat, with each one's shape in ParamSequenceShapes,
// when they do not.
func stack(name string, parts []*oip.Tensor) (*oip.Tensor, error) {
	first := parts[0]
	out := &oip.Tensor{Name: name, Datatype: first.Datatype, Shape: append([]int64{int64(len(parts))}, first.Shape...)}
	var raw bytes.Buffer
	ragged := false
	shapes := make([][]int64, len(parts))
	elements := int64(0)
	for i, p := range parts {
		if p.Datatype != first.Datatype {
			return nil, fmt.Errorf("element %d is %s, element 0 is %s", i, p.Datatype, first.Datatype)
		}
		ragged = ragged || !slices.Equal(p.Shape, first.Shape)
		shapes[i] = p.Shape
		n, _ := p.NumElements()
		elements += n
		raw.Write(p.Raw)
		out.Strings = append(out.Strings, p.Strings...)
	}
	if ragged {
		out.Shape = []int64{elements}
		out.Parameters = oip.Parameters{ParamSequenceShapes: shapes}
	}
	if first.Datatype != oip.Bytes {
		out.Raw = raw.Bytes()
	}
	return out, nil
}

// elemType is the element type of a sequence type, or the unknown type.
func elemType(t onnx.Type) onnx.Type {
	if t.Kind == onnx.KindSequence && t.Value != nil {
		return *t.Value
	}
	return onnx.Type{}
}
