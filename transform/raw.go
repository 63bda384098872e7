package transform

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// storableRaw returns the ticket's JSON in a form Postgres jsonb accepts.
// Almost always that is an unchanged copy of raw (never an alias: callers may
// reuse their buffers). Only when raw is not valid UTF-8 or holds an escape
// jsonb rejects (\u0000, or a lone UTF-16 surrogate) is it decoded and
// re-encoded: encoding/json turns invalid UTF-8 and lone surrogates into
// U+FFFD, and scrub removes NUL from every string and key. raw must already
// be valid JSON.
func storableRaw(raw []byte) (json.RawMessage, error) {
	if utf8.Valid(raw) && !hasUnstorableEscape(raw) {
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

// hasUnstorableEscape reports whether valid JSON text contains a \u escape
// that jsonb rejects: \u0000, or a surrogate not part of a high+low pair.
// Escapes are walked in order, so an escaped backslash followed by "u0000"
// (the literal text \u0000) is correctly not a NUL.
func hasUnstorableEscape(raw []byte) bool {
	i := 0
	for {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
		if i+1 >= len(raw) {
			return false // cannot happen in valid JSON
		}
		if raw[i+1] != 'u' {
			i += 2 // \\, \", \n, ...: skip the escaped character
			continue
		}
		r, ok := hex4(raw, i+2)
		switch {
		case !ok:
			return true // malformed; let the decoder sort it out
		case r == 0:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo, ok := hex4(raw, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 12
					continue
				}
			}
			return true
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		}
		i += 6
	}
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
				continue
			}
			out[k] = scrub(val)
		}
		slices.Sort(dirty)
		for _, k := range dirty {
			if ck := StripNUL(k); !hasKey(out, ck) {
				out[ck] = scrub(x[k])
			}
		}
		return out
	default:
		return v
	}
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
