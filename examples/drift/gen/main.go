// Command gen writes the drift example's model and data files.
//
//	go run ./examples/drift/gen -o examples/drift
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	driftexample "github.com/kilnml/kiln/examples/drift"
)

func main() {
	out := flag.String("o", "examples/drift", "folder to write model.onnx and the CSV files to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	m, err := driftexample.Model()
	if err != nil {
		return err
	}
	if err := m.WriteFile(filepath.Join(dir, "model.onnx")); err != nil {
		return err
	}
	for _, f := range driftexample.Files {
		out, err := os.Create(filepath.Join(dir, f.Name))
		if err != nil {
			return err
		}
		err = driftexample.WriteCSV(out, driftexample.Rows(f.Seed, f.Rows, f.Dist))
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
