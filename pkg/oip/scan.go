package oip

import (
	"fmt"
	"math"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds JSON nesting so hostile input cannot exhaust the stack.
const maxDepth = 256

// scanner is a cursor over JSON text. Its methods consume one token or value
// at a time; positions in error messages are byte offsets into buf.
type scanner struct {
	buf []byte
	pos int
}

func (s *scanner) errorf(format string, args ...any) error {
	return invalidf("malformed JSON at offset %d: %s", s.pos, fmt.Sprintf(format, args...))
}

// unexpected reports the byte at the cursor when it is not what the caller
// wanted.
func (s *scanner) unexpected(want string) error {
	if s.pos >= len(s.buf) {
		return s.errorf("unexpected end of input, want %s", want)
	}
	return s.errorf("unexpected %q, want %s", s.buf[s.pos], want)
}

// peek skips white space and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	for s.pos < len(s.buf) {
		switch c := s.buf[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// consume skips white space and then c if it comes next.
func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.pos++
		return true
	}
	return false
}

// end checks that only white space follows the cursor.
func (s *scanner) end() error {
	if s.peek() != 0 || s.pos < len(s.buf) {
		return s.errorf("unexpected %q after the JSON value", s.buf[s.pos])
	}
	return nil
}

// object walks a JSON object, calling fn with the cursor on each value; fn
// must consume the value.
func (s *scanner) object(fn func(key []byte) error) error {
	if !s.consume('{') {
		return s.unexpected("'{'")
	}
	if s.consume('}') {
		return nil
	}
	for {
		key, err := s.readString()
		if err != nil {
			return err
		}
		if !s.consume(':') {
			return s.unexpected("':'")
		}
		if err := fn(key); err != nil {
			return err
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return nil
		}
		return s.unexpected("',' or '}'")
	}
}

// array walks a JSON array, calling fn with the cursor on each element; fn
// must consume the element.
func (s *scanner) array(fn func() error) error {
	if !s.consume('[') {
		return s.unexpected("'['")
	}
	if s.consume(']') {
		return nil
	}
	for {
		if err := fn(); err != nil {
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

// null consumes a null literal if one comes next.
func (s *scanner) null() bool {
	if s.peek() == 'n' && len(s.buf)-s.pos >= 4 && string(s.buf[s.pos:s.pos+4]) == "null" {
		s.pos += 4
		return true
	}
	return false
}

// literal consumes true, false or null and returns its text.
func (s *scanner) literal() ([]byte, error) {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s.buf)-s.pos >= len(lit) && string(s.buf[s.pos:s.pos+len(lit)]) == lit {
			s.pos += len(lit)
			return s.buf[s.pos-len(lit) : s.pos], nil
		}
	}
	return nil, s.unexpected("a value")
}

// readString consumes a JSON string and returns its contents. Without escape
// sequences the result aliases buf; otherwise it is a fresh slice. Control
// characters and invalid UTF-8 are errors; lone surrogates decode to U+FFFD.
func (s *scanner) readString() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("a string")
	}
	start := s.pos + 1
	ascii := true
	for i := start; i < len(s.buf); i++ {
		switch c := s.buf[i]; {
		case c == '"':
			out := s.buf[start:i:i]
			if !ascii && !utf8.Valid(out) {
				return nil, s.errorf("invalid UTF-8 in string")
			}
			s.pos = i + 1
			return out, nil
		case c == '\\':
			return s.readEscaped(start, i)
		case c < 0x20:
			s.pos = i
			return nil, s.errorf("control character in string")
		case c >= 0x80:
			ascii = false
		}
	}
	s.pos = len(s.buf)
	return nil, s.errorf("unterminated string")
}

// readEscaped finishes readString for a string with escapes; the string's
// contents start at start and the first backslash is at i.
func (s *scanner) readEscaped(start, i int) ([]byte, error) {
	out := make([]byte, i-start, i-start+16)
	copy(out, s.buf[start:i])
	for i < len(s.buf) {
		c := s.buf[i]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return nil, s.errorf("invalid UTF-8 in string")
			}
			s.pos = i + 1
			return out, nil
		case c < 0x20:
			s.pos = i
			return nil, s.errorf("control character in string")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(s.buf) {
			break
		}
		esc := s.buf[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			out = append(out, esc)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(s.buf[i:])
			if !ok {
				s.pos = i
				return nil, s.errorf("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if len(s.buf)-i >= 6 && s.buf[i] == '\\' && s.buf[i+1] == 'u' {
					r2, ok = hex4(s.buf[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			s.pos = i - 2
			return nil, s.errorf("invalid escape '\\%c'", esc)
		}
	}
	s.pos = len(s.buf)
	return nil, s.errorf("unterminated string")
}

// hex4 decodes four hex digits.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// readNumber consumes a JSON number and returns its text after checking it
// against the JSON grammar.
func (s *scanner) readNumber() ([]byte, error) {
	s.peek()
	b, start := s.buf, s.pos
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		s.pos = i
		return nil, s.unexpected("a number")
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			s.pos = j
			return nil, s.unexpected("a digit")
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			s.pos = j
			return nil, s.unexpected("a digit")
		}
		i = j
	}
	s.pos = i
	return b[start:i], nil
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// skipValue consumes one JSON value of any kind.
func (s *scanner) skipValue(depth int) error {
	if depth > maxDepth {
		return s.errorf("nesting deeper than %d", maxDepth)
	}
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) error { return s.skipValue(depth + 1) })
	case c == '[':
		return s.array(func() error { return s.skipValue(depth + 1) })
	case c == '"':
		_, err := s.readString()
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		_, err := s.readNumber()
		return err
	default:
		_, err := s.literal()
		return err
	}
}

// readValueSpan consumes one JSON value and returns its text.
func (s *scanner) readValueSpan() ([]byte, error) {
	s.peek()
	start := s.pos
	if err := s.skipValue(0); err != nil {
		return nil, err
	}
	return s.buf[start:s.pos], nil
}

// Integer token parsing results.
const (
	intOK = iota
	intFraction
	intOverflow
)

// parseIntToken returns the magnitude and sign of a JSON number token (as
// checked by readNumber) when its value is an integer whose magnitude fits
// in a uint64. Forms such as 1.0 and 3e2 count as integers; the test is
// exact, with no rounding through float64.
func parseIntToken(tok []byte) (mag uint64, neg bool, status int) {
	i := 0
	if tok[0] == '-' {
		neg = true
		i = 1
	}
	digits := tok[i:]
	end := skipDigits(tok, i)
	if end == len(tok) { // plain integer: the common case
		for _, c := range digits {
			d := uint64(c - '0')
			if mag > (math.MaxUint64-d)/10 {
				return 0, neg, intOverflow
			}
			mag = mag*10 + d
		}
		return mag, neg, intOK
	}
	intPart := tok[i:end]
	var frac []byte
	j := end
	if tok[j] == '.' {
		j = skipDigits(tok, end+1)
		frac = tok[end+1 : j]
	}
	exp := 0
	if j < len(tok) { // exponent
		j++
		eneg := false
		if tok[j] == '+' || tok[j] == '-' {
			eneg = tok[j] == '-'
			j++
		}
		for _, c := range tok[j:] {
			if exp < 1_000_000 {
				exp = exp*10 + int(c-'0')
			}
		}
		if eneg {
			exp = -exp
		}
	}
	// Each non-zero digit contributes d × 10^p; the value is an integer when
	// no non-zero digit has p < 0, and fits when the sum does.
	add := func(c byte, p int) int {
		if c == '0' {
			return intOK
		}
		if p < 0 {
			return intFraction
		}
		if p > 19 {
			return intOverflow
		}
		pow := uint64(1)
		for range p {
			pow *= 10
		}
		d := uint64(c - '0')
		if d > math.MaxUint64/pow || mag > math.MaxUint64-d*pow {
			return intOverflow
		}
		mag += d * pow
		return intOK
	}
	for k, c := range intPart {
		if st := add(c, len(intPart)-1-k+exp); st != intOK {
			return 0, neg, st
		}
	}
	for k, c := range frac {
		if st := add(c, exp-1-k); st != intOK {
			return 0, neg, st
		}
	}
	return mag, neg, intOK
}

// bytesString views b as a string without copying, for parsers that do not
// keep their argument.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
