package table

import (
	"bytes"
	"io"
	"testing"
)

// TestParquetPartSplicesPiecesInOrder joins several encoded pieces into one
// part and reads it back whole and from a row in the middle, which goes
// through the rewritten offset index.
func TestParquetPartSplicesPiecesInOrder(t *testing.T) {
	fields := []Field{{Name: "id", Kind: KindInt}, {Name: "name", Kind: KindString}, {Name: "p", Kind: KindList, Elem: KindFloat32}}
	var all []Row
	var out bytes.Buffer
	part, err := NewPartFile(Parquet, &out, fields)
	if err != nil {
		t.Fatal(err)
	}
	enc := NewEncoder(Parquet, fields)
	for piece := range 5 {
		var rows []Row
		for i := range 100 + piece {
			id := int64(len(all) + i)
			rows = append(rows, Row{Int(id), String("row " + string(rune('a'+i%26))), List([]Value{Float32(float32(id)), Float32(0.5)})})
		}
		all = append(all, rows...)
		b, err := enc.Encode(len(rows), rowViews(rows, len(fields)))
		if err != nil {
			t.Fatal(err)
		}
		if err := part.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := part.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := openParquetPiece(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.Metadata().RowGroups); n != 5 {
		t.Fatalf("%d row groups, want one per piece", n)
	}
	for i, oi := range pf.OffsetIndexes() {
		c := pf.Metadata().RowGroups[i/len(fields)].Columns[i%len(fields)].MetaData
		if len(oi.PageLocations) == 0 || oi.PageLocations[0].Offset != c.DataPageOffset {
			t.Fatalf("column chunk %d: offset index %+v, data page at %d", i, oi.PageLocations, c.DataPageOffset)
		}
	}
	r, err := NewRowReader(Parquet, nopCloser{bytes.NewReader(out.Bytes())}, int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := r.Read(nil, nil, len(all)+1)
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if len(got) != len(all) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(all))
	}
	for i, row := range got {
		if row[0].Int != all[i][0].Int || row[1].Str != all[i][1].Str || len(row[2].List) != 2 || row[2].List[0].Float != float64(i) {
			t.Fatalf("row %d: got %v, want %v", i, row, all[i])
		}
	}
	r, err = NewRowReader(Parquet, nopCloser{bytes.NewReader(out.Bytes())}, int64(out.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Skip(350); err != nil {
		t.Fatal(err)
	}
	got, _, _ = r.Read(nil, nil, 1)
	if len(got) != 1 || got[0][0].Int != 350 {
		t.Fatalf("row 350 after a seek: %v", got)
	}
}
