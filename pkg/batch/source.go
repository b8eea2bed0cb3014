package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// source reads the rows of several files of one format as one table.
type source struct {
	ctx    context.Context
	st     *Storage
	format Format
	files  []FileInfo
	total  int64 // bytes in all files
	done   int64 // bytes in files already read
	idx    int
	file   ReadAtCloser
	cur    tableReader
	fields []Field
}

// openSource opens the first file; the others are opened in turn and must
// have the same columns.
func openSource(ctx context.Context, st *Storage, format Format, files []FileInfo) (*source, error) {
	s := &source{ctx: ctx, st: st, format: format, files: files}
	for _, f := range files {
		s.total += f.Size
	}
	if err := s.open(0); err != nil {
		return nil, err
	}
	s.fields = s.cur.Fields()
	return s, nil
}

func (s *source) open(i int) error {
	f, size, err := s.st.OpenAt(s.ctx, s.files[i].Loc)
	if err != nil {
		return err
	}
	r, err := newTableReader(s.format, f, size)
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", s.files[i].Loc, err)
	}
	if s.fields != nil && !slices.Equal(fieldNames(r.Fields()), fieldNames(s.fields)) {
		f.Close()
		return fmt.Errorf("%s has columns %v; %s has %v: every input file needs the same columns", s.files[i].Loc, fieldNames(r.Fields()), s.files[0].Loc, fieldNames(s.fields))
	}
	s.idx, s.file, s.cur = i, f, r
	return nil
}

// next closes the current file and opens the following one; io.EOF after the last.
func (s *source) next() error {
	s.done += s.files[s.idx].Size
	s.cur.Close()
	s.file.Close()
	s.cur = nil
	if s.idx+1 >= len(s.files) {
		return io.EOF
	}
	return s.open(s.idx + 1)
}

// Fields lists the columns of the first file.
func (s *source) Fields() []Field { return s.fields }

// ReadTable reads up to n rows across files as columns, io.EOF after the
// last row.
func (s *source) ReadTable(n int) (*table, error) {
	var parts []*table
	for s.cur != nil && n > 0 {
		part, err := s.cur.readTable(n)
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
func (s *source) Skip(n int64) (int64, error) {
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
func (s *source) Fraction() float64 {
	if s.cur == nil {
		return 1
	}
	cur := float64(s.files[s.idx].Size) * s.cur.Fraction()
	return fraction(s.done+int64(cur), s.total)
}

// Close closes the file being read.
func (s *source) Close() error {
	if s.cur == nil {
		return nil
	}
	s.cur.Close()
	return s.file.Close()
}
