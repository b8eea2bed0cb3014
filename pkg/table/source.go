package table

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Source reads the rows of several files of one format as one table.
type Source struct {
	ctx    context.Context
	st     *Storage
	format Format
	files  []FileInfo
	total  int64 // bytes in all files
	done   int64 // bytes in files already read
	idx    int
	file   ReadAtCloser
	cur    Reader
	fields []Field
}

// Open opens the table at input: one file, or the files of a folder or
// prefix, read as one table. An empty format is detected from the first
// file's name.
func Open(ctx context.Context, st *Storage, input string, format Format) (*Source, error) {
	loc, err := ParseLocation(input)
	if err != nil {
		return nil, err
	}
	var exts []string
	if format != "" {
		exts = formatExts[format]
	} else {
		for _, f := range []Format{CSV, JSONL, Parquet} {
			exts = append(exts, formatExts[f]...)
		}
	}
	files, err := st.List(ctx, loc, exts)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	if format == "" {
		if format, err = DetectFormat(files[0].Loc.Key); err != nil {
			return nil, err
		}
		kept := files[:0]
		for _, f := range files {
			if hasExt(f.Loc.Key, formatExts[format]) {
				kept = append(kept, f)
			}
		}
		files = kept
	}
	return openSource(ctx, st, format, files)
}

// openSource opens the first file; the others are opened in turn and must
// have the same columns.
func openSource(ctx context.Context, st *Storage, format Format, files []FileInfo) (*Source, error) {
	s := &Source{ctx: ctx, st: st, format: format, files: files}
	for _, f := range files {
		s.total += f.Size
	}
	if err := s.open(0); err != nil {
		return nil, err
	}
	s.fields = s.cur.Fields()
	return s, nil
}

func (s *Source) open(i int) error {
	f, size, err := s.st.OpenAt(s.ctx, s.files[i].Loc)
	if err != nil {
		return err
	}
	r, err := NewReader(s.format, f, size)
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", s.files[i].Loc, err)
	}
	if s.fields != nil && !slices.Equal(FieldNames(r.Fields()), FieldNames(s.fields)) {
		f.Close()
		return fmt.Errorf("%s has columns %v; %s has %v: every input file needs the same columns", s.files[i].Loc, FieldNames(r.Fields()), s.files[0].Loc, FieldNames(s.fields))
	}
	s.idx, s.file, s.cur = i, f, r
	return nil
}

// next closes the current file and opens the following one; io.EOF after the last.
func (s *Source) next() error {
	s.done += s.files[s.idx].Size
	s.cur.Close()
	s.file.Close()
	s.cur = nil
	if s.idx+1 >= len(s.files) {
		return io.EOF
	}
	return s.open(s.idx + 1)
}

// Files lists the files read, in order.
func (s *Source) Files() []FileInfo { return s.files }

// Format is the files' format.
func (s *Source) Format() Format { return s.format }

// Fields lists the columns of the first file.
func (s *Source) Fields() []Field { return s.fields }

// ReadTable reads up to n rows across files as columns, io.EOF after the
// last row.
func (s *Source) ReadTable(n int) (*Table, error) {
	var parts []*Table
	for s.cur != nil && n > 0 {
		part, err := s.cur.ReadTable(n)
		if part.n > 0 {
			parts = append(parts, part)
		}
		n -= part.n
		switch {
		case errors.Is(err, io.EOF):
			if err := s.next(); err != nil {
				return concatTables(parts), err
			}
		case err != nil:
			return concatTables(parts), fmt.Errorf("%s: %w", s.files[s.idx].Loc, err)
		}
	}
	if s.cur == nil {
		return concatTables(parts), io.EOF
	}
	return concatTables(parts), nil
}

// Skip discards up to n rows across files.
func (s *Source) Skip(n int64) (int64, error) {
	var done int64
	for s.cur != nil && done < n {
		k, err := s.cur.Skip(n - done)
		if err != nil {
			return done, fmt.Errorf("%s: %w", s.files[s.idx].Loc, err)
		}
		done += k
		if done < n {
			if err := s.next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// Fraction is how much of all files has been read.
func (s *Source) Fraction() float64 {
	if s.cur == nil {
		return 1
	}
	cur := float64(s.files[s.idx].Size) * s.cur.Fraction()
	return fraction(s.done+int64(cur), s.total)
}

// Close closes the file being read.
func (s *Source) Close() error {
	if s.cur == nil {
		return nil
	}
	s.cur.Close()
	return s.file.Close()
}
