package transform

import (
	"strings"
	"unicode"
)

// Notes is what ParseNotes finds in a ticket's free-text ReportNotes. A nil
// field means the notes carry no usable line for it.
type Notes struct {
	RomHash         *string // lower-case 32 hex digits
	Emulator        *string
	EmulatorCore    *string
	EmulatorVersion *string
}

// ParseNotes extracts the lines the RetroAchievements clients append to a
// report's notes (see the package doc for the accepted forms). A label only
// counts at the start of a line, after optional whitespace. When a label
// occurs more than once the last usable occurrence wins, because the client
// appends its lines after whatever the user typed. The results are
// substrings of notes, so any Unicode survives untouched.
func ParseNotes(notes string) Notes {
	var f notesFinder
	for rest, more := notes, true; more; {
		var line string
		line, rest, more = cutLine(rest)
		f.line(line)
	}
	return f.result()
}

type notesFinder struct {
	hash, emulator, core, version          string
	hasHash, hasEmulator, hasCore, hasVers bool
}

func (f *notesFinder) line(line string) {
	l := strings.TrimLeftFunc(line, unicode.IsSpace)
	if len(l) < len("md5:") {
		return
	}
	// Cheap pre-filter: every label starts with r, m or e.
	switch l[0] | 0x20 {
	case 'r', 'm', 'e':
	default:
		return
	}
	if v, ok := cutLabel(l, "retroachievements hash"); ok {
		f.setHash(v)
	} else if v, ok := cutLabel(l, "md5"); ok {
		f.setHash(v)
	} else if v, ok := cutLabel(l, "emulator version"); ok {
		if v = strings.TrimSpace(v); v != "" {
			f.version, f.hasVers = v, true
		}
	} else if v, ok := cutLabel(l, "emulator used"); ok {
		f.setEmulator(v)
	} else if v, ok := cutLabel(l, "emulator"); ok {
		f.setEmulator(v)
	}
}

// setHash keeps the first word after the label when it is 32 hex digits.
func (f *notesFinder) setHash(v string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexFunc(v, unicode.IsSpace); i >= 0 {
		v = v[:i]
	}
	if len(v) != 32 {
		return
	}
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20 // ASCII lower-case; non-letters fail the test below
		if !(v[i] >= '0' && v[i] <= '9' || c >= 'a' && c <= 'f') {
			return
		}
	}
	f.hash, f.hasHash = strings.ToLower(v), true
}

// setEmulator splits "Name (core)": the name is the text before the last
// parenthesised group (nesting respected), the core is inside it.
func (f *notesFinder) setEmulator(v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	name, core, hasCore := v, "", false
	if end := strings.LastIndexByte(v, ')'); end >= 0 {
		depth := 0
	scan:
		for i := end; i >= 0; i-- {
			switch v[i] {
			case ')':
				depth++
			case '(':
				depth--
				if depth == 0 {
					name = strings.TrimSpace(v[:i])
					core = strings.TrimSpace(v[i+1 : end])
					hasCore = core != ""
					break scan
				}
			}
		}
	}
	f.emulator, f.hasEmulator = name, name != ""
	f.core, f.hasCore = core, hasCore
}

func (f *notesFinder) result() Notes {
	if !f.hasHash && !f.hasEmulator && !f.hasCore && !f.hasVers {
		return Notes{}
	}
	s := new([4]string) // one allocation for all four pointers
	var n Notes
	if f.hasHash {
		s[0] = f.hash
		n.RomHash = &s[0]
	}
	if f.hasEmulator {
		s[1] = f.emulator
		n.Emulator = &s[1]
	}
	if f.hasCore {
		s[2] = f.core
		n.EmulatorCore = &s[2]
	}
	if f.hasVers {
		s[3] = f.version
		n.EmulatorVersion = &s[3]
	}
	return n
}

// cutLabel matches label (lower-case ASCII) case-insensitively at the start
// of l, followed by optional spaces and a colon, and returns what follows the
// colon. "Emulator Version:" therefore never matches the label "emulator".
func cutLabel(l, label string) (string, bool) {
	if len(l) < len(label) {
		return "", false
	}
	for i := 0; i < len(label); i++ {
		c := l[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != label[i] {
			return "", false
		}
	}
	rest := strings.TrimLeft(l[len(label):], " \t")
	if !strings.HasPrefix(rest, ":") {
		return "", false
	}
	return rest[1:], true
}

// cutLine splits off the first line of s. Line breaks are "\n", "\r\n", "\r",
// <br>, <br/>, <br /> in any case, and the two-character text \n (also \r\n
// written out), which old clients stored instead of a real newline.
func cutLine(s string) (line, rest string, more bool) {
	for i := 0; ; {
		j := strings.IndexAny(s[i:], "\n\r<\\")
		if j < 0 {
			return s, "", false
		}
		j += i
		switch s[j] {
		case '\n':
			return s[:j], s[j+1:], true
		case '\r':
			if strings.HasPrefix(s[j:], "\r\n") {
				return s[:j], s[j+2:], true
			}
			return s[:j], s[j+1:], true
		case '\\':
			if strings.HasPrefix(s[j:], `\r\n`) {
				return s[:j], s[j+4:], true
			}
			if strings.HasPrefix(s[j:], `\n`) {
				return s[:j], s[j+2:], true
			}
		case '<':
			if n := brLen(s[j:]); n > 0 {
				return s[:j], s[j+n:], true
			}
		}
		i = j + 1
	}
}

// brLen returns the length of a <br> tag (<br>, <br/>, <br />, any case,
// any spacing) at the start of s, or 0.
func brLen(s string) int {
	if len(s) < 4 || s[0] != '<' || s[1]|0x20 != 'b' || s[2]|0x20 != 'r' {
		return 0
	}
	i := 3
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '/' {
		i++
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '>' {
		return i + 1
	}
	return 0
}
