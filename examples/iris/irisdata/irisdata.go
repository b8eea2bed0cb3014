// Package irisdata reads the example's copy of Fisher's Iris data
// (iris.csv as scikit-learn ships it: a header "150,4,class names...", then
// four measurements and a class index per row).
package irisdata

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
)

// FeatureNames name the four measurements, in column order.
var FeatureNames = []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}

// Data is the Iris table.
type Data struct {
	// Rows hold the four measurements of each flower.
	Rows [][]float64
	// Labels hold each flower's class index into Classes.
	Labels  []int
	Classes []string
}

// Read parses iris.csv.
func Read(path string) (*Data, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(records) < 2 || len(records[0]) < 3 {
		return nil, fmt.Errorf("%s: want a header with class names and rows", path)
	}
	d := &Data{Classes: records[0][2:]}
	for i, rec := range records[1:] {
		if len(rec) != 5 {
			return nil, fmt.Errorf("%s: row %d has %d fields, want 5", path, i+1, len(rec))
		}
		row := make([]float64, 4)
		for j := range row {
			if row[j], err = strconv.ParseFloat(rec[j], 64); err != nil {
				return nil, fmt.Errorf("%s: row %d: %w", path, i+1, err)
			}
		}
		label, err := strconv.Atoi(rec[4])
		if err != nil || label < 0 || label >= len(d.Classes) {
			return nil, fmt.Errorf("%s: row %d: bad class %q", path, i+1, rec[4])
		}
		d.Rows, d.Labels = append(d.Rows, row), append(d.Labels, label)
	}
	return d, nil
}

// Float32 returns the rows flattened as float32, row after row, as a
// [len(rows), 4] tensor wants them.
func Float32(rows [][]float64) []float32 {
	out := make([]float32, 0, 4*len(rows))
	for _, r := range rows {
		for _, v := range r {
			out = append(out, float32(v))
		}
	}
	return out
}
