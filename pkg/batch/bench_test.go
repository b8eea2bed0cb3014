package batch

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/kilnml/kiln/pkg/table"
)

// BenchmarkRunIrisParquet scores 100,000 iris rows Parquet to Parquet.
func BenchmarkRunIrisParquet(b *testing.B) {
	p := irisPredictor(b)
	rows := irisRows(b, 667)[:100_000]
	dir := b.TempDir()
	in := writeTable(b, filepath.Join(dir, "in.parquet"), table.Parquet, irisFields, rows)
	for b.Loop() {
		out := filepath.Join(dir, "out.parquet")
		if _, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, Workers: 2, Overwrite: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
