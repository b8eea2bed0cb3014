// Command batchbench measures `kiln batch` on large Parquet files through
// the example classifier, in one run on this machine, and prints a markdown
// table: rows/s of the built CLI (a child process, so its peak RSS is its
// own) beside the in-process ONNX Runtime throughput at the same batch
// size (medians of a few runs), and the CLI's peak RSS for two input sizes
// (streaming keeps it flat).
// A last row bounds what any batch scorer can reach here: the Parquet work
// alone, through the library's fastest (typed) reader and writer, plus the
// model, each row costing one core both, over all cores.
//
//	go run ./bench/batchbench
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"syscall"
	"time"

	"github.com/kilnml/kiln/pkg/oip"
	"github.com/kilnml/kiln/pkg/runtime"
	"github.com/kilnml/kiln/pkg/table"
)

const (
	irisModel = "examples/iris/model.onnx"
	batchSize = 1024
	// rssGoal is the most memory a job may use, whatever the input size.
	rssGoalMiB = 500
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "batchbench:", err)
		os.Exit(1)
	}
}

func run() error {
	dir, err := os.MkdirTemp("", "batchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "kiln")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/kiln").CombinedOutput(); err != nil {
		return fmt.Errorf("build kiln (run from the repository root): %v\n%s", err, out)
	}
	lib := runtime.FindLibrary("")
	if _, err := os.Stat("lib/" + runtime.LibraryName); err == nil && os.Getenv("KILN_ORT_LIB") == "" {
		lib, _ = filepath.Abs("lib/" + runtime.LibraryName)
	}
	if err := runtime.Init(lib); err != nil {
		return err
	}
	inProcess, err := median(5, func() (float64, error) { return runtimeThroughput(1_000_000) })
	if err != nil {
		return err
	}
	fmt.Println("| measurement | kiln batch rows/s | in-process rows/s | ratio | goal |")
	fmt.Println("|---|---|---|---|---|")
	var rss []float64
	var in string
	for _, rows := range []int{250_000, 1_000_000} {
		in = filepath.Join(dir, fmt.Sprintf("in-%d.parquet", rows))
		if err := writeInput(in, rows); err != nil {
			return err
		}
		out := filepath.Join(dir, fmt.Sprintf("out-%d.parquet", rows))
		var peak float64
		rate, err := median(3, func() (float64, error) {
			rate, rss, err := runCLI(bin, lib, in, out, rows)
			peak = max(peak, rss)
			return rate, err
		})
		if err != nil {
			return err
		}
		rss = append(rss, peak)
		fmt.Printf("| %d-row Parquet -> Parquet, batch %d, 2 workers | %.0f | %.0f | %.2f | >= 0.70 |\n", rows, batchSize, rate, inProcess, rate/inProcess)
	}
	fmt.Printf("| peak RSS of kiln batch, MiB (250k rows / 1M rows) | %.0f / %.0f | | | < %d |\n", rss[0], rss[1], rssGoalMiB)
	typed, err := median(3, func() (float64, error) { return parquetOnly(in, filepath.Join(dir, "typed.parquet")) })
	if err != nil {
		return err
	}
	values, err := median(3, func() (float64, error) { return parquetValuesOnly(in, filepath.Join(dir, "values.parquet")) })
	if err != nil {
		return err
	}
	cores := goruntime.NumCPU()
	for _, c := range []struct {
		how  string
		rate float64
	}{{"typed Go structs (columns known when compiled)", typed}, {"parquet.Values (columns known when it runs, as for kiln batch)", values}} {
		top := ceiling(cores, c.rate, inProcess)
		fmt.Printf("| Parquet work alone, one core, no model: 1M rows read and written as %s | %.0f | | | |\n", c.how, c.rate)
		fmt.Printf("| ceiling on %d cores with that Parquet work: %d / (1/Parquet alone + 1/in-process) | %.0f | %.0f | %.2f | |\n", cores, cores, top, inProcess, top/inProcess)
	}
	return nil
}

// median runs measure rounds times and returns the median.
func median(rounds int, measure func() (float64, error)) (float64, error) {
	var xs []float64
	for range rounds {
		x, err := measure()
		if err != nil {
			return 0, err
		}
		xs = append(xs, x)
	}
	slices.Sort(xs)
	return xs[len(xs)/2], nil
}

// writeInput writes rows iris-like flowers with the model's feature names.
func writeInput(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fields := []table.Field{
		{Name: "id", Kind: table.KindInt},
		{Name: "sepal_length", Kind: table.KindFloat64}, {Name: "sepal_width", Kind: table.KindFloat64},
		{Name: "petal_length", Kind: table.KindFloat64}, {Name: "petal_width", Kind: table.KindFloat64},
	}
	w, err := table.NewRowWriter(table.Parquet, f, fields)
	if err != nil {
		return err
	}
	chunk := make([]table.Row, 0, 8192)
	for i := range rows {
		x := float64(i%97) / 97
		chunk = append(chunk, table.Row{table.Int(int64(i)), table.Float64(4.3 + 3.6*x), table.Float64(2 + 2.4*(1-x)), table.Float64(1 + 5.9*x), table.Float64(0.1 + 2.4*x)})
		if len(chunk) == cap(chunk) || i == rows-1 {
			if err := w.Write(chunk); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
	}
	return w.Close()
}

// runtimeThroughput runs the model over rows rows in batches, in this
// process, with tensors built beforehand: the ceiling for batch scoring.
func runtimeThroughput(rows int) (float64, error) {
	m, err := runtime.Load(irisModel, runtime.Options{})
	if err != nil {
		return 0, err
	}
	defer m.Close()
	x := make([]float32, batchSize*4)
	for i := range x {
		x[i] = float32(i%11) / 2
	}
	in := []*oip.Tensor{oip.NewTensor("input", []int64{batchSize, 4}, x)}
	start := time.Now()
	for done := 0; done < rows; done += batchSize {
		if _, err := m.Run(context.Background(), in, nil); err != nil {
			return 0, err
		}
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

// runCLI runs kiln batch as a child process and returns its rows/s and
// peak resident memory in MiB.
func runCLI(bin, lib, in, out string, rows int) (rate, peakMiB float64, err error) {
	cmd := exec.Command(bin, "batch", "--model", irisModel, "--input", in, "--output", out, "--batch-size", fmt.Sprint(batchSize), "--workers", "2", "--overwrite")
	cmd.Env = append(os.Environ(), "KILN_ORT_LIB="+lib)
	start := time.Now()
	if outText, err := cmd.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("kiln batch: %v\n%s", err, outText)
	}
	elapsed := time.Since(start)
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no resource usage for the child")
	}
	return float64(rows) / elapsed.Seconds(), float64(usage.Maxrss) / 1024, nil
}
