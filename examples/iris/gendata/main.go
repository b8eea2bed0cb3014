// Command gendata writes the Iris data (iris.csv, scikit-learn's layout)
// as tables with named columns for `kiln batch` and `kiln evaluate`:
// iris-named.csv and iris.parquet, with the four features the example
// model names in its metadata and the species as text.
//
//	go run ./examples/iris/gendata
package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/kilnml/kiln/pkg/batch"
)

func main() {
	if err := run("examples/iris"); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	f, err := os.Open(filepath.Join(dir, "iris.csv"))
	if err != nil {
		return fmt.Errorf("%w (run from the repository root)", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return err
	}
	classes := recs[0][2:]
	fields := []batch.Field{
		{Name: "sepal_length", Kind: batch.KindFloat64}, {Name: "sepal_width", Kind: batch.KindFloat64},
		{Name: "petal_length", Kind: batch.KindFloat64}, {Name: "petal_width", Kind: batch.KindFloat64},
		{Name: "species", Kind: batch.KindString},
	}
	var rows []batch.Row
	for _, rec := range recs[1:] {
		var row batch.Row
		for _, s := range rec[:4] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return err
			}
			row = append(row, batch.Float64(x))
		}
		c, err := strconv.Atoi(rec[4])
		if err != nil || c < 0 || c >= len(classes) {
			return fmt.Errorf("bad class %q", rec[4])
		}
		rows = append(rows, append(row, batch.String(classes[c])))
	}
	for name, format := range map[string]batch.Format{"iris-named.csv": batch.CSV, "iris.parquet": batch.Parquet} {
		if err := write(filepath.Join(dir, name), format, fields, rows); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, format batch.Format, fields []batch.Field, rows []batch.Row) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := batch.NewRowWriter(format, out, fields)
	if err == nil {
		err = w.Write(rows)
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
