package table

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// parquetSplicer writes one Parquet file made of the row groups of other
// Parquet files of the same schema. Column chunks are copied byte for byte
// and only the footer and page index are rewritten, so joining files costs
// no decoding or encoding.
type parquetSplicer struct {
	w      io.Writer
	off    int64
	schema *parquet.Schema
	meta   format.FileMetaData
	// colIdx and offIdx hold the page index of every column chunk, row
	// group major; noIndex is set once a file without one was appended.
	colIdx  []format.ColumnIndex
	offIdx  []format.OffsetIndex
	noIndex bool
	copyBuf []byte
}

// spliceCopyBuffer is the size of the reads that copy column chunks (each
// one a ranged GET on S3).
const spliceCopyBuffer = 4 << 20

// newParquetSplicer writes the file header; the output takes its schema and
// file metadata from base, whose row groups it does not copy.
func newParquetSplicer(w io.Writer, base *parquet.File) (*parquetSplicer, error) {
	s := &parquetSplicer{w: w, schema: base.Schema(), meta: *base.Metadata()}
	s.meta.RowGroups = nil
	s.meta.NumRows = 0
	return s, s.write([]byte("PAR1"))
}

func (s *parquetSplicer) write(b []byte) error {
	n, err := s.w.Write(b)
	s.off += int64(n)
	return err
}

// appendFile copies every row group of f, which must have the splicer's schema.
func (s *parquetSplicer) appendFile(f *parquet.File) error {
	if !parquet.EqualNodes(s.schema, f.Schema()) {
		return fmt.Errorf("schema %s differs from the first one, %s (a column's type changed along the input; use CSV or JSONL output)", f.Schema(), s.schema)
	}
	colIdx, offIdx := f.ColumnIndexes(), f.OffsetIndexes()
	for i, rg := range f.Metadata().RowGroups {
		delta, err := s.appendRowGroup(f, rg)
		if err != nil {
			return err
		}
		n := len(rg.Columns)
		if len(colIdx) < (i+1)*n || len(offIdx) < (i+1)*n {
			// One row group without a page index leaves the output without one.
			s.colIdx, s.offIdx, s.noIndex = nil, nil, true
		}
		if s.noIndex {
			continue
		}
		s.colIdx = append(s.colIdx, colIdx[i*n:(i+1)*n]...)
		for _, oi := range offIdx[i*n : (i+1)*n] {
			locs := make([]format.PageLocation, len(oi.PageLocations))
			for k, l := range oi.PageLocations {
				l.Offset += delta
				locs[k] = l
			}
			s.offIdx = append(s.offIdx, format.OffsetIndex{PageLocations: locs, UnencodedByteArrayDataBytes: oi.UnencodedByteArrayDataBytes})
		}
	}
	return nil
}

// appendRowGroup copies the column chunks of one row group and records it
// with its offsets moved to where they now lie; it returns how far they moved.
func (s *parquetSplicer) appendRowGroup(f *parquet.File, rg format.RowGroup) (int64, error) {
	start, end := int64(-1), int64(0)
	for _, c := range rg.Columns {
		first := chunkStart(c.MetaData)
		if start < 0 || first < start {
			start = first
		}
		end = max(end, first+c.MetaData.TotalCompressedSize)
	}
	delta := s.off - max(start, 0)
	if start >= 0 {
		if n := min(end-start, spliceCopyBuffer); int64(len(s.copyBuf)) < n {
			s.copyBuf = make([]byte, n)
		}
		n, err := io.CopyBuffer(struct{ io.Writer }{s.w}, io.NewSectionReader(f, start, end-start), s.copyBuf)
		s.off += n
		if err != nil {
			return 0, fmt.Errorf("copy row group: %w", err)
		}
	}
	cols := make([]format.ColumnChunk, len(rg.Columns))
	for i, c := range rg.Columns {
		c.FileOffset = shift(c.FileOffset, delta)
		c.MetaData.DataPageOffset += delta
		c.MetaData.DictionaryPageOffset = shift(c.MetaData.DictionaryPageOffset, delta)
		c.MetaData.IndexPageOffset = shift(c.MetaData.IndexPageOffset, delta)
		c.MetaData.BloomFilterOffset, c.MetaData.BloomFilterLength = 0, 0
		c.ColumnIndexOffset, c.ColumnIndexLength, c.OffsetIndexOffset, c.OffsetIndexLength = 0, 0, 0, 0
		cols[i] = c
	}
	rg.Columns = cols
	rg.FileOffset = max(start, 0) + delta
	rg.Ordinal = int16(len(s.meta.RowGroups))
	s.meta.RowGroups = append(s.meta.RowGroups, rg)
	s.meta.NumRows += rg.NumRows
	return delta, nil
}

// chunkStart is the offset of a column chunk's first page.
func chunkStart(m format.ColumnMetaData) int64 {
	if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < m.DataPageOffset {
		return m.DictionaryPageOffset
	}
	return m.DataPageOffset
}

// shift moves an optional offset (0 when absent).
func shift(off, delta int64) int64 {
	if off == 0 {
		return 0
	}
	return off + delta
}

// close writes the page index and the footer.
func (s *parquetSplicer) close() error {
	if !s.noIndex && len(s.colIdx) > 0 {
		err := s.writeIndex(func(k int) any { return &s.colIdx[k] }, func(c *format.ColumnChunk, off int64, n int32) {
			c.ColumnIndexOffset, c.ColumnIndexLength = off, n
		})
		if err != nil {
			return err
		}
		err = s.writeIndex(func(k int) any { return &s.offIdx[k] }, func(c *format.ColumnChunk, off int64, n int32) {
			c.OffsetIndexOffset, c.OffsetIndexLength = off, n
		})
		if err != nil {
			return err
		}
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &s.meta)
	if err != nil {
		return err
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	return s.write(append(footer, "PAR1"...))
}

// writeIndex writes one index structure per column chunk, in row group
// order, and records where each lies with set.
func (s *parquetSplicer) writeIndex(index func(k int) any, set func(c *format.ColumnChunk, off int64, n int32)) error {
	k := 0
	for r := range s.meta.RowGroups {
		cols := s.meta.RowGroups[r].Columns
		for c := range cols {
			b, err := thrift.Marshal(new(thrift.CompactProtocol), index(k))
			if err != nil {
				return err
			}
			set(&cols[c], s.off, int32(len(b)))
			if err := s.write(b); err != nil {
				return err
			}
			k++
		}
	}
	return nil
}
