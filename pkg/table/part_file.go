package table

import (
	"bytes"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// PartFile is one file written as consecutive pieces made by an Encoder of
// its format, appended in order.
type PartFile interface {
	// Append adds a piece's rows after those already written.
	Append(piece []byte) error
	// Close ends the file; it does not close the underlying writer.
	Close() error
}

// NewPartFile starts a file of format f with the given (settled) fields.
func NewPartFile(f Format, w io.Writer, fields []Field) (PartFile, error) {
	switch f {
	case CSV:
		header, err := csvHeader(fields)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(header); err != nil {
			return nil, err
		}
		return textPart{w}, nil
	case JSONL:
		return textPart{w}, nil
	case Parquet:
		return newParquetPart(w, fields)
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// textPart appends CSV or JSONL lines as they are.
type textPart struct{ w io.Writer }

func (t textPart) Append(piece []byte) error {
	_, err := t.w.Write(piece)
	return err
}

func (t textPart) Close() error { return nil }

// parquetPart splices the row groups of Parquet pieces into one file.
type parquetPart struct{ s *parquetSplicer }

// newParquetPart takes the file's schema and metadata from an empty file
// encoded with fields, so that a part without rows is a valid file too.
func newParquetPart(w io.Writer, fields []Field) (*parquetPart, error) {
	empty, err := NewEncoder(Parquet, fields).Encode(0, nil)
	if err != nil {
		return nil, err
	}
	base, err := openParquetPiece(empty)
	if err != nil {
		return nil, err
	}
	s, err := newParquetSplicer(w, base)
	if err != nil {
		return nil, err
	}
	return &parquetPart{s: s}, nil
}

func openParquetPiece(piece []byte) (*parquet.File, error) {
	return parquet.OpenFile(bytes.NewReader(piece), int64(len(piece)), parquet.SkipBloomFilters(true))
}

func (p *parquetPart) Append(piece []byte) error {
	f, err := openParquetPiece(piece)
	if err != nil {
		return err
	}
	return p.s.appendFile(f)
}

func (p *parquetPart) Close() error { return p.s.close() }
