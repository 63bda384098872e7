package transform

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// decodeOptions make the decoder match member names as encoding/json does
// (exactly first, else by strings.EqualFold) and accept what it accepts: a
// repeated member (the last one wins) and invalid UTF-8 in strings (it
// becomes U+FFFD, one per bad byte; lone surrogate escapes too).
var decodeOptions = []jsonv2.Options{
	jsonv2.MatchCaseInsensitiveNames(true),
	jsonv1.MatchCaseSensitiveDelimiter(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// scan walks every value of raw, which Unmarshal has found valid. It
// reports the first number jsonb cannot store, with the top-level member
// holding it, and whether raw needs cleaning before jsonb takes it: a
// string or member name with invalid UTF-8, a lone surrogate escape or
// \u0000 (an escaped backslash followed by u0000 is literal text).
func scan(raw []byte) (member, number string, dirty bool) {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), decodeOptions...)
	for {
		var v jsontext.Value
		var err error
		switch dec.PeekKind() {
		case '{', '}', '[', ']':
			_, err = dec.ReadToken()
		default:
			v, err = dec.ReadValue() // a scalar or a member name
		}
		if err != nil {
			return member, number, dirty // io.EOF
		}
		switch v.Kind() {
		case '0':
			if number == "" && !fitsNumeric(v) {
				for name := range dec.StackPointer().Tokens() {
					member = name
					break
				}
				member, number = shorten(member), shorten(string(v))
			}
		case '"':
			if !dirty && (bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v)) {
				s, err := jsontext.AppendUnquote(nil, v)
				dirty = err != nil || bytes.IndexByte(s, 0) >= 0
			}
		}
	}
}

// jsonb stores every number as numeric, whose limits are exact: at most
// 131072 digits before the decimal point and 16383 after it, and
// PostgreSQL's numeric_in refuses an exponent of INT_MAX/2 or beyond
// outright (PostgreSQL 15's numeric.c).
const (
	numericMaxIntDigits = 131072
	numericMaxScale     = 16383
	numericMaxExponent  = 1<<31/2 - 1 // INT_MAX / 2
)

// fitsNumeric reports whether PostgreSQL can store the valid JSON number
// lit in jsonb. Its scale is the digits after the point less the exponent;
// its size is where its first non-zero digit sits (a zero has none).
func fitsNumeric(lit []byte) bool {
	mant := bytes.TrimPrefix(lit, []byte("-"))
	var exp int64
	if i := bytes.IndexAny(mant, "eE"); i >= 0 {
		n, err := strconv.ParseInt(strings.TrimPrefix(string(mant[i+1:]), "+"), 10, 64)
		if err != nil || n >= numericMaxExponent || n <= -numericMaxExponent {
			return false
		}
		mant, exp = mant[:i], n
	}
	intPart, frac, _ := bytes.Cut(mant, []byte("."))
	if int64(len(frac))-exp > numericMaxScale {
		return false
	}
	first := bytes.IndexFunc(mant, func(r rune) bool { return r != '0' && r != '.' })
	if first < 0 {
		return true // zero
	}
	if first > len(intPart) {
		first-- // past the point
	}
	return int64(len(intPart)-1-first)+exp < numericMaxIntDigits
}

// storableRaw returns the record's JSON in a form Postgres jsonb accepts.
// Unless scan found it dirty that is an unchanged copy of raw (never an
// alias: callers may reuse their buffers). Otherwise it is decoded and
// re-encoded: encoding/json turns invalid UTF-8 and lone surrogates into
// U+FFFD, and scrub removes NUL from every string and key.
func storableRaw(raw []byte, dirty bool) (json.RawMessage, error) {
	if !dirty {
		return bytes.Clone(raw), nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers keep their exact literal (no float64 rounding)
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <br> in notes readable; jsonb does not care
	if err := enc.Encode(scrub(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// scrub removes NUL from every string and object key of a decoded JSON value.
// When removing NUL makes two keys equal, the key that had no NUL wins, then
// the first in sorted order, so the result does not depend on map order.
func scrub(v any) any {
	switch x := v.(type) {
	case string:
		return StripNUL(x)
	case []any:
		for i := range x {
			x[i] = scrub(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		var dirty []string
		for k, val := range x {
			if strings.IndexByte(k, 0) >= 0 {
				dirty = append(dirty, k)
			} else {
				out[k] = scrub(val)
			}
		}
		slices.Sort(dirty)
		for _, k := range dirty {
			if _, taken := out[StripNUL(k)]; !taken {
				out[StripNUL(k)] = scrub(x[k])
			}
		}
		return out
	default:
		return v
	}
}
