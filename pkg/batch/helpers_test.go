package batch

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/table"
)

// irisFields are the columns of the iris test tables: an id, the four
// features the example model names in its metadata, and the species.
var irisFields = []table.Field{
	{Name: "id", Kind: table.KindInt},
	{Name: "sepal_length", Kind: table.KindFloat64},
	{Name: "sepal_width", Kind: table.KindFloat64},
	{Name: "petal_length", Kind: table.KindFloat64},
	{Name: "petal_width", Kind: table.KindFloat64},
	{Name: "species", Kind: table.KindString},
}

// irisRows reads examples/iris/iris.csv (scikit-learn's layout) as rows
// of irisFields, repeated times times with consecutive ids.
func irisRows(t testing.TB, times int) []table.Row {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.RepoRoot(t), "examples", "iris", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	classes := recs[0][2:]
	var rows []table.Row
	for k := range times {
		for i, rec := range recs[1:] {
			row := table.Row{table.Int(int64(k*(len(recs)-1) + i))}
			for _, s := range rec[:4] {
				x, _ := strconv.ParseFloat(s, 64)
				row = append(row, table.Float64(x))
			}
			c, _ := strconv.Atoi(rec[4])
			rows = append(rows, append(row, table.String(classes[c])))
		}
	}
	return rows
}

// writeTable writes rows in format f to a new file in dir.
func writeTable(t testing.TB, path string, f table.Format, fields []table.Field, rows []table.Row) string {
	t.Helper()
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w, err := table.NewRowWriter(f, out, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readTable reads every row of a local file.
func readTable(t testing.TB, path string) ([]table.Field, []table.Row) {
	t.Helper()
	st := table.NewStorage(objstore.S3Options{})
	src, err := table.Open(context.Background(), st, path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tab, err := src.ReadTable(1 << 20)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("read %s: %v", path, err)
	}
	rows := tab.Rows()
	for i, e := range tab.Errs() {
		if e != nil {
			t.Fatalf("%s row %d: %v", path, i, e)
		}
	}
	return src.Fields(), rows
}

// irisPredictor loads the example classifier into ONNX Runtime.
func irisPredictor(t testing.TB) *RuntimePredictor {
	t.Helper()
	if err := runtime.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(testenv.RepoRoot(t), "examples", "iris", "model.onnx")
	m, err := runtime.Load(path, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return &RuntimePredictor{Model: m, Digest: fmt.Sprintf("sha256:%x", sha256.Sum256(data))}
}

// directLabels runs the model on rows in one call: the labels to expect.
func directLabels(t testing.TB, p *RuntimePredictor, rows []table.Row) []string {
	t.Helper()
	x := make([]float32, 0, len(rows)*4)
	for _, r := range rows {
		for _, v := range r[1:5] {
			x = append(x, float32(v.Float))
		}
	}
	out, err := p.Model.Run(context.Background(), []*oip.Tensor{oip.NewTensor("input", []int64{int64(len(rows)), 4}, x)}, []string{"label"})
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]string, len(rows))
	for i, s := range out[0].Strings {
		labels[i] = string(s)
	}
	return labels
}
