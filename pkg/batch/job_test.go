package batch

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kilnml/kiln/pkg/objstore"
	"github.com/kilnml/kiln/pkg/table"
)

// checkIrisOutput asserts that out holds rows in order, each with its
// id, the model's label and three probabilities summing to 1.
func checkIrisOutput(t *testing.T, p *RuntimePredictor, out string, rows []table.Row) {
	t.Helper()
	fields, got := readTable(t, out)
	names := strings.Join(table.FieldNames(fields), ",")
	if names != "id,sepal_length,sepal_width,petal_length,petal_width,species,label,probabilities" {
		t.Fatalf("%s columns = %s", out, names)
	}
	if len(got) != len(rows) {
		t.Fatalf("%s has %d rows, want %d", out, len(got), len(rows))
	}
	want := directLabels(t, p, rows)
	for i, r := range got {
		if r[0].Text() != rows[i][0].Text() {
			t.Fatalf("%s row %d has id %s, want %s", out, i, r[0].Text(), rows[i][0].Text())
		}
		if r[6].Text() != want[i] {
			t.Fatalf("%s row %d label %q, want %q", out, i, r[6].Text(), want[i])
		}
		probs := r[7]
		if probs.Kind == table.KindString { // CSV holds the list as JSON text
			var nums []float64
			if err := json.Unmarshal([]byte(probs.Str), &nums); err != nil {
				t.Fatalf("%s row %d probabilities %q: %v", out, i, probs.Str, err)
			}
			probs = table.List(nil)
			for _, x := range nums {
				probs.List = append(probs.List, table.Float64(x))
			}
		}
		if len(probs.List) != 3 {
			t.Fatalf("%s row %d probabilities = %s", out, i, r[7].Text())
		}
		sum := 0.0
		for _, v := range probs.List {
			f, _ := toFloat(v)
			sum += f
		}
		if sum < 0.999 || sum > 1.001 {
			t.Fatalf("%s row %d probabilities sum to %v", out, i, sum)
		}
	}
}

func TestRunRoundTripsEveryFormat(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 3)
	for _, in := range []table.Format{table.CSV, table.JSONL, table.Parquet} {
		for _, out := range []table.Format{table.CSV, table.JSONL, table.Parquet} {
			t.Run(string(in)+"-to-"+string(out), func(t *testing.T) {
				dir := t.TempDir()
				input := writeTable(t, filepath.Join(dir, "in"+in.Ext()), in, irisFields, rows)
				output := filepath.Join(dir, "out"+out.Ext())
				sum, err := Run(context.Background(), Config{Input: input, Output: output, Predictor: p, BatchSize: 32, Workers: 3, PartRows: 100})
				if err != nil {
					t.Fatal(err)
				}
				if sum.Rows != int64(len(rows)) || sum.Written != sum.Rows || sum.Failed != 0 {
					t.Errorf("summary %+v", sum)
				}
				checkIrisOutput(t, p, output, rows)
				if _, err := os.Stat(output + ".kiln-batch"); !os.IsNotExist(err) {
					t.Errorf("work folder left behind: %v", err)
				}
			})
		}
	}
}

func TestRunReadsAFolderOfFiles(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 2)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	writeTable(t, filepath.Join(in, "a.parquet"), table.Parquet, irisFields, rows[:100])
	writeTable(t, filepath.Join(in, "b.parquet"), table.Parquet, irisFields, rows[100:])
	out := filepath.Join(dir, "out.csv")
	if _, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, BatchSize: 64}); err != nil {
		t.Fatal(err)
	}
	checkIrisOutput(t, p, out, rows)
}

func TestRunKeepsChosenColumnsAndExpandsVectors(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 1)
	dir := t.TempDir()
	in := writeTable(t, filepath.Join(dir, "in.parquet"), table.Parquet, irisFields, rows)
	out := filepath.Join(dir, "out.parquet")
	_, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, Keep: []string{"id"}, Score: ScoreOptions{Expand: true}})
	if err != nil {
		t.Fatal(err)
	}
	fields, got := readTable(t, out)
	if names := strings.Join(table.FieldNames(fields), ","); names != "id,label,probabilities_0,probabilities_1,probabilities_2" {
		t.Fatalf("columns = %s", names)
	}
	if fields[2].Kind != table.KindFloat32 || len(got) != len(rows) {
		t.Fatalf("fields %+v, %d rows", fields, len(got))
	}
}

func TestRunMapsColumnsByFeatureList(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 1)
	renamed := append([]table.Field(nil), irisFields...)
	for i := 1; i <= 4; i++ {
		renamed[i].Name = "f" + string(rune('0'+i))
	}
	dir := t.TempDir()
	in := writeTable(t, filepath.Join(dir, "in.csv"), table.CSV, renamed, rows)
	out := filepath.Join(dir, "out.jsonl")
	cfg := Config{Input: in, Output: out, Predictor: p}
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `needs column "sepal_length"`) {
		t.Fatalf("without --features: %v, want a missing column error", err)
	}
	cfg.Score.Features = []string{"f1", "f2", "f3", "f4"}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	_, got := readTable(t, out)
	want := directLabels(t, p, rows)
	for i := range got {
		if got[i][6].Str != want[i] {
			t.Fatalf("row %d label %q, want %q", i, got[i][6].Str, want[i])
		}
	}
}

// badIrisCSV returns iris rows as CSV text with rows 3 and 7 broken.
func badIrisCSV(t *testing.T, dir string) (string, []table.Row) {
	rows := irisRows(t, 1)[:10]
	path := writeTable(t, filepath.Join(dir, "in.csv"), table.CSV, irisFields, rows)
	data, _ := os.ReadFile(path)
	lines := strings.Split(string(data), "\n")
	lines[4] = strings.Replace(lines[4], "4.6", "abc", 1) // row 3
	lines[8] = strings.Replace(lines[8], ",", ",,", 1)    // row 7: one field too many
	os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644)
	return path, rows
}

func TestRunSkipsBadRowsIntoTheErrorsFile(t *testing.T) {
	p := irisPredictor(t)
	dir := t.TempDir()
	in, rows := badIrisCSV(t, dir)
	out := filepath.Join(dir, "out.csv")
	sum, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, SkipBadRows: true, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 10 || sum.Failed != 2 || sum.Written != 8 || sum.Errors != out+".errors.jsonl" {
		t.Fatalf("summary %+v", sum)
	}
	_, got := readTable(t, out)
	var ids []string
	for _, r := range got {
		ids = append(ids, r[0].Str)
	}
	if strings.Join(ids, ",") != "0,1,2,4,5,6,8,9" {
		t.Errorf("ids written = %v", ids)
	}
	_, bad := readTable(t, sum.Errors)
	if len(bad) != 2 || bad[0][0].Int != 3 || bad[1][0].Int != 7 {
		t.Fatalf("errors file rows = %+v", bad)
	}
	if !strings.Contains(bad[0][1].Str, `"abc" is not a number`) || !strings.Contains(bad[1][1].Str, "has 7 fields") {
		t.Errorf("reasons = %q, %q", bad[0][1].Str, bad[1][1].Str)
	}
	_ = rows
}

func TestRunFailsOnFirstBadRowAndWritesNoOutput(t *testing.T) {
	p := irisPredictor(t)
	dir := t.TempDir()
	in, _ := badIrisCSV(t, dir)
	out := filepath.Join(dir, "out.csv")
	_, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, BatchSize: 4})
	var rowErr *RowError
	if !errors.As(err, &rowErr) || rowErr.Row != 3 {
		t.Fatalf("err = %v, want a RowError for row 3", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written despite the failure: %v", err)
	}
}

func TestRunRefusesToOverwriteUnlessAsked(t *testing.T) {
	p := irisPredictor(t)
	dir := t.TempDir()
	in := writeTable(t, filepath.Join(dir, "in.csv"), table.CSV, irisFields, irisRows(t, 1))
	out := filepath.Join(dir, "out.csv")
	os.WriteFile(out, []byte("precious"), 0o644)
	if _, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p}); !errors.Is(err, ErrOutputExists) {
		t.Fatalf("err = %v, want ErrOutputExists", err)
	}
	if data, _ := os.ReadFile(out); string(data) != "precious" {
		t.Fatal("existing output changed")
	}
	if _, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	checkIrisOutput(t, p, out, irisRows(t, 1))
}

func TestShardsCoverEveryRowOnce(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 3)
	dir := t.TempDir()
	in := writeTable(t, filepath.Join(dir, "in.parquet"), table.Parquet, irisFields, rows)
	seen := map[int64]int{}
	for i := range 4 {
		out := filepath.Join(dir, "out-"+string(rune('0'+i))+".jsonl")
		sum, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, Shard: Shard{Index: i, Count: 4}, BatchSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		_, got := readTable(t, out)
		if int64(len(got)) != sum.Rows || len(got) < len(rows)/4 || len(got) > len(rows)/4+1 {
			t.Errorf("shard %d: %d rows (summary %d)", i, len(got), sum.Rows)
		}
		for k, r := range got {
			if k > 0 && r[0].Int <= got[k-1][0].Int {
				t.Fatalf("shard %d out of order at %d", i, k)
			}
			seen[r[0].Int]++
		}
	}
	for i := range rows {
		if seen[int64(i)] != 1 {
			t.Fatalf("row %d seen %d times", i, seen[int64(i)])
		}
	}
}

func TestRunResumesFromItsCheckpoint(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 20) // 3000 rows
	dir := t.TempDir()
	in := writeTable(t, filepath.Join(dir, "in.jsonl"), table.JSONL, irisFields, rows)
	out := filepath.Join(dir, "out.parquet")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Input: in, Output: out, Predictor: p, BatchSize: 50, Workers: 2, PartRows: 500}
	cfg.Progress = func(pr Progress) {
		if pr.Rows >= 1200 {
			cancel()
		}
	}
	if _, err := Run(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: %v, want context.Canceled", err)
	}
	cp, err := loadCheckpoint(context.Background(), table.NewStorage(objstore.S3Options{}), table.Location{Key: out + ".kiln-batch"})
	if err != nil || cp == nil || cp.NextRow < 1000 || cp.NextRow >= 3000 {
		t.Fatalf("checkpoint after the first run: %+v, %v", cp, err)
	}
	cfg.Progress = nil
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resumed != cp.Rows || sum.Rows != 3000 {
		t.Errorf("summary %+v, checkpoint had %d rows", sum, cp.Rows)
	}
	checkIrisOutput(t, p, out, rows)
}

// TestRunSkipsParquetRowsWithMissingFeatures scores Parquet whose feature
// columns have nulls: those rows, and only those, go to the errors file
// naming the column, and the others keep their order.
func TestRunSkipsParquetRowsWithMissingFeatures(t *testing.T) {
	p := irisPredictor(t)
	dir := t.TempDir()
	rows := irisRows(t, 1)[:12]
	rows[3][2], rows[8][4] = table.Null(), table.Null()
	in := writeTable(t, filepath.Join(dir, "in.parquet"), table.Parquet, irisFields, rows)
	out := filepath.Join(dir, "out.parquet")
	sum, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, SkipBadRows: true, BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 2 || sum.Written != 10 {
		t.Fatalf("summary %+v", sum)
	}
	_, got := readTable(t, out)
	var ids []string
	for _, r := range got {
		ids = append(ids, r[0].Text())
	}
	if strings.Join(ids, ",") != "0,1,2,4,5,6,7,9,10,11" {
		t.Errorf("ids written = %v", ids)
	}
	_, bad := readTable(t, sum.Errors)
	if len(bad) != 2 || bad[0][0].Int != 3 || bad[1][0].Int != 8 {
		t.Fatalf("errors file rows = %+v", bad)
	}
	if !strings.Contains(bad[0][1].Str, `column "sepal_width": missing value`) || !strings.Contains(bad[1][1].Str, `column "petal_width": missing value`) {
		t.Errorf("reasons = %q, %q", bad[0][1].Str, bad[1][1].Str)
	}
}

// TestRunFeedsAnInputFromAListColumn scores rows whose four features are
// one list cell, from Parquet and JSONL: the labels match the model's on
// the same numbers, and a list of the wrong length fails its row only.
func TestRunFeedsAnInputFromAListColumn(t *testing.T) {
	p := irisPredictor(t)
	rows := irisRows(t, 1)[:20]
	want := directLabels(t, p, rows)
	fields := []table.Field{{Name: "id", Kind: table.KindInt}, {Name: "features", Kind: table.KindList, Elem: table.KindFloat64}}
	var listRows []table.Row
	for _, r := range rows {
		listRows = append(listRows, table.Row{r[0], table.List(append([]table.Value(nil), r[1:5]...))})
	}
	listRows[6][1] = table.List(listRows[6][1].List[:3])
	for _, f := range []table.Format{table.Parquet, table.JSONL} {
		dir := t.TempDir()
		in := writeTable(t, filepath.Join(dir, "in"+f.Ext()), f, fields, listRows)
		out := filepath.Join(dir, "out.csv")
		sum, err := Run(context.Background(), Config{Input: in, Output: out, Predictor: p, SkipBadRows: true, BatchSize: 8, Score: ScoreOptions{Features: []string{"features"}}})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Failed != 1 || sum.Written != 19 {
			t.Fatalf("%s: summary %+v", f, sum)
		}
		_, got := readTable(t, out)
		for _, r := range got {
			id := int(r[0].Int)
			if r[0].Str != "" {
				id, _ = strconv.Atoi(r[0].Str)
			}
			if id == 6 || r[2].Str != want[id] {
				t.Fatalf("%s: row %v, want label %q and no row 6", f, r, want[id])
			}
		}
		_, bad := readTable(t, sum.Errors)
		if len(bad) != 1 || bad[0][0].Int != 6 || !strings.Contains(bad[0][1].Str, `column "features" has 3 values; input "input" takes 4`) {
			t.Fatalf("%s: errors file %v", f, bad)
		}
	}
}
