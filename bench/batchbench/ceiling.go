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

// parquetValuesOnly does the same work as parquetOnly through the API a
// tool whose columns are known only when it runs must use: each column's
// values read as parquet.Values and written through the column writers of
// a schema built at run time, the predictions made up.
func parquetValuesOnly(in, out string) (float64, error) {
	src, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return 0, err
	}
	dst, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer dst.Close()
	start := time.Now()
	pf, err := parquet.OpenFile(src, info.Size())
	if err != nil {
		return 0, err
	}
	w := parquet.NewWriter(dst, parquet.SchemaOf(flowerOut{}), parquet.Compression(&parquet.Snappy))
	cols := w.ColumnWriters()
	inputs := len(pf.Schema().Columns())
	buf := make([]parquet.Value, batchSize)
	out1, out3 := make([]parquet.Value, 0, batchSize), make([]parquet.Value, 0, 3*batchSize)
	var rows int64
	for _, rg := range pf.RowGroups() {
		for c, chunk := range rg.ColumnChunks() {
			r := parquet.NewColumnChunkValueReader(chunk)
			for {
				n, err := r.ReadValues(buf)
				if _, werr := cols[c].WriteRowValues(buf[:n]); werr != nil {
					r.Close()
					return 0, werr
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					r.Close()
					return 0, err
				}
			}
			r.Close()
		}
		for lo := int64(0); lo < rg.NumRows(); lo += batchSize {
			out1, out3 = out1[:0], out3[:0]
			for i := range min(batchSize, rg.NumRows()-lo) {
				out1 = append(out1, parquet.Int64Value(i%3).Level(0, 1, inputs))
				for k, p := range []float32{0.1, 0.2, 0.7} {
					out3 = append(out3, parquet.FloatValue(p).Level(min(k, 1), 2, inputs+1))
				}
			}
			if _, err := cols[inputs].WriteRowValues(out1); err != nil {
				return 0, err
			}
			if _, err := cols[inputs+1].WriteRowValues(out3); err != nil {
				return 0, err
			}
		}
		if err := w.Flush(); err != nil {
			return 0, err
		}
		rows += rg.NumRows()
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}
