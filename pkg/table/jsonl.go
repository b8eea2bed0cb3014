package table

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// maxJSONLine is the longest JSONL line read.
const maxJSONLine = 64 << 20

// jsonlReader reads one JSON object per line. The columns are the keys of
// the first object, in its order; a later object may leave keys out (null)
// but not add new ones.
type jsonlReader struct {
	s      *bufio.Scanner
	count  *countingReader
	size   int64
	fields []Field
	index  map[string]int
	first  []byte
	parser fastjson.Parser
}

func newJSONLReader(r io.Reader, size int64) (*jsonlReader, error) {
	count := &countingReader{r: r}
	s := bufio.NewScanner(count)
	s.Buffer(make([]byte, 64<<10), maxJSONLine)
	j := &jsonlReader{s: s, count: count, size: size, index: map[string]int{}}
	line, err := j.nextLine()
	if errors.Is(err, io.EOF) {
		return j, nil
	}
	if err != nil {
		return nil, err
	}
	err = j.parseObject(line, func(key []byte, v Value) error {
		k := string(key)
		if _, dup := j.index[k]; dup {
			return fmt.Errorf("key %q appears twice", k)
		}
		j.index[k] = len(j.fields)
		f := Field{Name: k, Kind: v.Kind}
		if f.Kind == KindList && len(v.List) > 0 {
			f.Elem = v.List[0].Kind
		}
		j.fields = append(j.fields, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("JSONL line 1: %w", err)
	}
	j.first = line
	return j, nil
}

// nextLine returns the next non-blank line (a copy when it is the first).
func (j *jsonlReader) nextLine() ([]byte, error) {
	for j.s.Scan() {
		line := bytes.TrimSpace(j.s.Bytes())
		if len(line) > 0 {
			return line, nil
		}
	}
	if err := j.s.Err(); err != nil {
		return nil, fmt.Errorf("read JSONL: %w", err)
	}
	return nil, io.EOF
}

func (j *jsonlReader) Fields() []Field { return j.fields }

// ReadTable reads up to n lines into columns of Values; a line that does
// not parse keeps the values read before the fault, with its error.
func (j *jsonlReader) ReadTable(n int) (*Table, error) {
	size := min(n, 4096)
	t := &Table{cols: make([]*Column, len(j.fields)), errs: make([]error, 0, size)}
	for i := range t.cols {
		t.cols[i] = ValueColumn(make([]Value, 0, size))
	}
	for ; t.n < n; t.n++ {
		line := j.first
		j.first = nil
		if line == nil {
			var err error
			if line, err = j.nextLine(); err != nil {
				return t.settle(nil), err
			}
		}
		for _, col := range t.cols {
			col.cells = append(col.cells, Value{})
		}
		err := j.parseObject(line, func(key []byte, v Value) error {
			idx, ok := j.index[string(key)]
			if !ok {
				return fmt.Errorf("key %q is not among the first line's keys (%s)", key, strings.Join(FieldNames(j.fields), ", "))
			}
			t.cols[idx].cells[t.n] = v
			return nil
		})
		t.errs = append(t.errs, err)
	}
	return t.settle(nil), nil
}

func (j *jsonlReader) Skip(n int64) (int64, error) {
	var done int64
	for ; done < n; done++ {
		if j.first != nil {
			j.first = nil
			continue
		}
		if _, err := j.nextLine(); errors.Is(err, io.EOF) {
			return done, nil
		} else if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (j *jsonlReader) Fraction() float64 { return fraction(j.count.n, j.size) }

func (j *jsonlReader) Close() error { return nil }

// parseJSONObject parses one JSON object, keeping its keys in order.
// parseObject parses a line holding one JSON object and calls fn with
// each key and value, in order, until fn fails.
func (j *jsonlReader) parseObject(line []byte, fn func(key []byte, v Value) error) error {
	doc, err := j.parser.ParseBytes(line)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	obj, err := doc.Object()
	if err != nil {
		return errors.New("not a JSON object")
	}
	obj.Visit(func(key []byte, item *fastjson.Value) {
		if err != nil {
			return
		}
		var v Value
		if v, err = jsonValue(item); err == nil {
			err = fn(key, v)
		}
	})
	return err
}

// jsonValue converts one JSON value; nested objects stay JSON text.
func jsonValue(item *fastjson.Value) (Value, error) {
	switch item.Type() {
	case fastjson.TypeNull:
		return Null(), nil
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return Bool(item.Type() == fastjson.TypeTrue), nil
	case fastjson.TypeString:
		b, _ := item.StringBytes()
		return String(string(b)), nil
	case fastjson.TypeObject:
		return String(string(item.MarshalTo(nil))), nil
	case fastjson.TypeArray:
		items, _ := item.Array()
		list := make([]Value, len(items))
		for i, it := range items {
			v, err := jsonValue(it)
			if err != nil {
				return Value{}, err
			}
			list[i] = v
		}
		return List(list), nil
	}
	var buf [32]byte
	raw := item.MarshalTo(buf[:0])
	if !bytes.ContainsAny(raw, ".eE") {
		if i, err := item.Int64(); err == nil {
			return Int(i), nil
		}
	}
	f, err := item.Float64()
	if err == nil && math.IsInf(f, 0) {
		err = strconv.ErrRange // fastjson reads 1e999 as an infinity
	}
	if err != nil {
		return Value{}, fmt.Errorf("number %s: %w", raw, err)
	}
	return Float64(f), nil
}

// jsonlWriter writes one JSON object per row, keys in field order.
type jsonlWriter struct {
	w    *bufio.Writer
	keys [][]byte
	buf  []byte
}

func newJSONLWriter(w io.Writer, fields []Field) *jsonlWriter {
	keys := make([][]byte, len(fields))
	for i, f := range fields {
		k, _ := json.Marshal(f.Name)
		keys[i] = append(k, ':')
	}
	return &jsonlWriter{w: bufio.NewWriterSize(w, 256<<10), keys: keys}
}

func (j *jsonlWriter) Write(rows []Row) error {
	return j.writeColumns(len(rows), rowViews(rows, len(j.keys)))
}

func (j *jsonlWriter) writeColumns(n int, cols []View) error {
	for r := range n {
		b := append(j.buf[:0], '{')
		for i, k := range j.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, k...)
			b = cols[i].appendJSON(b, r)
		}
		b = append(b, '}', '\n')
		j.buf = b
		if _, err := j.w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

func (j *jsonlWriter) Close() error { return j.w.Flush() }
