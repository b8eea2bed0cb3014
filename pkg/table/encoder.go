package table

import "bytes"

// Encoder encodes runs of rows into pieces that a PartFile of its format
// appends, reusing its buffer from one piece to the next. An Encoder is not
// safe for concurrent use.
type Encoder struct {
	buf bytes.Buffer
	w   columnsWriter
}

// NewEncoder encodes rows of fields, whose kinds must be settled (see
// SettleKind), in format f.
func NewEncoder(f Format, fields []Field) *Encoder {
	e := &Encoder{}
	switch f {
	case CSV:
		e.w = newCSVRecords(&e.buf, fields)
	case JSONL:
		e.w = newJSONLWriter(&e.buf, fields)
	default:
		e.w = newParquetWriter(&e.buf, fields)
	}
	return e
}

// Encode returns n rows of cols, one view per field, encoded as a piece that
// a part file of the encoder's format appends: CSV lines without the
// header, JSONL lines, or a whole Parquet file whose row groups the part
// splices in.
func (e *Encoder) Encode(n int, cols []View) ([]byte, error) {
	e.buf.Reset()
	if pq, ok := e.w.(*parquetWriter); ok {
		defer pq.reset()
	}
	if err := e.w.writeColumns(n, cols); err != nil {
		return nil, err
	}
	if err := e.w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(e.buf.Bytes()), nil
}
