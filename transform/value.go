package transform

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the JSON type of one member of the ticket object.
type kind uint8

const (
	kindMissing kind = iota // key absent (zero value)
	kindNull
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

func (k kind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindString:
		return "string"
	case kindNumber:
		return "number"
	case kindBool:
		return "boolean"
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	default:
		return "missing"
	}
}

// value is one top-level member of the ticket object. It holds whatever
// JSON type arrives, so that Parse (not the JSON decoder) decides what is
// acceptable for each field and can name the field in its error. Numbers
// are parsed on the spot: nothing here aliases the decoder's buffer.
type value struct {
	kind  kind
	str   string // kindString: the decoded text; kindNumber: the literal unless it is plain digits
	num   int64  // kindNumber && numOK
	numOK bool   // the number literal is an integer that fits int64
	b     bool   // kindBool
}

// plainInteger reports whether a number literal is an optional minus and
// digits only, i.e. exactly how strconv.FormatInt would write it back.
func plainInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// parseInteger parses a base-10 integer. Integral values written with a
// fraction or exponent ("5.0", "1e3") are accepted up to 2^53, where float64
// is still exact; everything else fails.
func parseInteger[T string | []byte](s T) (int64, bool) {
	if len(s) == 0 {
		return 0, false
	}
	i, neg := 0, false
	if s[0] == '-' {
		neg, i = true, 1
	}
	if i == len(s) {
		return 0, false
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return parseIntegralFloat(s)
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false // out of int64 range
		}
		n = n*10 + d
	}
	if neg {
		return int64(-n), true // -n wraps correctly for MinInt64
	}
	return int64(n), true
}

func parseIntegralFloat[T string | []byte](s T) (int64, bool) {
	for i := 0; i < len(s); i++ {
		// Keep ParseFloat away from "inf", "nan", hex floats and underscores.
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// integer is the single flexible-number decoder: a JSON number or a numeric
// string (older servers sent "ID":"55958"). present is false for missing,
// null and "" (PHP's empty value). reason is non-empty when the member holds
// something that is not an integer.
func (v *value) integer() (n int64, present bool, reason string) {
	switch v.kind {
	case kindMissing, kindNull:
		return 0, false, ""
	case kindNumber:
		if v.numOK {
			return v.num, true, ""
		}
		return 0, false, "expected an integer, got " + shorten(v.str)
	case kindString:
		s := strings.TrimSpace(v.str)
		if s == "" {
			return 0, false, ""
		}
		if n, ok := parseInteger(s); ok {
			return n, true, ""
		}
		return 0, false, "expected an integer, got " + quote(v.str)
	case kindBool:
		return 0, false, "expected an integer, got " + strconv.FormatBool(v.b)
	default:
		return 0, false, "expected an integer, got " + v.kind.String()
	}
}

// describe names what the member holds, for error reasons.
func (v *value) describe() string {
	switch v.kind {
	case kindString:
		return quote(v.str)
	case kindNumber:
		if v.str == "" {
			return strconv.FormatInt(v.num, 10)
		}
		return shorten(v.str)
	case kindBool:
		return strconv.FormatBool(v.b)
	default:
		return v.kind.String()
	}
}

// maxQuoted bounds how much of an offending value goes into a reason: the
// reason is stored per rejected record and a bad field can be megabytes.
const maxQuoted = 80

// quote quotes s for an error reason, shortened to maxQuoted bytes on a rune
// boundary. strconv.Quote escapes NUL and invalid UTF-8, so the reason is
// always storable text.
func quote(s string) string {
	t := truncate(s)
	if len(t) < len(s) {
		return strconv.Quote(t) + "..."
	}
	return strconv.Quote(t)
}

func shorten(s string) string {
	t := truncate(s)
	if len(t) < len(s) {
		return t + "..."
	}
	return t
}

func truncate(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
