package batch

import (
	"fmt"
	"strings"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/table"
)

// MetadataFeatureNames is the model metadata key that lists, comma
// separated, the columns that feed the model's single input.
const MetadataFeatureNames = "feature_names"

// inputBinding feeds one model input from one or more columns.
type inputBinding struct {
	meta    oip.TensorMetadata
	columns []string
	cols    []int
	// rowShape is the input's shape without the batch dimension, and width
	// the number of elements one row gives.
	rowShape []int64
	width    int
	// scalar inputs have no batch dimension: one row gives their one value.
	scalar bool
}

// perRow reports whether an input takes exactly one row per run: a scalar,
// or a tensor whose batch dimension is fixed at 1.
func (b *inputBinding) perRow() bool { return b.scalar || b.meta.Shape[0] == 1 }

// bindInputs decides which columns feed each model input: mapping first
// (input -> columns), then features (for a model with one input), then the
// model's feature_names metadata, then a column named like the input.
func bindInputs(inputs []oip.TensorMetadata, meta map[string]string, fields []table.Field, features []string, mapping map[string][]string) ([]*inputBinding, error) {
	index := map[string]int{}
	for i, f := range fields {
		index[f.Name] = i
	}
	if len(features) > 0 && len(inputs) != 1 {
		return nil, fmt.Errorf("--features needs a model with one input; this one has %d (%s): use a mapping file", len(inputs), metaNames(inputs))
	}
	for name := range mapping {
		if !hasInput(inputs, name) {
			return nil, fmt.Errorf("mapping names input %q; the model's inputs are %s", name, metaNames(inputs))
		}
	}
	var out []*inputBinding
	for _, in := range inputs {
		cols := namedColumns(in.Name, len(inputs) == 1, meta, features, mapping)
		switch {
		case cols != nil:
		case hasField(index, in.Name):
			cols = []string{in.Name}
		default:
			return nil, fmt.Errorf("no column feeds model input %q: the input has no column of that name and the model lists no feature_names; pass --features or a --mapping file", in.Name)
		}
		b := &inputBinding{meta: in, columns: cols}
		for _, c := range cols {
			i, ok := index[c]
			if !ok {
				return nil, fmt.Errorf("model input %q needs column %q, which the input data lacks (columns: %s)", in.Name, c, strings.Join(table.FieldNames(fields), ", "))
			}
			b.cols = append(b.cols, i)
		}
		if err := b.settleShape(); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// namedColumns returns the columns named to feed input, in the order of
// bindInputs (mapping, then features or feature_names for a model whose only
// input it is), or nil when none are.
func namedColumns(input string, only bool, meta map[string]string, features []string, mapping map[string][]string) []string {
	switch {
	case len(mapping[input]) > 0:
		return mapping[input]
	case len(features) > 0:
		return features
	case only && meta[MetadataFeatureNames] != "":
		return strings.Split(meta[MetadataFeatureNames], ",")
	}
	return nil
}

func hasInput(inputs []oip.TensorMetadata, name string) bool {
	for _, in := range inputs {
		if in.Name == name {
			return true
		}
	}
	return false
}

func hasField(index map[string]int, name string) bool {
	_, ok := index[name]
	return ok
}

func metaNames(ts []oip.TensorMetadata) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// settleShape works out how many elements a row gives; width stays 0 when
// a single list column decides it (set by the first good row).
func (b *inputBinding) settleShape() error {
	shape := b.meta.Shape
	if len(shape) == 0 {
		if len(b.cols) != 1 {
			return fmt.Errorf("model input %q is a scalar: map one column to it, not %d (%s)", b.meta.Name, len(b.cols), strings.Join(b.columns, ", "))
		}
		b.scalar, b.width = true, 1
		return nil
	}
	if shape[0] > 1 {
		return fmt.Errorf("model input %q has a fixed batch size %d; batch scoring needs a dynamic first dimension (or 1)", b.meta.Name, shape[0])
	}
	b.rowShape = shape[1:]
	known, dynamic := 1, 0
	for _, d := range b.rowShape {
		if d < 0 {
			dynamic++
		} else {
			known *= int(d)
		}
	}
	switch {
	case dynamic > 1:
		return fmt.Errorf("model input %q has shape %v: more than one dynamic dimension besides the batch", b.meta.Name, shape)
	case len(b.cols) > 1:
		if dynamic == 0 && known != len(b.cols) {
			return fmt.Errorf("model input %q takes %d values per row, but %d columns are mapped to it (%s)", b.meta.Name, known, len(b.cols), strings.Join(b.columns, ", "))
		}
		b.setWidth(len(b.cols))
	case dynamic == 0:
		b.width = known
	}
	return nil
}

// setWidth fixes the number of elements per row and fills the dynamic dimension.
func (b *inputBinding) setWidth(w int) error {
	shape := append([]int64(nil), b.rowShape...)
	known := 1
	for _, d := range shape {
		if d >= 0 {
			known *= int(d)
		}
	}
	if w%known != 0 {
		return fmt.Errorf("%d values do not fill input %q of shape %v", w, b.meta.Name, b.meta.Shape)
	}
	for i, d := range shape {
		if d < 0 {
			shape[i] = int64(w / known)
		}
	}
	b.rowShape, b.width = shape, w
	return nil
}

// fill sets the input's elements of the rows at idx (row j of the batch
// holds elements [j*width, (j+1)*width)), and marks in errs the rows whose
// cells do not fit or convert; rows already marked are left alone.
func (b *inputBinding) fill(bld tensorBuilder, in *table.Table, idx []int, errs []error) {
	w := b.width
	var v table.Value // one cell at a time, so that cells are not allocated
	if len(b.cols) == 1 {
		// One column: its cell, a scalar or a list, gives the row's elements.
		col := in.Column(b.cols[0])
		var cells []*table.Value
		for j, r := range idx {
			if errs[r] != nil {
				continue
			}
			v = col.Value(r)
			if cells = flatten(cells[:0], &v); len(cells) != w {
				errs[r] = fmt.Errorf("input %q: column %q has %d values; input %q takes %d", b.meta.Name, b.columns[0], len(cells), b.meta.Name, w)
				continue
			}
			for e, cell := range cells {
				if err := bld.set(j*w+e, cell); err != nil {
					errs[r] = b.cellError(0, err)
					break
				}
			}
		}
		return
	}
	setFloat := bld.floats()
	for k, c := range b.cols {
		col := in.Column(c)
		if nums, null := col.Numbers(); setFloat != nil && nums != nil {
			// Numbers into a tensor of floats, without making cells.
			for j, r := range idx {
				switch {
				case errs[r] != nil:
				case null != nil && null[r]:
					errs[r] = b.cellError(k, errMissing)
				default:
					setFloat(j*w+k, nums[r])
				}
			}
			continue
		}
		for j, r := range idx {
			if errs[r] != nil {
				continue
			}
			v = col.Value(r)
			if v.Kind == table.KindList {
				errs[r] = fmt.Errorf("input %q: column %q holds a list; input %q takes one value per column", b.meta.Name, b.columns[k], b.meta.Name)
				continue
			}
			if err := bld.set(j*w+k, &v); err != nil {
				errs[r] = b.cellError(k, err)
			}
		}
	}
}

// cellError says which input and column a cell that does not convert feeds.
func (b *inputBinding) cellError(k int, err error) error {
	return fmt.Errorf("input %q: column %q: %w", b.meta.Name, b.columns[k], err)
}

// learnWidth sets the width of an input fed by one list column from the
// first row that has a value there. It runs before rows are scored in
// parallel; later rows must have the same width.
func (b *inputBinding) learnWidth(in *table.Table, errs []error) error {
	if b.width != 0 {
		return nil
	}
	for i := range in.Len() {
		if v := in.Column(b.cols[0]).Value(i); errs[i] == nil && !v.IsNull() {
			return b.setWidth(len(flatten(nil, &v)))
		}
	}
	return nil
}

func flatten(dst []*table.Value, v *table.Value) []*table.Value {
	if v.Kind != table.KindList {
		return append(dst, v)
	}
	for i := range v.List {
		dst = flatten(dst, &v.List[i])
	}
	return dst
}
