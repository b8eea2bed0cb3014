package onnx

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxScanHeader bounds the bytes Scan keeps in memory: everything of the
// model except graph nodes, initializers and training or function sections.
const maxScanHeader = 16 << 20

// Field numbers of onnx.proto that Scan treats specially.
const (
	modelGraphField        = 7
	modelTrainingField     = 20
	modelFunctionsField    = 25
	graphNodeField         = 1
	graphInitializerField  = 5
	graphSparseInitializer = 15
	tensorNameField        = 8
)

// Scan decodes a model's description (header, opsets, metadata, signature)
// from r while reading it to the end, without holding nodes or weights in
// memory: memory use stays bounded however large the model is. It returns
// ErrInvalid for bytes that are not a well-formed ONNX model, and r's own
// error when reading fails. Bytes on the result encodes the model without
// its nodes and weights.
func Scan(r io.Reader) (*Model, error) {
	s := &scanner{r: bufio.NewReaderSize(r, 64<<10)}
	var header, graph []byte
	for {
		num, typ, err := s.tag()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, truncated(err)
		}
		switch {
		case num == modelGraphField && typ == protowire.BytesType:
			n, err := s.length()
			if err != nil {
				return nil, err
			}
			if graph, err = s.graph(graph, s.n+n); err != nil {
				return nil, err
			}
		case num == modelTrainingField || num == modelFunctionsField:
			if err := s.skip(typ); err != nil {
				return nil, err
			}
		default:
			if header, err = s.keep(header, num, typ); err != nil {
				return nil, err
			}
		}
	}
	header = protowire.AppendTag(header, modelGraphField, protowire.BytesType)
	return Parse(protowire.AppendBytes(header, graph))
}

// scanner reads protobuf wire format from a stream, counting bytes so that
// nested messages can be walked without loading them.
type scanner struct {
	r    *bufio.Reader
	n    int64 // bytes consumed so far
	kept int   // bytes kept in memory so far
}

// graph walks one GraphProto ending at offset end, appending the fields it
// keeps to out: everything but nodes and initializer data (initializer names
// are kept, as they tell signature inputs from constant overrides).
func (s *scanner) graph(out []byte, end int64) ([]byte, error) {
	for s.n < end {
		num, typ, err := s.tag()
		if err != nil {
			return nil, truncated(err)
		}
		switch {
		case num == graphInitializerField && typ == protowire.BytesType:
			n, err := s.length()
			if err != nil {
				return nil, err
			}
			name, err := s.tensorName(s.n + n)
			if err != nil {
				return nil, err
			}
			tensor := protowire.AppendTag(nil, tensorNameField, protowire.BytesType)
			tensor = protowire.AppendBytes(tensor, name)
			out = protowire.AppendTag(out, graphInitializerField, protowire.BytesType)
			out = protowire.AppendBytes(out, tensor)
		case num == graphNodeField || num == graphSparseInitializer:
			err = s.skip(typ)
		default:
			out, err = s.keep(out, num, typ)
		}
		if err != nil {
			return nil, err
		}
	}
	if s.n != end {
		return nil, fmt.Errorf("%w: graph field overruns its length", ErrInvalid)
	}
	return out, nil
}

// tensorName walks one TensorProto ending at offset end and returns its name.
func (s *scanner) tensorName(end int64) ([]byte, error) {
	var name []byte
	for s.n < end {
		num, typ, err := s.tag()
		if err != nil {
			return nil, truncated(err)
		}
		if num == tensorNameField && typ == protowire.BytesType {
			n, err := s.length()
			if err != nil {
				return nil, err
			}
			if name, err = s.read(n); err != nil {
				return nil, err
			}
			continue
		}
		if err := s.skip(typ); err != nil {
			return nil, err
		}
	}
	if s.n != end {
		return nil, fmt.Errorf("%w: initializer overruns its length", ErrInvalid)
	}
	return name, nil
}

// tag reads a field tag; io.EOF means the stream ended cleanly between fields.
func (s *scanner) tag() (protowire.Number, protowire.Type, error) {
	v, err := s.varint()
	if err != nil {
		return 0, 0, err
	}
	num, typ := protowire.DecodeTag(v)
	if num < protowire.MinValidNumber {
		return 0, 0, fmt.Errorf("%w: bad field tag at byte %d", ErrInvalid, s.n)
	}
	return num, typ, nil
}

func (s *scanner) varint() (uint64, error) {
	var v uint64
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, err := s.r.ReadByte()
		if err != nil {
			if i > 0 && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		s.n++
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: varint overflow at byte %d", ErrInvalid, s.n)
}

// length reads the length prefix of a bytes field.
func (s *scanner) length() (int64, error) {
	v, err := s.varint()
	if err != nil {
		return 0, truncated(err)
	}
	if v > 1<<62 {
		return 0, fmt.Errorf("%w: field length %d out of range", ErrInvalid, v)
	}
	return int64(v), nil
}

// read returns the next n bytes, counting them against the header budget.
func (s *scanner) read(n int64) ([]byte, error) {
	if s.kept+int(n) > maxScanHeader || n > maxScanHeader {
		return nil, fmt.Errorf("%w: model header (signature, metadata) over %d MiB", ErrInvalid, maxScanHeader>>20)
	}
	s.kept += int(n)
	buf := make([]byte, n)
	m, err := io.ReadFull(s.r, buf)
	s.n += int64(m)
	if err != nil {
		return nil, truncated(err)
	}
	return buf, nil
}

// keep reads the value of a field whose tag was just read and appends the
// whole field to out.
func (s *scanner) keep(out []byte, num protowire.Number, typ protowire.Type) ([]byte, error) {
	out = protowire.AppendTag(out, num, typ)
	switch typ {
	case protowire.VarintType:
		v, err := s.varint()
		if err != nil {
			return nil, truncated(err)
		}
		return protowire.AppendVarint(out, v), nil
	case protowire.Fixed32Type, protowire.Fixed64Type:
		b, err := s.read(fixedSize(typ))
		return append(out, b...), err
	case protowire.BytesType:
		n, err := s.length()
		if err != nil {
			return nil, err
		}
		b, err := s.read(n)
		return protowire.AppendBytes(out, b), err
	}
	return nil, fmt.Errorf("%w: unsupported wire type %d at byte %d", ErrInvalid, typ, s.n)
}

// skip discards the value of a field whose tag was just read.
func (s *scanner) skip(typ protowire.Type) error {
	var n int64
	switch typ {
	case protowire.VarintType:
		_, err := s.varint()
		return truncated(err)
	case protowire.Fixed32Type, protowire.Fixed64Type:
		n = fixedSize(typ)
	case protowire.BytesType:
		var err error
		if n, err = s.length(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unsupported wire type %d at byte %d", ErrInvalid, typ, s.n)
	}
	m, err := s.r.Discard(int(n))
	s.n += int64(m)
	return truncated(err)
}

func fixedSize(typ protowire.Type) int64 {
	if typ == protowire.Fixed32Type {
		return 4
	}
	return 8
}

// truncated turns an end of stream in the middle of a field into ErrInvalid.
func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: file ends in the middle of a field", ErrInvalid)
	}
	return err
}

// WriteWithRawInitializer writes the model to w followed by one more
// initializer whose little-endian element bytes are streamed from raw, so
// that test fixtures of any size can be written without holding the weights
// in memory. raw must yield exactly the bytes dims and dt call for.
func (m *Model) WriteWithRawInitializer(w io.Writer, name string, dt DataType, dims []int64, raw io.Reader) (int64, error) {
	if dt == String || dt == Undefined {
		return 0, fmt.Errorf("initializer %q: %s has no fixed element size", name, dt)
	}
	size := int64(elemSize(dt))
	for _, d := range dims {
		size *= d
	}
	head, err := m.Bytes()
	if err != nil {
		return 0, err
	}
	// A second graph field merges into the first: its initializer is appended.
	tensor := protowire.AppendTag(nil, tensorNameField, protowire.BytesType)
	tensor = protowire.AppendBytes(tensor, []byte(name))
	tensor = protowire.AppendTag(tensor, 2, protowire.VarintType) // data_type
	tensor = protowire.AppendVarint(tensor, uint64(dt))
	for _, d := range dims {
		tensor = protowire.AppendTag(tensor, 1, protowire.VarintType) // dims
		tensor = protowire.AppendVarint(tensor, uint64(d))
	}
	tensor = protowire.AppendTag(tensor, 9, protowire.BytesType) // raw_data
	tensor = protowire.AppendVarint(tensor, uint64(size))
	tensorLen := int64(len(tensor)) + size
	graphLen := int64(protowire.SizeTag(graphInitializerField)+protowire.SizeVarint(uint64(tensorLen))) + tensorLen
	head = protowire.AppendTag(head, modelGraphField, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(graphLen))
	head = protowire.AppendTag(head, graphInitializerField, protowire.BytesType)
	head = protowire.AppendVarint(head, uint64(tensorLen))
	head = append(head, tensor...)
	n, err := w.Write(head)
	written := int64(n)
	if err != nil {
		return written, err
	}
	copied, err := io.CopyN(w, raw, size)
	written += copied
	if err != nil {
		return written, fmt.Errorf("initializer %q data: %w", name, err)
	}
	return written, nil
}
