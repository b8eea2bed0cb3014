// Command gendata writes the Iris data (iris.csv, scikit-learn's layout)
// as tables with named columns for `kiln batch` and `kiln evaluate`:
// iris-named.csv and iris.parquet, with the four features the example
// model names in its metadata and the species as text.
//
//	go run ./examples/iris/gendata
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kilnml/kiln/examples/iris/irisdata"
	"github.com/kilnml/kiln/pkg/batch"
)

func main() {
	if err := run("examples/iris"); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	data, err := irisdata.Read(filepath.Join(dir, "iris.csv"))
	if err != nil {
		return fmt.Errorf("%w (run from the repository root)", err)
	}
	var fields []batch.Field
	for _, name := range irisdata.FeatureNames {
		fields = append(fields, batch.Field{Name: name, Kind: batch.KindFloat64})
	}
	fields = append(fields, batch.Field{Name: "species", Kind: batch.KindString})
	var rows []batch.Row
	for i, measurements := range data.Rows {
		var row batch.Row
		for _, x := range measurements {
			row = append(row, batch.Float64(x))
		}
		rows = append(rows, append(row, batch.String(data.Classes[data.Labels[i]])))
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
