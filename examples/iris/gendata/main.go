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
	"github.com/kilnml/kiln/pkg/table"
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
	var fields []table.Field
	for _, name := range irisdata.FeatureNames {
		fields = append(fields, table.Field{Name: name, Kind: table.KindFloat64})
	}
	fields = append(fields, table.Field{Name: "species", Kind: table.KindString})
	var rows []table.Row
	for i, measurements := range data.Rows {
		var row table.Row
		for _, x := range measurements {
			row = append(row, table.Float64(x))
		}
		rows = append(rows, append(row, table.String(data.Classes[data.Labels[i]])))
	}
	for name, format := range map[string]table.Format{"iris-named.csv": table.CSV, "iris.parquet": table.Parquet} {
		if err := write(filepath.Join(dir, name), format, fields, rows); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, format table.Format, fields []table.Field, rows []table.Row) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := table.NewRowWriter(format, out, fields)
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
