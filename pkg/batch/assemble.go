package batch

import (
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
		var header []byte
		if header, err = csvHeader(fields); err == nil {
			err = concat(ctx, st, dir, partNames(parts), int64(len(header)), out)
		}
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

// joinParquet splices the row groups of every part into one Parquet file.
func joinParquet(ctx context.Context, st *Storage, dir Location, parts []part, out io.Writer) error {
	var s *parquetSplicer
	for _, p := range parts {
		f, size, err := st.OpenAt(ctx, dir.Join(p.Name))
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
			return fmt.Errorf("%s: %w", p.Name, err)
		}
	}
	if s == nil {
		return errors.New("no part to assemble")
	}
	return s.close()
}
