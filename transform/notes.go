package transform

import (
	"regexp"
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

// lineBreak matches what separates lines in notes: "\n", "\r\n", "\r",
// <br>, <br/>, <br /> in any case, and the two characters \n (also \r\n
// written out), which old clients stored instead of a real newline.
var lineBreak = regexp.MustCompile(`\r\n?|\n|<(?i:br)[ \t]*/?[ \t]*>|\\r\\n|\\n`)

// hash32 is a ROM hash: the first word after its label.
var hash32 = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// ParseNotes extracts the lines the RetroAchievements clients append to a
// report's notes (see the package doc for the accepted forms). A label only
// counts at the start of a line, after optional whitespace. When a label
// occurs more than once the last usable occurrence wins, because the client
// appends its lines after whatever the user typed. The results are
// substrings of notes, so any Unicode survives untouched.
func ParseNotes(notes string) Notes {
	var n Notes
	var lines []string
	if strings.ContainsAny(notes, "\r<\\") {
		lines = lineBreak.Split(notes, -1)
	} else {
		lines = strings.Split(notes, "\n") // the usual case, without the slower regexp
	}
	for _, line := range lines {
		line = strings.TrimLeftFunc(line, unicode.IsSpace)
		if v, ok := cutLabel(line, "retroachievements hash", "md5"); ok {
			if words := strings.Fields(v); len(words) > 0 && hash32.MatchString(words[0]) {
				hash := strings.ToLower(words[0])
				n.RomHash = &hash
			}
		} else if v, ok := cutLabel(line, "emulator version"); ok {
			if v = strings.TrimSpace(v); v != "" {
				n.EmulatorVersion = &v
			}
		} else if v, ok := cutLabel(line, "emulator used", "emulator"); ok {
			n.setEmulator(strings.TrimSpace(v))
		}
	}
	return n
}

// setEmulator splits "Name (core)": the name is the text before the last
// parenthesised group (nesting respected), the core is inside it.
func (n *Notes) setEmulator(v string) {
	if v == "" {
		return
	}
	name, core := v, ""
	if end := strings.LastIndexByte(v, ')'); end >= 0 {
		depth := 0
		for i := end; i >= 0; i-- {
			if v[i] == ')' {
				depth++
			} else if v[i] == '(' {
				if depth--; depth == 0 {
					name, core = strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:end])
					break
				}
			}
		}
	}
	n.Emulator, n.EmulatorCore = nonEmpty(name), nonEmpty(core)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// cutLabel matches one of labels (ASCII) case-insensitively at
// the start of l, followed by optional spaces and a colon, and returns what
// follows the colon. "Emulator Version:" therefore never matches the label
// "emulator".
func cutLabel(l string, labels ...string) (string, bool) {
	for _, label := range labels {
		if len(l) < len(label) || !strings.EqualFold(l[:len(label)], label) {
			continue
		}
		if rest, ok := strings.CutPrefix(strings.TrimLeft(l[len(label):], " \t"), ":"); ok {
			return rest, true
		}
	}
	return "", false
}
