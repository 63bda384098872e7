package redact

import (
	"net/url"
	"strings"
	"unicode"
)

// ConnStringPasswords returns every value that a PostgreSQL connection
// string (URL or keyword/value form) may carry as its password. It never
// fails: it is meant for malformed strings too (the ones a strict parser
// rejects, whose error message may quote them), and where the boundaries are
// unclear it returns several candidates, raw and unescaped, rather than
// none.
func ConnStringPasswords(s string) []string {
	var out []string
	add := func(vs ...string) {
		for _, v := range vs {
			if v != "" {
				out = append(out, v)
			}
			if u, err := url.PathUnescape(v); err == nil && u != v && u != "" {
				out = append(out, u)
			}
		}
	}
	// Lower case in ASCII only, so that an offset in lower is one in s
	// (strings.ToLower changes the length of some non-ASCII text).
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	lower := string(b)
	isURL := strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
	if isURL {
		rest := s[strings.Index(s, "://")+3:]
		// The user info ends at an '@'; a malformed URL may hold more
		// than one, so both the first and the last one are tried.
		for _, at := range []int{strings.IndexByte(rest, '@'), strings.LastIndexByte(rest, '@')} {
			if _, pw, ok := strings.Cut(rest[:max(at, 0)], ":"); ok {
				add(pw)
			}
		}
	}
	for i := 0; ; {
		k := strings.Index(lower[i:], "password")
		if k < 0 {
			return out
		}
		start := i + k
		i = start + len("password")
		v := s[i:]
		if isURL { // password=… in the query
			if v, ok := strings.CutPrefix(v, "="); ok {
				v, _, _ = strings.Cut(v, "&")
				u, _ := url.QueryUnescape(v)
				add(v, u)
			}
			continue
		}
		// Keyword/value: password = value, the value optionally in single
		// quotes, with backslash escapes.
		if start > 0 && !unicode.IsSpace(rune(s[start-1])) {
			continue // e.g. "sslpassword", or part of another value
		}
		v = strings.TrimLeftFunc(v, unicode.IsSpace)
		if rest, ok := strings.CutPrefix(v, "="); ok {
			v = strings.TrimLeftFunc(rest, unicode.IsSpace)
		}
		add(kvValue(v))
	}
}

// kvValue reads one keyword/value value from the start of s: it returns the
// text as written (without surrounding quotes) and its unescaped value.
func kvValue(s string) (raw, val string) {
	quoted := strings.HasPrefix(s, "'")
	if quoted {
		s = s[1:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case quoted && c == '\'' || !quoted && unicode.IsSpace(rune(c)):
			return s[:i], b.String()
		default:
			b.WriteByte(c)
		}
	}
	return s, b.String() // an unterminated quote: everything that follows
}
