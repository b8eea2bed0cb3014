package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kilnml/kiln/pkg/table"
)

// RowError is a bad input row: it could not be read, converted or scored.
type RowError struct {
	// Row is the row's number in the input, from 0 (header lines not counted).
	Row int64
	Err error
}

func (e *RowError) Error() string {
	return "input row " + strconv.FormatInt(e.Row, 10) + ": " + e.Err.Error()
}

func (e *RowError) Unwrap() error { return e.Err }

// partWriter writes encoded chunks into part files and commits each part
// with the checkpoint.
type partWriter struct {
	ctx      context.Context
	st       *table.Storage
	dir      table.Location
	format   table.Format
	in       []table.Field // input columns, for the errors file
	enc      *chunkEncoder // its fields are the output columns
	skip     bool          // skip bad rows instead of failing
	partRows int64
	cp       *checkpoint
	cur      *openPart
	// progress is told about every chunk written.
	progress func(rows, failed int64, fraction float64)
}

type openPart struct {
	p    part
	data table.PendingFile
	w    table.PartFile
	errs table.PendingFile
}

func (pw *partWriter) open(first int64) error {
	n := len(pw.cp.Parts)
	p := part{Name: fmt.Sprintf("part-%06d%s", n, pw.format.Ext()), FirstRow: first, EndRow: first}
	data, err := pw.st.Create(pw.ctx, pw.dir.Join(p.Name))
	if err != nil {
		return err
	}
	w, err := table.NewPartFile(pw.format, data, pw.enc.fields)
	if err != nil {
		data.Abort()
		return err
	}
	pw.cur = &openPart{p: p, data: data, w: w}
	return nil
}

// add writes one chunk.
func (pw *partWriter) add(c *chunk) error {
	if pw.cur == nil {
		if err := pw.open(c.first); err != nil {
			return err
		}
	}
	cur := pw.cur
	var failed int64
	for i, e := range c.errs {
		if e == nil {
			continue
		}
		rowErr := &RowError{Row: c.index[i], Err: e}
		if !pw.skip {
			return rowErr
		}
		if err := pw.writeError(rowErr, c.in.Row(i)); err != nil {
			return err
		}
		failed++
	}
	if c.piece != nil {
		if err := cur.w.Append(c.piece); err != nil {
			return fmt.Errorf("write %s: %w", cur.p.Name, err)
		}
	}
	cur.p.EndRow = c.end
	cur.p.Rows += int64(c.in.Len())
	cur.p.Failed += failed
	if pw.progress != nil {
		pw.progress(pw.cp.Rows+cur.p.Rows, pw.cp.Failed+cur.p.Failed, c.fraction)
	}
	if cur.p.EndRow-cur.p.FirstRow >= pw.partRows {
		return pw.commit()
	}
	return nil
}

// writeError adds a bad row to the part's errors file, one JSON object per
// line: {"row": N, "error": "...", "values": {...}}.
func (pw *partWriter) writeError(e *RowError, r table.Row) error {
	cur := pw.cur
	if cur.errs == nil {
		cur.p.Errors = cur.p.Name + ".errors.jsonl"
		f, err := pw.st.Create(pw.ctx, pw.dir.Join(cur.p.Errors))
		if err != nil {
			return err
		}
		cur.errs = f
	}
	b := append([]byte(`{"row":`), strconv.FormatInt(e.Row, 10)...)
	msg, _ := json.Marshal(e.Err.Error())
	b = append(append(b, `,"error":`...), msg...)
	b = append(b, `,"values":{`...)
	for i, v := range r {
		if i > 0 {
			b = append(b, ',')
		}
		name, _ := json.Marshal(pw.in[i].Name)
		b = append(append(b, name...), ':')
		b = v.AppendJSON(b)
	}
	b = append(b, "}}\n"...)
	_, err := cur.errs.Write(b)
	return err
}

// commit closes the current part and records it in the checkpoint.
func (pw *partWriter) commit() error {
	cur := pw.cur
	pw.cur = nil
	if err := cur.w.Close(); err != nil {
		cur.data.Abort()
		if cur.errs != nil {
			cur.errs.Abort()
		}
		return fmt.Errorf("write %s: %w", cur.p.Name, err)
	}
	if cur.errs != nil {
		if err := cur.errs.Commit(); err != nil {
			cur.data.Abort()
			return err
		}
	}
	if err := cur.data.Commit(); err != nil {
		return err
	}
	cp := pw.cp
	cp.Parts = append(cp.Parts, cur.p)
	cp.NextRow = cur.p.EndRow
	cp.Rows += cur.p.Rows
	cp.Failed += cur.p.Failed
	return cp.save(pw.ctx, pw.st, pw.dir)
}

// abort drops the part being written.
func (pw *partWriter) abort() {
	if cur := pw.cur; cur != nil {
		cur.data.Abort()
		if cur.errs != nil {
			cur.errs.Abort()
		}
		pw.cur = nil
	}
}

// finish commits the last part (an empty one when the output has none yet)
// and marks the checkpoint done.
func (pw *partWriter) finish() error {
	if pw.cur == nil && len(pw.cp.Parts) == 0 {
		if err := pw.open(pw.cp.NextRow); err != nil {
			return err
		}
	}
	if pw.cur != nil {
		if err := pw.commit(); err != nil {
			return err
		}
	}
	pw.cp.Done = true
	return pw.cp.save(pw.ctx, pw.st, pw.dir)
}
