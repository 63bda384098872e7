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
	add := func(v string) {
		if v != "" {
			out = append(out, v)
		}
		if u, err := url.PathUnescape(v); err == nil && u != v && u != "" {
			out = append(out, u)
		}
	}
	lower := strings.ToLower(s)
	if i := strings.Index(lower, "://"); i >= 0 && (strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")) {
		rest := s[i+3:]
		// The user info ends at an '@'; a malformed URL may hold more
		// than one, so both the first and the last one are tried.
		for _, at := range []int{strings.IndexByte(rest, '@'), strings.LastIndexByte(rest, '@')} {
			if at < 0 {
				continue
			}
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				add(pw)
			}
		}
		// password=… in the query.
		for j := 0; ; {
			k := strings.Index(lower[j:], "password=")
			if k < 0 {
				break
			}
			j += k + len("password=")
			v := s[j:]
			if end := strings.IndexByte(v, '&'); end >= 0 {
				v = v[:end]
			}
			add(v)
			if u, err := url.QueryUnescape(v); err == nil && u != v {
				add(u)
			}
		}
		return out
	}
	// Keyword/value: password = value, the value optionally in single
	// quotes, with backslash escapes.
	for j := 0; ; {
		k := strings.Index(lower[j:], "password")
		if k < 0 {
			break
		}
		start := j + k
		j = start + len("password")
		if start > 0 && !unicode.IsSpace(rune(s[start-1])) {
			continue // e.g. "sslpassword", or part of another value
		}
		v := strings.TrimLeftFunc(s[j:], unicode.IsSpace)
		if strings.HasPrefix(v, "=") {
			v = strings.TrimLeftFunc(v[1:], unicode.IsSpace)
		}
		raw, val := kvValue(v)
		add(raw)
		add(val)
	}
	return out
}

// kvValue reads one keyword/value value from the start of s: it returns the
// text as written (without surrounding quotes) and its unescaped value.
func kvValue(s string) (raw, val string) {
	var b strings.Builder
	if strings.HasPrefix(s, "'") {
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == '\'':
				return s[1:i], b.String()
			default:
				b.WriteByte(c)
			}
		}
		return s[1:], b.String() // unterminated: everything that follows
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case unicode.IsSpace(rune(c)):
			return s[:i], b.String()
		default:
			b.WriteByte(c)
		}
	}
	return s, b.String()
}
