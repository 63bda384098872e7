package jsonscan

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting Skip follows. encoding/json's own limit is
// 10000; callers fall back to it for deeper input.
const MaxDepth = 256

// Scanner is a position in Data. A method that returns false leaves Pos
// unspecified: callers then give up on the whole input.
type Scanner struct {
	Data []byte
	Pos  int
	// Unclean is set when a string Str scanned holds invalid UTF-8, the
	// escape \u0000 or an unpaired surrogate escape: valid JSON that
	// PostgreSQL jsonb will not store byte for byte.
	Unclean bool
}

// Is reports whether the byte at Pos is c.
func (s *Scanner) Is(c byte) bool { return s.Pos < len(s.Data) && s.Data[s.Pos] == c }

// Lit consumes the literal l (null, true, false) when it is next.
func (s *Scanner) Lit(l string) bool {
	if len(s.Data)-s.Pos >= len(l) && string(s.Data[s.Pos:s.Pos+len(l)]) == l {
		s.Pos += len(l)
		return true
	}
	return false
}

// WS skips JSON whitespace.
func (s *Scanner) WS() {
	for s.Pos < len(s.Data) {
		switch s.Data[s.Pos] {
		case ' ', '\t', '\n', '\r':
			s.Pos++
		default:
			return
		}
	}
}

// Colon consumes ':' and the whitespace around it.
func (s *Scanner) Colon() bool {
	s.WS()
	if !s.Is(':') {
		return false
	}
	s.Pos++
	s.WS()
	return true
}

// Key scans a member name made of plain ASCII (no escapes) and returns it
// without quotes, aliasing Data. Anything else fails: such a name could
// match a field through encoding/json's Unicode case folding.
func (s *Scanner) Key() ([]byte, bool) {
	if !s.Is('"') {
		return nil, false
	}
	start := s.Pos + 1
	j := PlainRun(s.Data, start)
	if j >= len(s.Data) || s.Data[j] != '"' {
		return nil, false // escaped, non-ASCII, control character or unterminated
	}
	s.Pos = j + 1
	return s.Data[start:j], true
}

// Skip scans one value of any type; depth is its nesting level (1 for a
// member of the top-level object), failing beyond MaxDepth.
func (s *Scanner) Skip(depth int) bool {
	if s.Pos >= len(s.Data) || depth > MaxDepth {
		return false
	}
	switch c := s.Data[s.Pos]; {
	case c == '"':
		return s.Str()
	case c == 'n':
		return s.Lit("null")
	case c == 't':
		return s.Lit("true")
	case c == 'f':
		return s.Lit("false")
	case c == '-' || c >= '0' && c <= '9':
		return s.Number()
	case c == '{':
		s.Pos++
		s.WS()
		if s.Is('}') {
			s.Pos++
			return true
		}
		for {
			// Member names of nested objects are any JSON string.
			if !s.Is('"') || !s.Str() || !s.Colon() || !s.Skip(depth+1) {
				return false
			}
			s.WS()
			switch {
			case s.Is(','):
				s.Pos++
				s.WS()
			case s.Is('}'):
				s.Pos++
				return true
			default:
				return false
			}
		}
	case c == '[':
		s.Pos++
		s.WS()
		if s.Is(']') {
			s.Pos++
			return true
		}
		for {
			if !s.Skip(depth + 1) {
				return false
			}
			s.WS()
			switch {
			case s.Is(','):
				s.Pos++
				s.WS()
			case s.Is(']'):
				s.Pos++
				return true
			default:
				return false
			}
		}
	}
	return false
}

// Str scans a string literal starting at its opening quote, validating it
// as encoding/json's scanner does (escapes well formed, no raw control
// characters; invalid UTF-8 is accepted) and setting Unclean for content
// jsonb rejects.
func (s *Scanner) Str() bool {
	d := s.Data
	i := s.Pos + 1
	for {
		i = PlainRun(d, i)
		if i >= len(d) {
			return false
		}
		switch c := d[i]; {
		case c == '"':
			s.Pos = i + 1
			return true
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.Unclean = true
			}
			i += size
		default: // backslash
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := Hex4(d, i+2)
				if !ok {
					return false
				}
				i += 6
				if r == 0 {
					s.Unclean = true
				}
				if utf16.IsSurrogate(r) {
					if _, ok := LowSurrogate(d, i, r); ok {
						i += 6
					} else {
						s.Unclean = true
					}
				}
			default:
				return false
			}
		}
	}
}

// LowSurrogate reports whether the escape at d[i:] completes the high
// surrogate hi into one rune, which it returns. Anything else (hi is a low
// surrogate, no escape follows, it is not a low surrogate) is not a pair:
// encoding/json then decodes hi as U+FFFD and goes on at i.
func LowSurrogate(d []byte, i int, hi rune) (rune, bool) {
	lo := rune(-1)
	if i+6 <= len(d) && d[i] == '\\' && d[i+1] == 'u' {
		if x, ok := Hex4(d, i+2); ok {
			lo = x
		}
	}
	if r := utf16.DecodeRune(hi, lo); r != utf8.RuneError {
		return r, true
	}
	return utf8.RuneError, false
}

// Number scans a JSON number (RFC 8259 grammar).
func (s *Scanner) Number() bool {
	d, i := s.Data, s.Pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	s.Pos = i
	return true
}

// EqualFoldASCII reports whether key matches name as encoding/json matches
// an ASCII member name to a field: exactly or ASCII case-insensitively.
func EqualFoldASCII(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range key {
		x, y := key[i], name[i]
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Hex4 decodes the four hex digits of a \u escape at b[at:].
func Hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// PlainRun returns the index of the first byte at or after i that is a
// quote, a backslash, a control character or not ASCII (len(d) if none),
// eight bytes at a time: the bytes before it need no checking or decoding.
func PlainRun(d []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		q := x ^ (ones * '"')
		b := x ^ (ones * '\\')
		// A byte is special when it is < 0x20, equals '"' or '\\', or has
		// its high bit set; the classic "has a zero byte" test on each.
		special := ((x - ones*0x20) &^ x) | ((q - ones) &^ q) | ((b - ones) &^ b) | x
		if special&high != 0 {
			break
		}
	}
	for i < len(d) && plainByte[d[i]] {
		i++
	}
	return i
}

// plainByte marks the bytes a string can hold with nothing to check.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Object walks the object that starts at Pos (after optional white space):
// for each member it reads the key and the colon and calls member, which must
// consume the value. It leaves Pos after the closing brace and reports
// whether the object was well formed and every call to member returned true.
// It is the one member loop of the fast decoders of extract and transform.
func (s *Scanner) Object(member func(key []byte) bool) bool {
	s.WS()
	if !s.Is('{') {
		return false
	}
	s.Pos++
	s.WS()
	if s.Is('}') {
		s.Pos++
		return true
	}
	for {
		key, ok := s.Key()
		if !ok || !s.Colon() || !member(key) {
			return false
		}
		s.WS()
		switch {
		case s.Is(','):
			s.Pos++
			s.WS()
		case s.Is('}'):
			s.Pos++
			return true
		default:
			return false
		}
	}
}
