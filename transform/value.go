package transform

import (
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// fieldParser collects what went wrong while a record's members become
// Ticket fields. A required field it cannot read (fail) sets the record
// aside; only the first such failure is kept. An optional one (drop) is nil
// and listed in problems, and the ticket is kept; in strict mode (v2) it
// sets the record aside too.
type fieldParser struct {
	strict   bool
	err      *RecordError
	problems []FieldProblem
}

func (p *fieldParser) fail(field, reason string) {
	if p.err == nil {
		p.err = &RecordError{Field: field, Reason: reason}
	}
}

func (p *fieldParser) drop(field, reason string) {
	if p.strict {
		p.fail(field, reason)
		return
	}
	p.problems = append(p.problems, FieldProblem{Field: field, Reason: reason})
}

// A reader turns one member into a value. present is false when the member
// is absent (missing, null, or empty where that means absent); reason is
// non-empty when it holds something unusable.
type reader[T any] func(v jsontext.Value) (val T, present bool, reason string)

// opt reads an optional field: nil when absent or unusable (then dropped).
func opt[T any](p *fieldParser, field string, v jsontext.Value, read reader[T]) *T {
	x, ok, reason := read(v)
	if reason != "" {
		p.drop(field, reason)
	}
	if !ok {
		return nil
	}
	return &x
}

// need reads a field that must be there: report (fail or drop) is told why
// it is not, and the zero value is returned.
func need[T any](report func(field, reason string), field string, v jsontext.Value, read reader[T]) T {
	x, ok, reason := read(v)
	if !ok {
		report(field, cmp.Or(reason, absence(v)))
	}
	return x
}

// absence says why a member that must be present is not.
func absence(v jsontext.Value) string {
	switch v.Kind() {
	case 0:
		return "missing"
	case 'n':
		return "is null"
	}
	return "is empty"
}

// unquote decodes a JSON string; invalid UTF-8 and lone surrogates become
// U+FFFD, as encoding/json does.
func unquote(v jsontext.Value) string {
	s, _ := jsontext.AppendUnquote(nil, v)
	return string(s)
}

// describe names what a member holds, for reasons.
func describe(v jsontext.Value) string {
	switch v.Kind() {
	case '"':
		return quote(unquote(v))
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return shorten(string(v)) // a number, true or false
}

// integer reads a JSON number or a numeric string (older servers sent
// "ID":"55958"), surrounding spaces allowed; "" (PHP's empty value) is
// absent.
func integer(v jsontext.Value) (int64, bool, string) {
	s := string(v)
	switch v.Kind() {
	case 0, 'n':
		return 0, false, ""
	case '"':
		if s = strings.TrimSpace(unquote(v)); s == "" {
			return 0, false, ""
		}
	case '0':
	default:
		return 0, false, "expected an integer, got " + describe(v)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true, ""
	}
	// An integral value written with a fraction or exponent ("5.0", "1e3")
	// counts up to 2^53, where float64 is exact. The character check keeps
	// ParseFloat away from "inf", "nan", hex floats and underscores.
	if strings.TrimLeft(s, "0123456789.eE+-") == "" {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			return int64(f), true, ""
		}
	}
	return 0, false, "expected an integer, got " + describe(v)
}

// positive reads an ID.
func positive(v jsontext.Value) (int64, bool, string) {
	n, ok, reason := integer(v)
	if ok && n <= 0 {
		return 0, false, "expected a positive integer, got " + strconv.FormatInt(n, 10)
	}
	return n, ok, reason
}

// intIn makes a reader of integers within T's range.
func intIn[T int16 | int32](lo, hi T) reader[T] {
	return func(v jsontext.Value) (T, bool, string) {
		n, ok, reason := integer(v)
		if ok && (n < int64(lo) || n > int64(hi)) {
			return 0, false, fmt.Sprintf("value %d out of range [%d, %d]", n, lo, hi)
		}
		return T(n), ok, reason
	}
}

var (
	int32Value = intIn[int32](math.MinInt32, math.MaxInt32)
	code       = intIn[int16](math.MinInt16, math.MaxInt16)
)

// text reads a string, without NUL; a number is kept as its literal
// (harmless leniency of v1).
func text(v jsontext.Value) (string, bool, string) {
	switch v.Kind() {
	case 0, 'n':
		return "", false, ""
	case '"':
		return StripNUL(unquote(v)), true, ""
	case '0':
		return string(v), true, ""
	}
	return "", false, "expected a string, got " + describe(v)
}

// strictText is text that must be a JSON string (v2).
func strictText(v jsontext.Value) (string, bool, string) {
	if v.Kind() == '0' {
		return "", false, "expected a string, got " + describe(v)
	}
	return text(v)
}

// boolean reads Hardcore: true/false, 1/0 or "1"/"0"; "" is absent.
func boolean(v jsontext.Value) (bool, bool, string) {
	if k := v.Kind(); k == 't' || k == 'f' {
		return k == 't', true, ""
	}
	n, ok, reason := integer(v)
	if reason == "" && (!ok || n == 0 || n == 1) {
		return n == 1, ok, ""
	}
	return false, false, "expected 0, 1 or a boolean, got " + describe(v)
}

const (
	apiTimeLayout = "2006-01-02 15:04:05"
	// mysqlZeroTime is MySQL's "no date"; as ResolvedAt it means not resolved.
	mysqlZeroTime = "0000-00-00 00:00:00"
	// minYear rejects placeholder dates: no ticket can predate the Unix epoch.
	minYear = 1970
)

// timeIn makes a reader of timestamp strings in one of layouts (a layout
// without a zone reads UTC), surrounding spaces allowed; the result is in
// UTC. "" is absent.
func timeIn(layouts ...string) reader[time.Time] {
	return func(v jsontext.Value) (time.Time, bool, string) {
		switch v.Kind() {
		case 0, 'n':
			return time.Time{}, false, ""
		case '"':
		default:
			return time.Time{}, false, "expected a timestamp string, got " + describe(v)
		}
		s := strings.TrimSpace(unquote(v))
		if s == "" {
			return time.Time{}, false, ""
		}
		for _, layout := range layouts {
			if t, err := time.Parse(layout, s); err == nil && t.UTC().Year() >= minYear {
				return t.UTC(), true, ""
			}
		}
		return time.Time{}, false, "invalid timestamp " + quote(unquote(v))
	}
}

var (
	v1Time = timeIn(apiTimeLayout, time.RFC3339Nano) // newer server builds send RFC 3339
	v2Time = timeIn(time.RFC3339Nano)
)

// resolvedAt is v1Time where MySQL's zero date means not resolved.
func resolvedAt(v jsontext.Value) (time.Time, bool, string) {
	if v.Kind() == '"' && strings.TrimSpace(unquote(v)) == mysqlZeroTime {
		return time.Time{}, false, ""
	}
	return v1Time(v)
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
