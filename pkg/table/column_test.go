package table

import (
	"reflect"
	"testing"
)

// TestColumnsKeepCellsThroughPickAndConcat checks that typed columns give
// back the cells they were set with after rows are picked and parts of
// different kinds joined.
func TestColumnsKeepCellsThroughPickAndConcat(t *testing.T) {
	floats := NewColumn(KindFloat64, 4)
	for r, v := range []Value{Float64(0.5), Null(), Float64(-2), Float64(1e300)} {
		floats.Set(r, v)
	}
	ints := NewColumn(KindInt, 2)
	ints.Set(0, Int(7))
	ints.Set(1, Int(-1))
	list := NewColumn(KindFloat32, 6)
	list.n, list.width = 3, 2
	for i := range 6 {
		list.Set(i, Float32(float32(i)))
	}

	if got, want := floats.pick([]int{3, 1, 0}).values(), []Value{Float64(1e300), Null(), Float64(0.5)}; !reflect.DeepEqual(got, want) {
		t.Errorf("picked floats = %v, want %v", got, want)
	}
	if got, want := list.pick([]int{2, 0}).values(), []Value{List([]Value{Float32(4), Float32(5)}), List([]Value{Float32(0), Float32(1)})}; !reflect.DeepEqual(got, want) {
		t.Errorf("picked lists = %v, want %v", got, want)
	}
	same := ConcatColumns([]*Column{floats, floats.pick([]int{1})})
	if !same.typed() || same.n != 5 || !reflect.DeepEqual(same.values()[2:4], []Value{Float64(-2), Float64(1e300)}) || !same.Value(4).IsNull() {
		t.Errorf("floats joined = %v (typed %v)", same.values(), same.typed())
	}
	mixed := ConcatColumns([]*Column{ints, floats})
	want := []Value{Int(7), Int(-1), Float64(0.5), Null(), Float64(-2), Float64(1e300)}
	if mixed.typed() || !reflect.DeepEqual(mixed.values(), want) {
		t.Errorf("ints and floats joined = %v (typed %v), want %v as Values", mixed.values(), mixed.typed(), want)
	}
}
