package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// nopCloser adapts a bytes.Reader to ReadAtCloser.
type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func sampleRows() ([]Field, []Row) {
	fields := []Field{
		{Name: "id", Kind: KindInt},
		{Name: "name", Kind: KindString},
		{Name: "score", Kind: KindFloat64},
		{Name: "p", Kind: KindFloat32},
		{Name: "ok", Kind: KindBool},
		{Name: "probs", Kind: KindList, Elem: KindFloat32},
	}
	rows := []Row{
		{Int(1), String("a,\"quoted\"\nline"), Float64(0.1), Float32(0.25), Bool(true), List([]Value{Float32(0.1), Float32(0.9)})},
		{Int(-7), String("日本"), Null(), Float32(-1.5), Bool(false), List(nil)},
		{Int(math.MaxInt64), String(""), Float64(1e300), Null(), Null(), Null()},
	}
	return fields, rows
}

func roundTrip(t *testing.T, f Format, fields []Field, rows []Row) ([]Field, []Row) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewRowWriter(f, &buf, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewRowReader(f, nopCloser{bytes.NewReader(buf.Bytes())}, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got, errs, err := r.Read(nil, nil, 100)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("read: %v, want EOF after %d rows", err, len(got))
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("row %d: %v", i, e)
		}
	}
	if r.Fraction() != 1 {
		t.Errorf("fraction after reading everything = %v", r.Fraction())
	}
	return r.Fields(), got
}

func TestParquetRoundTripKeepsKindsAndOrder(t *testing.T) {
	fields, rows := sampleRows()
	gotFields, got := roundTrip(t, Parquet, fields, rows)
	if !reflect.DeepEqual(gotFields, fields) {
		t.Errorf("fields = %+v\nwant %+v", gotFields, fields)
	}
	want := append([]Row(nil), rows...)
	want[1] = append(Row(nil), rows[1]...)
	want[1][5] = List(nil) // an empty list reads back as an empty list
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %+v\nwant %+v", got, want)
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	fields, rows := sampleRows()
	_, got := roundTrip(t, JSONL, fields, rows)
	for i := range rows {
		for c := range fields {
			if g, w := got[i][c].Text(), rows[i][c].Text(); g != w {
				t.Errorf("row %d %s = %q, want %q", i, fields[c].Name, g, w)
			}
		}
	}
	if got[0][0].Kind != KindInt || got[0][4].Kind != KindBool || got[0][5].Kind != KindList {
		t.Errorf("kinds not kept: %+v", got[0])
	}
}

// readText reads up to 10 rows of a CSV or JSONL text.
func readText(t *testing.T, f Format, data string) ([]Row, []error, error) {
	t.Helper()
	r, err := NewRowReader(f, nopCloser{bytes.NewReader([]byte(data))}, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	return r.Read(nil, nil, 10)
}

func TestCSVRoundTripAsText(t *testing.T) {
	fields, rows := sampleRows()
	gotFields, got := roundTrip(t, CSV, fields, rows)
	for i, f := range gotFields {
		if f.Name != fields[i].Name || f.Kind != KindString {
			t.Errorf("field %d = %+v", i, f)
		}
	}
	for i := range rows {
		for c := range fields {
			if g, w := got[i][c].Str, rows[i][c].Text(); g != w {
				t.Errorf("row %d %s = %q, want %q", i, fields[c].Name, g, w)
			}
		}
	}
	if got[0][5].Str != "[0.1,0.9]" {
		t.Errorf("list cell = %q, want JSON array", got[0][5].Str)
	}
}

func TestCSVBadRowIsReportedAndReadingGoesOn(t *testing.T) {
	data := "a,b\n1,2\n3\n4,5\n"
	rows, errs, err := readText(t, CSV, data)
	if !errors.Is(err, io.EOF) || len(rows) != 3 {
		t.Fatalf("got %d rows, err %v", len(rows), err)
	}
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errs = %v, want only the second row bad", errs)
	}
	if rows[2][1].Str != "5" {
		t.Errorf("row after the bad one = %+v", rows[2])
	}
}

func TestJSONLRefusesUnknownKeyInLaterLine(t *testing.T) {
	data := "{\"a\":1}\n\n{\"a\":2,\"b\":3}\n{\"b\":1}\n{\"a\":[1,{\"x\":1}]}\n"
	rows, errs, _ := readText(t, JSONL, data)
	if len(rows) != 4 || errs[0] != nil || errs[1] == nil || errs[2] == nil || errs[3] != nil {
		t.Fatalf("rows %v errs %v", rows, errs)
	}
	if got := rows[3][0].Text(); got != `[1,"{\"x\":1}"]` {
		t.Errorf("nested object = %s", got)
	}
}

func TestJSONLRefusesNumbersOutOfRange(t *testing.T) {
	data := "{\"a\":1}\n{\"a\":1e999}\n{\"a\":-1e999}\n{\"a\":99999999999999999999}\n"
	rows, errs, _ := readText(t, JSONL, data)
	if len(rows) != 4 || errs[0] != nil || errs[3] != nil {
		t.Fatalf("rows %v errs %v", rows, errs)
	}
	for _, i := range []int{1, 2} {
		if errs[i] == nil || !strings.Contains(errs[i].Error(), "out of range") {
			t.Errorf("line %d: %v, want an out of range error", i+1, errs[i])
		}
	}
	if rows[3][0].Kind != KindFloat64 || rows[3][0].Float != 1e20 {
		t.Errorf("an integer past int64 = %+v, want the float 1e20", rows[3][0])
	}
}

func TestParquetSkipSeeks(t *testing.T) {
	fields := []Field{{Name: "i", Kind: KindInt}}
	var rows []Row
	for i := range 1000 {
		rows = append(rows, Row{Int(int64(i))})
	}
	var buf bytes.Buffer
	w, _ := NewRowWriter(Parquet, &buf, fields)
	w.Write(rows)
	w.Close()
	r, err := NewRowReader(Parquet, nopCloser{bytes.NewReader(buf.Bytes())}, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Skip(990); n != 990 || err != nil {
		t.Fatalf("skip = %d, %v", n, err)
	}
	got, _, _ := r.Read(nil, nil, 100)
	if len(got) != 10 || got[0][0].Int != 990 {
		t.Fatalf("after skip got %d rows starting %v", len(got), got)
	}
}

// TestParquetReadsOtherWritersLayouts reads a file written by parquet-go's
// own struct writer: required columns, a dictionary-encoded string, lists
// longer than a page, small pages and several row groups, in reads of
// uneven sizes and after a seek.
func TestParquetReadsOtherWritersLayouts(t *testing.T) {
	type record struct {
		ID    int64     `parquet:"id"`
		Name  string    `parquet:"name,dict"`
		Score *float64  `parquet:"score,optional"`
		Vec   []float32 `parquet:"vec,list"`
	}
	const n = 300
	want := make([]record, n)
	for i := range want {
		want[i] = record{ID: int64(i), Name: fmt.Sprint("class-", i%3)}
		if i%4 != 0 {
			s := float64(i) / 2
			want[i].Score = &s
		}
		want[i].Vec = make([]float32, i%7*400) // up to 2400 elements: longer than a page
		for k := range want[i].Vec {
			want[i].Vec[k] = float32(i) + float32(k)/4096
		}
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[record](&buf, parquet.PageBufferSize(512), parquet.MaxRowsPerRowGroup(64))
	if _, err := w.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	open := func() RowReader {
		r, err := NewRowReader(Parquet, nopCloser{bytes.NewReader(buf.Bytes())}, int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	check := func(i int, row Row) {
		t.Helper()
		rec := want[i]
		if !reflect.DeepEqual(row[0], Int(rec.ID)) || !reflect.DeepEqual(row[1], String(rec.Name)) {
			t.Fatalf("row %d: id, name = %v, %v; want %d, %q", i, row[0], row[1], rec.ID, rec.Name)
		}
		if (rec.Score == nil) != row[2].IsNull() || (rec.Score != nil && !reflect.DeepEqual(row[2], Float64(*rec.Score))) {
			t.Fatalf("row %d: score = %v, want %v", i, row[2], rec.Score)
		}
		if row[3].Kind != KindList || len(row[3].List) != len(rec.Vec) {
			t.Fatalf("row %d: vec has %d elements, want %d", i, len(row[3].List), len(rec.Vec))
		}
		for k, v := range row[3].List {
			if !reflect.DeepEqual(v, Float32(rec.Vec[k])) {
				t.Fatalf("row %d: vec[%d] = %v, want %v", i, k, v, rec.Vec[k])
			}
		}
	}
	r := open()
	var got []Row
	for size := 1; ; size = size%97 + 13 {
		var err error
		got, _, err = r.Read(got, nil, size)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != n {
		t.Fatalf("read %d rows, want %d", len(got), n)
	}
	for i, row := range got {
		check(i, row)
	}
	r = open()
	if k, err := r.Skip(130); k != 130 || err != nil {
		t.Fatalf("skip = %d, %v", k, err)
	}
	rows, _, err := r.Read(nil, nil, 5)
	if err != nil || len(rows) != 5 {
		t.Fatalf("read after skip: %d rows, %v", len(rows), err)
	}
	for i, row := range rows {
		check(130+i, row)
	}
}
