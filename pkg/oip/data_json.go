package oip

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// JSON tensor data; the accepted and written forms are listed in doc.go.

// dataDecoder parses JSON tensor data into Raw or Strings.
type dataDecoder struct {
	dt   Datatype
	size int
	raw  []byte
	strs [][]byte
}

// decodeData parses the data value at the cursor into t, whose Datatype and
// Shape are already set, and checks the element count against the shape.
func decodeData(s *scanner, t *Tensor) error {
	n, err := t.NumElements()
	if err != nil {
		return err
	}
	d := dataDecoder{dt: t.Datatype, size: t.Datatype.Size()}
	// Every element takes at least two bytes of JSON ("1,"), which bounds
	// the allocation whatever the shape claims.
	hint := min(n, int64(len(s.buf)-s.pos)/2+1)
	if d.size == 0 {
		d.strs = make([][]byte, 0, hint)
	} else {
		d.raw = make([]byte, 0, hint*int64(d.size))
	}
	if err := d.value(s, 0); err != nil {
		return err
	}
	got := len(d.strs)
	if d.size > 0 {
		got = len(d.raw) / d.size
	}
	if int64(got) != n {
		return invalidf("shape %s needs %d elements, got %d", formatShape(t.Shape), n, got)
	}
	if d.size == 0 {
		t.Strings = d.strs
	} else {
		t.Raw = d.raw
	}
	return nil
}

// value parses one element or a (nested) array of elements.
func (d *dataDecoder) value(s *scanner, depth int) error {
	if s.peek() != '[' {
		return d.element(s)
	}
	if depth >= maxDepth {
		return s.errorf("data nested deeper than %d", maxDepth)
	}
	s.pos++
	if s.consume(']') {
		return nil
	}
	for {
		var err error
		if s.peek() == '[' {
			err = d.value(s, depth+1)
		} else {
			err = d.element(s)
		}
		if err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume(']') {
			return nil
		}
		return s.unexpected("',' or ']'")
	}
}

// element parses one scalar and appends it.
func (d *dataDecoder) element(s *scanner) error {
	c := s.peek()
	isNum := c == '-' || ('0' <= c && c <= '9')
	switch d.dt {
	case Bytes:
		if c != '"' {
			return d.badValue(s)
		}
		str, err := s.readString()
		d.strs = append(d.strs, str)
		return err
	case FP32, FP64, FP16, BF16:
		return d.float(s, c, isNum)
	case Bool:
		switch {
		case c == 't' || c == 'f':
			lit, err := s.literal()
			if err != nil {
				return err
			}
			d.raw = append(d.raw, boolByte(lit[0] == 't'))
			return nil
		case isNum:
			tok, err := s.readNumber()
			if err != nil {
				return err
			}
			if len(tok) != 1 || tok[0] > '1' {
				return invalidf("invalid BOOL value %s", clip(tok))
			}
			d.raw = append(d.raw, tok[0]-'0')
			return nil
		}
		return d.badValue(s)
	}
	if !isNum {
		return d.badValue(s)
	}
	tok, err := s.readNumber()
	if err != nil {
		return err
	}
	mag, neg, st := parseIntToken(tok)
	switch {
	case st == intFraction:
		return invalidf("value %s is not an integer (%s)", clip(tok), d.dt)
	case st == intOverflow || !intFits(mag, neg, d.dt):
		return invalidf("value %s out of range for %s", clip(tok), d.dt)
	}
	v := mag
	if neg {
		v = -v
	}
	switch d.size {
	case 1:
		d.raw = append(d.raw, byte(v))
	case 2:
		d.raw = binary.LittleEndian.AppendUint16(d.raw, uint16(v))
	case 4:
		d.raw = binary.LittleEndian.AppendUint32(d.raw, uint32(v))
	default:
		d.raw = binary.LittleEndian.AppendUint64(d.raw, v)
	}
	return nil
}

// float parses one floating-point element.
func (d *dataDecoder) float(s *scanner, c byte, isNum bool) error {
	var f float64
	switch {
	case isNum:
		tok, err := s.readNumber()
		if err != nil {
			return err
		}
		bits := 32
		if d.dt == FP64 {
			bits = 64
		}
		f, err = strconv.ParseFloat(bytesString(tok), bits)
		if err != nil {
			return invalidf("value %s out of range for %s", clip(tok), d.dt)
		}
		if d.dt == FP16 && math.IsInf(float64(Float16ToFloat32(Float32ToFloat16(float32(f)))), 0) ||
			d.dt == BF16 && math.IsInf(float64(BFloat16ToFloat32(Float32ToBFloat16(float32(f)))), 0) {
			return invalidf("value %s out of range for %s", clip(tok), d.dt)
		}
	case c == '"':
		str, err := s.readString()
		if err != nil {
			return err
		}
		var ok bool
		if f, ok = parseNonFinite(str); !ok {
			return invalidf("invalid %s value %q", d.dt, clip(str))
		}
	default:
		return d.badValue(s)
	}
	switch d.dt {
	case FP32:
		d.raw = binary.LittleEndian.AppendUint32(d.raw, math.Float32bits(float32(f)))
	case FP64:
		d.raw = binary.LittleEndian.AppendUint64(d.raw, math.Float64bits(f))
	case FP16:
		d.raw = binary.LittleEndian.AppendUint16(d.raw, Float32ToFloat16(float32(f)))
	default:
		d.raw = binary.LittleEndian.AppendUint16(d.raw, Float32ToBFloat16(float32(f)))
	}
	return nil
}

// badValue reports an element of the wrong JSON kind for the datatype.
func (d *dataDecoder) badValue(s *scanner) error {
	switch s.peek() {
	case '{':
		return invalidf("invalid %s value: an object", d.dt)
	case '"':
		str, err := s.readString()
		if err != nil {
			return err
		}
		return invalidf("invalid %s value %q", d.dt, clip(str))
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		tok, err := s.readNumber()
		if err != nil {
			return err
		}
		return invalidf("invalid %s value %s", d.dt, clip(tok))
	}
	lit, err := s.literal()
	if err != nil {
		return err
	}
	return invalidf("invalid %s value %s", d.dt, lit)
}

// intFits reports whether the integer with magnitude mag and sign neg is in
// the range of the integer datatype dt.
func intFits(mag uint64, neg bool, dt Datatype) bool {
	bits := uint(dt.Size() * 8)
	switch dt {
	case Uint8, Uint16, Uint32, Uint64:
		return (!neg || mag == 0) && (bits == 64 || mag < 1<<bits)
	}
	if neg {
		return mag <= 1<<(bits-1)
	}
	return mag < 1<<(bits-1)
}

// parseNonFinite parses the string forms of NaN and ±Inf.
func parseNonFinite(b []byte) (float64, bool) {
	str := bytesString(b)
	switch {
	case strings.EqualFold(str, "nan"):
		return math.NaN(), true
	case strings.EqualFold(str, "inf"), strings.EqualFold(str, "+inf"),
		strings.EqualFold(str, "infinity"), strings.EqualFold(str, "+infinity"):
		return math.Inf(1), true
	case strings.EqualFold(str, "-inf"), strings.EqualFold(str, "-infinity"):
		return math.Inf(-1), true
	}
	return 0, false
}

// clip shortens a value quoted in an error message.
func clip(b []byte) string {
	const max = 40
	if len(b) <= max {
		return string(b)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "..."
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// appendData appends t's elements as a flat JSON array. Raw bytes beyond the
// last whole element are ignored.
func appendData(b []byte, t *Tensor) []byte {
	b = append(b, '[')
	raw := t.Raw
	switch t.Datatype {
	case Bytes:
		for i, str := range t.Strings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, bytesString(str))
		}
	case Bool:
		for i, v := range raw {
			if i > 0 {
				b = append(b, ',')
			}
			if v != 0 {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		}
	case Uint8:
		for i, v := range raw {
			b = appendSep(b, i)
			b = strconv.AppendUint(b, uint64(v), 10)
		}
	case Int8:
		for i, v := range raw {
			b = appendSep(b, i)
			b = strconv.AppendInt(b, int64(int8(v)), 10)
		}
	case Uint16:
		for i := 0; i+2 <= len(raw); i += 2 {
			b = appendSep(b, i)
			b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint16(raw[i:])), 10)
		}
	case Int16:
		for i := 0; i+2 <= len(raw); i += 2 {
			b = appendSep(b, i)
			b = strconv.AppendInt(b, int64(int16(binary.LittleEndian.Uint16(raw[i:]))), 10)
		}
	case Uint32:
		for i := 0; i+4 <= len(raw); i += 4 {
			b = appendSep(b, i)
			b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(raw[i:])), 10)
		}
	case Int32:
		for i := 0; i+4 <= len(raw); i += 4 {
			b = appendSep(b, i)
			b = strconv.AppendInt(b, int64(int32(binary.LittleEndian.Uint32(raw[i:]))), 10)
		}
	case Uint64:
		for i := 0; i+8 <= len(raw); i += 8 {
			b = appendSep(b, i)
			b = strconv.AppendUint(b, binary.LittleEndian.Uint64(raw[i:]), 10)
		}
	case Int64:
		for i := 0; i+8 <= len(raw); i += 8 {
			b = appendSep(b, i)
			b = strconv.AppendInt(b, int64(binary.LittleEndian.Uint64(raw[i:])), 10)
		}
	case FP32:
		for i := 0; i+4 <= len(raw); i += 4 {
			b = appendSep(b, i)
			b = appendFloat(b, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))), 32)
		}
	case FP64:
		for i := 0; i+8 <= len(raw); i += 8 {
			b = appendSep(b, i)
			b = appendFloat(b, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])), 64)
		}
	case FP16:
		for i := 0; i+2 <= len(raw); i += 2 {
			b = appendSep(b, i)
			b = appendFloat(b, float64(Float16ToFloat32(binary.LittleEndian.Uint16(raw[i:]))), 32)
		}
	case BF16:
		for i := 0; i+2 <= len(raw); i += 2 {
			b = appendSep(b, i)
			b = appendFloat(b, float64(BFloat16ToFloat32(binary.LittleEndian.Uint16(raw[i:]))), 32)
		}
	}
	return append(b, ']')
}

// appendSep appends the comma before every element but the first.
func appendSep(b []byte, i int) []byte {
	if i > 0 {
		return append(b, ',')
	}
	return b
}

// appendFloat appends f in its shortest form for the given bit size, or as
// the string "NaN", "Inf" or "-Inf".
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case f != f:
		return append(b, `"NaN"`...)
	case f > math.MaxFloat64:
		return append(b, `"Inf"`...)
	case f < -math.MaxFloat64:
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendString appends str as a JSON string. Invalid UTF-8 bytes become
// U+FFFD.
func appendString(b []byte, str string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(str); {
		c := str[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(str[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
			b = append(b, str[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, str[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, str[start:]...)
	return append(b, '"')
}
