package table

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// Join writes the files at locs, which hold rows of fields in format f,
// to out as one file of that format: CSV files after the first lose their
// header line, JSONL files are copied as they are, and the row groups of
// Parquet files are spliced without decoding.
func Join(ctx context.Context, st *Storage, f Format, locs []Location, fields []Field, out io.Writer) error {
	switch f {
	case Parquet:
		return joinParquet(ctx, st, locs, out)
	case CSV:
		header, err := csvHeader(fields)
		if err != nil {
			return err
		}
		return concat(ctx, st, locs, int64(len(header)), out)
	}
	return concat(ctx, st, locs, 0, out)
}

// concat copies the files one after the other, leaving out the first
// skip bytes (a repeated header) of every file but the first.
func concat(ctx context.Context, st *Storage, locs []Location, skip int64, out io.Writer) error {
	for i, loc := range locs {
		f, err := st.Open(ctx, loc)
		if err != nil {
			return err
		}
		if i > 0 && skip > 0 {
			_, err = io.CopyN(io.Discard, f, skip)
		}
		if err == nil {
			_, err = io.Copy(out, f)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", loc.Base(), err)
		}
	}
	return nil
}

// joinParquet splices the row groups of every file into one Parquet file.
func joinParquet(ctx context.Context, st *Storage, locs []Location, out io.Writer) error {
	var s *parquetSplicer
	for _, loc := range locs {
		f, size, err := st.OpenAt(ctx, loc)
		if err != nil {
			return err
		}
		pf, err := parquet.OpenFile(f, size, parquet.SkipBloomFilters(true))
		if err == nil && s == nil {
			s, err = newParquetSplicer(out, pf)
		}
		if err == nil {
			err = s.appendFile(pf)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", loc.Base(), err)
		}
	}
	if s == nil {
		return errors.New("no part to assemble")
	}
	return s.close()
}
