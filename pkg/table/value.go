package table

import (
	"encoding/json"
	"math"
	"strconv"
)

// Kind is the type of one cell.
type Kind uint8

// The cell kinds. A column's Kind is KindNull while it is not known yet
// (a JSONL column whose first values are null).
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat32
	KindFloat64
	KindString
	KindList
)

var kindNames = [...]string{"null", "bool", "int", "float32", "float64", "string", "list"}

// String names the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one cell: a scalar, a list of values, or null. Bools and ints
// live in Int, both float kinds in Float, strings in Str, lists in List.
type Value struct {
	Kind  Kind
	Int   int64
	Float float64
	Str   string
	List  []Value
}

// Row is one record, its cells in the order of its reader's Fields.
type Row []Value

// Field names a column and the kind of its values; Elem is the kind of a
// list column's elements.
type Field struct {
	Name string
	Kind Kind
	Elem Kind
}

// FieldNames lists the names of fields, in order.
func FieldNames(fields []Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// SettleKind gives a column of unknown kind (or list element kind) the
// kind of v.
func SettleKind(f *Field, v Value) {
	if f.Kind == KindNull {
		f.Kind = v.Kind
	}
	if f.Kind == KindList && f.Elem == KindNull && v.Kind == KindList && len(v.List) > 0 {
		f.Elem = v.List[0].Kind
	}
}

// DefaultKind makes a column still of unknown kind a string column.
func DefaultKind(f *Field) {
	if f.Kind == KindNull {
		f.Kind = KindString
	}
	if f.Kind == KindList && f.Elem == KindNull {
		f.Elem = KindString
	}
}

// Null returns a null cell.
func Null() Value { return Value{} }

// Bool returns a boolean cell.
func Bool(b bool) Value {
	v := Value{Kind: KindBool}
	if b {
		v.Int = 1
	}
	return v
}

// Int returns an integer cell.
func Int(i int64) Value { return Value{Kind: KindInt, Int: i} }

// Float32 returns a cell holding a 32-bit float (written with 32-bit precision).
func Float32(f float32) Value { return Value{Kind: KindFloat32, Float: float64(f)} }

// Float64 returns a cell holding a 64-bit float.
func Float64(f float64) Value { return Value{Kind: KindFloat64, Float: f} }

// String returns a text cell.
func String(s string) Value { return Value{Kind: KindString, Str: s} }

// List returns a list cell.
func List(vs []Value) Value { return Value{Kind: KindList, List: vs} }

// IsNull reports whether the cell is null.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Text renders a scalar as CSV writes it: numbers in the shortest form that
// reads back exactly, lists as JSON arrays, null as the empty string.
func (v Value) Text() string {
	switch v.Kind {
	case KindNull:
		return ""
	case KindString:
		return v.Str
	case KindList:
		return string(v.AppendJSON(nil))
	}
	return string(v.appendScalar(nil))
}

// appendScalar appends the text of a bool or number cell.
func (v Value) appendScalar(b []byte) []byte {
	switch v.Kind {
	case KindBool:
		return strconv.AppendBool(b, v.Int != 0)
	case KindInt:
		return strconv.AppendInt(b, v.Int, 10)
	case KindFloat32:
		return strconv.AppendFloat(b, v.Float, 'g', -1, 32)
	case KindFloat64:
		return strconv.AppendFloat(b, v.Float, 'g', -1, 64)
	}
	return b
}

// AppendJSON appends the cell as a JSON value. NaN and infinities, which
// JSON cannot hold as numbers, become the strings "NaN", "+Inf" and "-Inf".
func (v Value) AppendJSON(b []byte) []byte {
	switch v.Kind {
	case KindNull:
		return append(b, "null"...)
	case KindString:
		s, _ := json.Marshal(v.Str)
		return append(b, s...)
	case KindList:
		b = append(b, '[')
		for i, e := range v.List {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.AppendJSON(b)
		}
		return append(b, ']')
	case KindFloat32, KindFloat64:
		if math.IsNaN(v.Float) || math.IsInf(v.Float, 0) {
			return strconv.AppendQuote(b, strconv.FormatFloat(v.Float, 'g', -1, 64))
		}
	}
	return v.appendScalar(b)
}
