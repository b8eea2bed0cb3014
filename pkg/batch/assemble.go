package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// assemble joins the parts in dir into one file at dst, written atomically.
func assemble(ctx context.Context, st *Storage, format Format, dir Location, parts []part, fields []Field, dst Location) error {
	out, err := st.Create(ctx, dst)
	if err != nil {
		return err
	}
	switch format {
	case Parquet:
		err = joinParquet(ctx, st, dir, parts, out)
	case CSV:
		var header bytes.Buffer
		if w, herr := newCSVWriter(&header, fields); herr == nil {
			w.Close()
		}
		err = concat(ctx, st, dir, partNames(parts), int64(header.Len()), out)
	default:
		err = concat(ctx, st, dir, partNames(parts), 0, out)
	}
	if err != nil {
		out.Abort()
		return fmt.Errorf("assemble %s: %w", dst, err)
	}
	return out.Commit()
}

func partNames(parts []part) []string {
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Name
	}
	return names
}

// concat copies the files one after the other, leaving out the first
// skip bytes (a repeated header) of every file but the first.
func concat(ctx context.Context, st *Storage, dir Location, names []string, skip int64, out io.Writer) error {
	for i, name := range names {
		f, err := st.Open(ctx, dir.Join(name))
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
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// joinParquet copies the rows of every part into one Parquet file,
// flushing a row group every rowGroupValues values.
func joinParquet(ctx context.Context, st *Storage, dir Location, parts []part, out io.Writer) error {
	var w *parquet.Writer
	buf := make([]parquet.Row, 1024)
	buffered := 0
	for _, p := range parts {
		f, size, err := st.OpenAt(ctx, dir.Join(p.Name))
		if err != nil {
			return err
		}
		pf, err := parquet.OpenFile(f, size, parquet.SkipBloomFilters(true))
		if err != nil {
			f.Close()
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		if w == nil {
			w = parquet.NewWriter(out, pf.Schema(), parquet.Compression(&parquet.Snappy))
		} else if !parquet.EqualNodes(w.Schema(), pf.Schema()) {
			f.Close()
			return fmt.Errorf("%s has schema %s, unlike the first part's %s (a column's type changed along the input; use CSV or JSONL output)", p.Name, pf.Schema(), w.Schema())
		}
		r := parquet.NewReader(pf)
		for {
			n, err := r.ReadRows(buf)
			if n > 0 {
				if _, werr := w.WriteRows(buf[:n]); werr != nil {
					f.Close()
					return werr
				}
				for _, row := range buf[:n] {
					buffered += len(row)
				}
				if buffered >= rowGroupValues {
					buffered = 0
					if err := w.Flush(); err != nil {
						f.Close()
						return err
					}
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", p.Name, err)
			}
		}
		r.Close()
		f.Close()
	}
	return w.Close()
}
