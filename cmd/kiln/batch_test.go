package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kilnml/kiln/internal/testenv"
	"github.com/kilnml/kiln/pkg/batch"
	"github.com/kilnml/kiln/pkg/table"
)

// irisExample returns a path under examples/iris.
func irisExample(t *testing.T, name string) string {
	return filepath.Join(testenv.RepoRoot(t), "examples", "iris", name)
}

// readRows reads a local table with pkg/table's readers.
func readRows(t *testing.T, path string) ([]table.Field, []table.Row) {
	t.Helper()
	var fields []table.Field
	var rows []table.Row
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	format, err := table.DetectFormat(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := table.NewRowReader(format, f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	fields = r.Fields()
	for {
		var errs []error
		var rerr error
		rows, errs, rerr = r.Read(rows, errs, 4096)
		for _, e := range errs {
			if e != nil {
				t.Fatalf("%s: %v", path, e)
			}
		}
		if rerr != nil {
			break
		}
	}
	return fields, rows
}

func TestBatchScoresIrisAndPrintsSummary(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	out := filepath.Join(t.TempDir(), "scored.jsonl")
	code, stdout, stderr := kiln(t, "http://127.0.0.1:1", "batch", "--json", "--model", irisExample(t, "model.onnx"),
		"--input", irisExample(t, "iris.parquet"), "--output", out, "--keep", "species", "--batch-size", "16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var sum batch.Summary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Rows != 150 || sum.Failed != 0 {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	fields, rows := readRows(t, out)
	if len(fields) != 3 || fields[0].Name != "species" || len(rows) != 150 {
		t.Fatalf("fields %v, %d rows", fields, len(rows))
	}
	right := 0
	for _, r := range rows {
		if r[0].Str == r[1].Str {
			right++
		}
	}
	if right < 140 {
		t.Errorf("only %d of 150 labels match the species", right)
	}
}

func TestBatchUsageErrorsExitTwo(t *testing.T) {
	model := irisExample(t, "model.onnx")
	for _, args := range [][]string{
		{"batch", "--model", model, "--input", "in.csv"},
		{"batch", "--model", model, "--input", "in.csv", "--output", "o.csv", "--shard", "4/4"},
		{"batch", "--model", model, "--input", "in.csv", "--output", "o.csv", "--on-error", "ignore"},
		{"batch", "--model", model, "--input", "in.csv", "--output", "o.csv", "--input-format", "xls"},
		{"evaluate", "--model", model, "--data", "d.csv"},
		{"evaluate", "--model", model, "--data", "d.csv", "--label", "y", "--task", "ranking"},
	} {
		code, _, stderr := kiln(t, "http://127.0.0.1:1", args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
}

// buildKiln compiles the CLI into a temporary folder.
func buildKiln(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kiln")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBatchResumesAfterSIGKILL kills a running job once its checkpoint
// shows progress, runs the same command again, and checks that the output
// holds every input row exactly once, in order.
func TestBatchResumesAfterSIGKILL(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	bin := buildKiln(t)
	dir := t.TempDir()
	model := testenv.WriteModel(t, testenv.SlowModel(t, 6))
	const n = 1500
	fields := []table.Field{{Name: "id", Kind: table.KindInt}, {Name: "x", Kind: table.KindList, Elem: table.KindFloat32}}
	rows := make([]table.Row, n)
	for i := range rows {
		x := make([]table.Value, 1024)
		for j := range x {
			x[j] = table.Float32(float32((i+j)%13) / 13)
		}
		rows[i] = table.Row{table.Int(int64(i)), table.List(x)}
	}
	in := filepath.Join(dir, "in.parquet")
	f, _ := os.Create(in)
	w, _ := table.NewRowWriter(table.Parquet, f, fields)
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	out := filepath.Join(dir, "out.csv")
	args := []string{"batch", "--model", model, "--input", in, "--output", out, "--keep", "id", "--batch-size", "25", "--checkpoint-rows", "100", "--workers", "1"}

	first := exec.Command(bin, args...)
	first.Env = append(os.Environ(), "KILN_ORT_LIB="+lib)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	checkpoint := filepath.Join(out+".kiln-batch", "checkpoint.json")
	deadline := time.Now().Add(2 * time.Minute)
	var next int64
	for next < 300 {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatal("no checkpoint progress within 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
		var cp struct {
			NextRow int64 `json:"next_row"`
			Done    bool  `json:"done"`
		}
		if data, err := os.ReadFile(checkpoint); err == nil && json.Unmarshal(data, &cp) == nil {
			next = cp.NextRow
			if cp.Done {
				t.Fatal("the job finished before it could be killed; make it slower")
			}
		}
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	if _, err := os.Stat(out); err == nil {
		t.Fatal("output exists after the kill")
	}

	var stdout bytes.Buffer
	second := exec.Command(bin, args...)
	second.Env = first.Env
	second.Stdout, second.Stderr = &stdout, &stdout
	if err := second.Run(); err != nil {
		t.Fatalf("second run: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "resumed after") {
		t.Errorf("second run did not resume: %s", stdout.String())
	}
	_, got := readRows(t, out)
	if len(got) != n {
		t.Fatalf("output has %d rows, want %d", len(got), n)
	}
	for i, r := range got {
		if r[0].Str != strconv.Itoa(i) {
			t.Fatalf("output row %d has id %s", i, r[0].Str)
		}
		if strings.Count(r[1].Str, ",") != 1023 {
			t.Fatalf("output row %d: y has %d values", i, strings.Count(r[1].Str, ",")+1)
		}
	}
}

func TestBatchReadsAndWritesS3(t *testing.T) {
	t.Setenv("KILN_ORT_LIB", testenv.ORTLibrary(t))
	s3 := testenv.NewS3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", s3.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	t.Setenv("AWS_REGION", s3.Region)
	client, err := s3.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"a.parquet", "b.parquet"} {
		if _, err := client.FPutObject(ctx, s3.Bucket, "in/"+name, irisExample(t, "iris.parquet"), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := kiln(t, "http://127.0.0.1:1", "batch", "--s3-endpoint", s3.Endpoint, "--model", irisExample(t, "model.onnx"),
		"--input", "s3://"+s3.Bucket+"/in/", "--output", "s3://"+s3.Bucket+"/out/scored.csv", "--checkpoint-rows", "64", "--batch-size", "32")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "300 rows") {
		t.Errorf("summary: %s", stdout)
	}
	local := filepath.Join(t.TempDir(), "scored.csv")
	if err := client.FGetObject(ctx, s3.Bucket, "out/scored.csv", local, minio.GetObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	fields, rows := readRows(t, local)
	if len(rows) != 300 || fields[5].Name != "label" || rows[0][5].Str != "setosa" || rows[299][5].Str != "virginica" {
		t.Fatalf("%d rows, fields %v, first %v", len(rows), fields, rows[0])
	}
	for obj := range client.ListObjects(ctx, s3.Bucket, minio.ListObjectsOptions{Prefix: "out/", Recursive: true}) {
		if obj.Key != "out/scored.csv" {
			t.Errorf("left behind in S3: %s", obj.Key)
		}
	}
}
