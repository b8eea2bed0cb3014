package drift

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/kilnml/kiln/pkg/oip"
)

// Column holds the values of one feature or model output for a batch of
// rows: numbers in Values (NaN or ±Inf for a missing value) or text in Labels.
type Column struct {
	Name   string
	Values []float64
	Labels []string
	// Discrete marks numbers that are class ids (integer or boolean
	// tensors): an output column that is discrete is profiled as
	// categorical.
	Discrete bool
}

// Len is the number of rows the column holds.
func (c Column) Len() int {
	if c.Labels != nil {
		return len(c.Labels)
	}
	return len(c.Values)
}

// categoryKey names a number as a category (1 -> "1", 0.5 -> "0.5").
func categoryKey(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// TensorColumns splits a tensor of shape [N] or [N, ...] into the columns
// of its N rows (a scalar is one row): a tensor with one element per row gives one column named
// after the tensor; one with K elements per row gives K columns named
// name_0 ... name_{K-1} (as kiln batch names expanded outputs). names, when
// not empty, names the columns instead (feature_names) and must have one
// entry per column. BYTES tensors give Labels; integer and BOOL tensors give
// Discrete Values.
func TensorColumns(t *oip.Tensor, names []string) ([]Column, error) {
	return new(Columns).appendTensor(nil, t, names)
}

// Columns turns batches of tensors into Columns, as BatchColumns does,
// reusing its memory from call to call: what Of returns is valid until its
// next call. A serving node keeps one per monitored version, on the
// goroutine that feeds the Monitor (which copies what it keeps). It is not
// safe for concurrent use; the zero value is ready.
type Columns struct {
	in, out []Column
	values  []float64
	names   map[columnNames][]string
}

// columnNames identifies the generated names of a tensor's columns.
type columnNames struct {
	tensor string
	width  int
}

// appendTensor appends t's columns (see TensorColumns) to dst.
func (c *Columns) appendTensor(dst []Column, t *oip.Tensor, names []string) ([]Column, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	rows, dims := 1, t.Shape // a scalar is one row of one value
	if len(dims) > 0 {
		rows, dims = int(dims[0]), dims[1:]
	}
	width := 1
	for _, d := range dims {
		width *= int(d)
	}
	if len(names) > 0 && len(names) != width {
		return nil, fmt.Errorf("tensor %q has %d values per row, but %d names were given", t.Name, width, len(names))
	}
	if len(names) == 0 && width > 1 {
		names = c.generatedNames(t.Name, width)
	}
	start := len(dst)
	dst = slices.Grow(dst, width)[:start+width]
	cols := dst[start:]
	for k := range cols {
		name := t.Name
		if len(names) > 0 {
			name = names[k]
		}
		cols[k] = Column{Name: name}
	}
	if t.Datatype == oip.Bytes {
		for k := range cols {
			cols[k].Labels = make([]string, rows)
			for r := range rows {
				cols[k].Labels[r] = string(t.Strings[r*width+k])
			}
		}
		return dst, nil
	}
	at, discrete, err := elementReader(t)
	if err != nil {
		return nil, err
	}
	// All columns share one stretch of the reused buffer.
	from := len(c.values)
	c.values = slices.Grow(c.values, rows*width)[:from+rows*width]
	values := c.values[from:]
	for k := range cols {
		cols[k].Discrete = discrete
		cols[k].Values = values[k*rows : (k+1)*rows : (k+1)*rows]
		for r := range rows {
			cols[k].Values[r] = at(r*width + k)
		}
	}
	return dst, nil
}

// generatedNames names the K columns of a tensor name_0 ... name_{K-1},
// remembering the names of a few tensors so as not to make them again.
func (c *Columns) generatedNames(tensor string, width int) []string {
	key := columnNames{tensor, width}
	if names, ok := c.names[key]; ok {
		return names
	}
	names := make([]string, width)
	for k := range names {
		names[k] = tensor + "_" + strconv.Itoa(k)
	}
	if c.names == nil {
		c.names = map[columnNames][]string{}
	}
	if len(c.names) < maxRememberedNames {
		c.names[key] = names
	}
	return names
}

// maxRememberedNames bounds the tensors whose column names Columns keeps.
const maxRememberedNames = 64

// elementReader returns a function reading element i of a numeric or BOOL
// tensor as a float64, and whether the datatype is discrete.
func elementReader(t *oip.Tensor) (at func(int) float64, discrete bool, err error) {
	switch t.Datatype {
	case oip.FP32:
		return reader[float32](t, false)
	case oip.FP64:
		return reader[float64](t, false)
	case oip.FP16, oip.BF16:
		bits, err := oip.HalfBits(t)
		conv := oip.Float16ToFloat32
		if t.Datatype == oip.BF16 {
			conv = oip.BFloat16ToFloat32
		}
		return func(i int) float64 { return float64(conv(bits[i])) }, false, err
	case oip.Bool:
		vals, err := oip.Values[bool](t)
		return func(i int) float64 {
			if vals[i] {
				return 1
			}
			return 0
		}, true, err
	case oip.Int8:
		return reader[int8](t, true)
	case oip.Int16:
		return reader[int16](t, true)
	case oip.Int32:
		return reader[int32](t, true)
	case oip.Int64:
		return reader[int64](t, true)
	case oip.Uint8:
		return reader[uint8](t, true)
	case oip.Uint16:
		return reader[uint16](t, true)
	case oip.Uint32:
		return reader[uint32](t, true)
	case oip.Uint64:
		return reader[uint64](t, true)
	}
	return nil, false, fmt.Errorf("tensor %q: datatype %q cannot be profiled", t.Name, t.Datatype)
}

type number interface {
	int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64
}

func reader[T number](t *oip.Tensor, discrete bool) (func(int) float64, bool, error) {
	vals, err := oip.Values[T](t)
	if err != nil {
		return nil, false, err
	}
	return func(i int) float64 { return float64(vals[i]) }, discrete, nil
}

// isMissing reports a missing number: NaN, or an infinity, which no
// distribution statistic can take.
func isMissing(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
