package main

import (
	"errors"
	"io"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
)

// flowerIn and flowerOut are the input and output rows of the benchmark
// as Go structs, for parquet-go's typed reader and writer: the fastest way
// the library offers to read and write these files, which a generic tool
// (whose columns are known only when it runs) cannot use.
type flowerIn struct {
	ID          int64   `parquet:"id,optional"`
	SepalLength float64 `parquet:"sepal_length,optional"`
	SepalWidth  float64 `parquet:"sepal_width,optional"`
	PetalLength float64 `parquet:"petal_length,optional"`
	PetalWidth  float64 `parquet:"petal_width,optional"`
}

type flowerOut struct {
	flowerIn
	Label         int64     `parquet:"label,optional"`
	Probabilities []float32 `parquet:"probabilities,optional,list"`
}

// parquetOnly reads the input file and writes the same output columns as
// kiln batch (with made-up predictions) on one goroutine, through the
// typed reader and writer, and returns rows/s: the cost of the Parquet
// work alone, with no model and no conversion of ours.
func parquetOnly(in, out string) (float64, error) {
	src, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	start := time.Now()
	r := parquet.NewGenericReader[flowerIn](src)
	defer r.Close()
	w := parquet.NewGenericWriter[flowerOut](dst, parquet.Compression(&parquet.Snappy))
	probabilities := []float32{0.1, 0.2, 0.7}
	ins := make([]flowerIn, batchSize)
	outs := make([]flowerOut, batchSize)
	rows := 0
	for {
		n, err := r.Read(ins)
		for i := range n {
			outs[i] = flowerOut{flowerIn: ins[i], Label: int64(i % 3), Probabilities: probabilities}
		}
		if _, werr := w.Write(outs[:n]); werr != nil {
			return 0, werr
		}
		rows += n
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

// ceiling is the most rows/s any batch scorer could reach on cores cores
// if each row costs one core the Parquet work alone (parquetRate rows/s)
// plus the model alone (modelRate rows/s), both scaling perfectly.
func ceiling(cores int, parquetRate, modelRate float64) float64 {
	return float64(cores) / (1/parquetRate + 1/modelRate)
}
