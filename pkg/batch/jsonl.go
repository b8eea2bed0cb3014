package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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
	keys, values, err := parseJSONObject(line)
	if err != nil {
		return nil, fmt.Errorf("JSONL line 1: %w", err)
	}
	for i, k := range keys {
		if _, dup := j.index[k]; dup {
			return nil, fmt.Errorf("JSONL line 1: key %q appears twice", k)
		}
		j.index[k] = i
		f := Field{Name: k, Kind: values[i].Kind}
		if f.Kind == KindList && len(values[i].List) > 0 {
			f.Elem = values[i].List[0].Kind
		}
		j.fields = append(j.fields, f)
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

func (j *jsonlReader) Read(dst []Row, errs []error, n int) ([]Row, []error, error) {
	for range n {
		line := j.first
		j.first = nil
		if line == nil {
			var err error
			if line, err = j.nextLine(); err != nil {
				return dst, errs, err
			}
		}
		row, err := j.parseRow(line)
		dst = append(dst, row)
		errs = append(errs, err)
	}
	return dst, errs, nil
}

func (j *jsonlReader) parseRow(line []byte) (Row, error) {
	row := make(Row, len(j.fields))
	keys, values, err := parseJSONObject(line)
	if err != nil {
		return row, err
	}
	for i, k := range keys {
		idx, ok := j.index[k]
		if !ok {
			return row, fmt.Errorf("key %q is not among the first line's keys (%s)", k, strings.Join(fieldNames(j.fields), ", "))
		}
		row[idx] = values[i]
	}
	return row, nil
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
func parseJSONObject(line []byte) ([]string, []Value, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, errors.New("not a JSON object")
	}
	var keys []string
	var values []Value
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %w", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("invalid JSON: %w", err)
		}
		v, err := parseJSONValue(raw)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, tok.(string))
		values = append(values, v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, nil, errors.New("more than one JSON value on the line")
	}
	return keys, values, nil
}

// parseJSONValue converts one JSON value; nested objects stay JSON text.
func parseJSONValue(raw json.RawMessage) (Value, error) {
	switch raw[0] {
	case 'n':
		return Null(), nil
	case 't', 'f':
		return Bool(raw[0] == 't'), nil
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return String(s), err
	case '{':
		return String(string(raw)), nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return Value{}, err
		}
		list := make([]Value, len(items))
		for i, item := range items {
			v, err := parseJSONValue(item)
			if err != nil {
				return Value{}, err
			}
			list[i] = v
		}
		return List(list), nil
	}
	s := string(raw)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return Int(i), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Value{}, fmt.Errorf("number %s: %w", s, err)
	}
	return Float64(f), nil
}

func fieldNames(fields []Field) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
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

func (j *jsonlWriter) writeColumns(n int, cols []colView) error {
	for r := range n {
		b := append(j.buf[:0], '{')
		for i, k := range j.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, k...)
			b = cols[i].value(r).AppendJSON(b)
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
