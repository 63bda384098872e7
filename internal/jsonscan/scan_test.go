package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSkip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		ok      bool // the whole input is one valid value
		unclean bool
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true, false},
		{"empty containers", `{"a":{},"b":[]}`, true, false},
		{"whitespace", " { \"a\" :\t[ 1 , 2 ]\n} ", true, false},
		{"numbers", `[0,-0,1.5,-2e10,3E+2,4e-1]`, true, false},
		{"leading zero", `01`, false, false},
		{"bare minus", `-`, false, false},
		{"dot without digits", `1.`, false, false},
		{"exponent without digits", `1e+`, false, false},
		{"escapes", `"a\"b\\c\/d\b\f\n\r\t\u00e9"`, true, false},
		{"long plain string", `"` + strings.Repeat("abcdefgh", 5) + `"`, true, false},
		{"bad escape", `"\x"`, false, false},
		{"short unicode escape", `"\u12"`, false, false},
		{"raw control character", "\"a\x01b\"", false, false},
		{"unterminated", `"abc`, false, false},
		{"non-ASCII", `"héllo ✓"`, true, false},
		{"invalid UTF-8", "\"a\xffb\"", true, true},
		{"NUL escape", `"a\u0000b"`, true, true},
		{"surrogate pair", `"\ud83d\ude00"`, true, false},
		{"lone high surrogate", `"\ud83dx"`, true, true},
		{"lone low surrogate", `"\ude00"`, true, true},
		{"unclean nested key", `{"a\u0000":1}`, true, true},
		{"trailing comma", `[1,]`, false, false},
		{"missing colon", `{"a" 1}`, false, false},
		{"non-string key", `{a:1}`, false, false},
		{"bad literal", `nul`, false, false},
		{"too deep", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), false, false},
		{"deepest allowed", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Scanner{Data: []byte(tt.in)}
			s.WS()
			ok := s.Skip(1)
			if ok {
				s.WS()
				ok = s.Pos == len(s.Data)
			}
			if ok != tt.ok {
				t.Fatalf("Skip(%q) = %v, want %v", tt.in, ok, tt.ok)
			}
			if tt.ok && s.Unclean != tt.unclean {
				t.Errorf("Skip(%q) Unclean = %v, want %v", tt.in, s.Unclean, tt.unclean)
			}
			// The fast paths must accept what encoding/json accepts (its
			// nesting limit is higher, so skip that case).
			if tt.name != "too deep" && json.Valid([]byte(tt.in)) != tt.ok {
				t.Errorf("json.Valid(%q) = %v, the table says %v", tt.in, !tt.ok, tt.ok)
			}
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`"ReportedAt":1`, "ReportedAt", true},
		{`"":1`, "", true},
		{`"a\"b":1`, "", false}, // escaped: could fold to a field name
		{`"ſ":1`, "", false},    // non-ASCII: folds to 's' in encoding/json
		{`"abc`, "", false},
		{`abc":1`, "", false},
	}
	for _, tt := range tests {
		s := Scanner{Data: []byte(tt.in)}
		got, ok := s.Key()
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("Key(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && tt.in[s.Pos] != ':' {
			t.Errorf("Key(%q) left Pos at %d, want just past the closing quote", tt.in, s.Pos)
		}
	}
}

func TestEqualFoldASCII(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, name string
		want      bool
	}{
		{"ID", "ID", true},
		{"id", "ID", true},
		{"reportedat", "ReportedAt", true},
		{"IDX", "ID", false},
		{"I", "ID", false},
		{"I[", "I{", false}, // only letters fold
	}
	for _, tt := range tests {
		if got := EqualFoldASCII([]byte(tt.key), tt.name); got != tt.want {
			t.Errorf("EqualFoldASCII(%q, %q) = %v, want %v", tt.key, tt.name, got, tt.want)
		}
	}
}

func TestPlainRun(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 17)
	tests := []struct {
		in   string
		from int
		want int
	}{
		{long, 0, 17},
		{long + `"`, 0, 17},
		{long + `\`, 3, 17},
		{"abc\x1fdef", 0, 3},
		{"abcdefghij\xc3\xa9", 0, 10},
		{"", 0, 0},
	}
	for _, tt := range tests {
		if got := PlainRun([]byte(tt.in), tt.from); got != tt.want {
			t.Errorf("PlainRun(%q, %d) = %d, want %d", tt.in, tt.from, got, tt.want)
		}
	}
}
