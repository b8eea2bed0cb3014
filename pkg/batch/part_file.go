package batch

import (
	"bytes"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
)

// partFile writes one part of the output from pieces made by pieceEncoder,
// appended in input order.
type partFile interface {
	append(piece []byte) error
	// close ends the file; it does not close the underlying writer.
	close() error
}

// newPartFile starts a part file of format f with the given (settled) fields.
func newPartFile(f Format, w io.Writer, fields []Field) (partFile, error) {
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

func (t textPart) append(piece []byte) error {
	_, err := t.w.Write(piece)
	return err
}

func (t textPart) close() error { return nil }

// parquetPart splices the row groups of Parquet pieces into one file.
type parquetPart struct{ s *parquetSplicer }

// newParquetPart takes the file's schema and metadata from an empty file
// encoded with fields, so that a part without rows is a valid file too.
func newParquetPart(w io.Writer, fields []Field) (*parquetPart, error) {
	empty, err := newPieceEncoder(Parquet, fields).encode(0, nil)
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

func (p *parquetPart) append(piece []byte) error {
	f, err := openParquetPiece(piece)
	if err != nil {
		return err
	}
	return p.s.appendFile(f)
}

func (p *parquetPart) close() error { return p.s.close() }
