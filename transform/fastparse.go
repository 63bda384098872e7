package transform

import (
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast path of Parse: one pass over the raw bytes that validates the
// JSON, fills the wire struct exactly as encoding/json would, and notes
// whether the bytes can go to jsonb unchanged. It exists because
// encoding/json (validate, then reflect into 20 Unmarshalers) cost ~20 µs
// per ticket, the single largest CPU cost of a sync.
//
// It handles the input the API actually sends. Anything unusual — invalid
// JSON, a member name that is escaped or not ASCII (it could match a field
// through Unicode case folding), nesting deeper than maxFastDepth — makes it
// give up, and Parse falls back to encoding/json, whose behaviour (and error
// text) stays the reference. FuzzFastMatchesSlow checks that both paths
// agree wherever the fast one answers.

// maxFastDepth bounds the nesting the fast path follows (encoding/json's own
// limit is 10000; deeper input goes to it).
const maxFastDepth = 256

// field indexes, in wire's order.
const (
	fID = iota
	fAchievementID
	fAchievementTitle
	fAchievementDesc
	fAchievementType
	fPoints
	fBadgeName
	fAchievementAuthor
	fGameID
	fConsoleName
	fGameTitle
	fGameIcon
	fReportedAt
	fReportType
	fHardcore
	fReportNotes
	fReportedBy
	fResolvedAt
	fResolvedBy
	fReportState
	numFields
)

var fieldNames = [numFields]string{
	"ID", "AchievementID", "AchievementTitle", "AchievementDesc", "AchievementType", "Points",
	"BadgeName", "AchievementAuthor", "GameID", "ConsoleName", "GameTitle", "GameIcon",
	"ReportedAt", "ReportType", "Hardcore", "ReportNotes", "ReportedBy", "ResolvedAt",
	"ResolvedBy", "ReportState",
}

func (w *wire) field(i int) *value {
	switch i {
	case fID:
		return &w.ID
	case fAchievementID:
		return &w.AchievementID
	case fAchievementTitle:
		return &w.AchievementTitle
	case fAchievementDesc:
		return &w.AchievementDesc
	case fAchievementType:
		return &w.AchievementType
	case fPoints:
		return &w.Points
	case fBadgeName:
		return &w.BadgeName
	case fAchievementAuthor:
		return &w.AchievementAuthor
	case fGameID:
		return &w.GameID
	case fConsoleName:
		return &w.ConsoleName
	case fGameTitle:
		return &w.GameTitle
	case fGameIcon:
		return &w.GameIcon
	case fReportedAt:
		return &w.ReportedAt
	case fReportType:
		return &w.ReportType
	case fHardcore:
		return &w.Hardcore
	case fReportNotes:
		return &w.ReportNotes
	case fReportedBy:
		return &w.ReportedBy
	case fResolvedAt:
		return &w.ResolvedAt
	case fResolvedBy:
		return &w.ResolvedBy
	case fReportState:
		return &w.ReportState
	}
	return nil
}

// fieldIndex matches a member name as encoding/json does for an ASCII name:
// exactly first, else ASCII case-insensitively. -1 when nothing matches.
func fieldIndex(key []byte) int {
	switch string(key) { // no allocation: the compiler compares in place
	case "ID":
		return fID
	case "AchievementID":
		return fAchievementID
	case "AchievementTitle":
		return fAchievementTitle
	case "AchievementDesc":
		return fAchievementDesc
	case "AchievementType":
		return fAchievementType
	case "Points":
		return fPoints
	case "BadgeName":
		return fBadgeName
	case "AchievementAuthor":
		return fAchievementAuthor
	case "GameID":
		return fGameID
	case "ConsoleName":
		return fConsoleName
	case "GameTitle":
		return fGameTitle
	case "GameIcon":
		return fGameIcon
	case "ReportedAt":
		return fReportedAt
	case "ReportType":
		return fReportType
	case "Hardcore":
		return fHardcore
	case "ReportNotes":
		return fReportNotes
	case "ReportedBy":
		return fReportedBy
	case "ResolvedAt":
		return fResolvedAt
	case "ResolvedBy":
		return fResolvedBy
	case "ReportState":
		return fReportState
	}
	for i, name := range fieldNames {
		if len(name) == len(key) && asciiEqualFold(key, name) {
			return i
		}
	}
	return -1
}

func asciiEqualFold(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
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

// plainString marks the bytes a JSON string can hold with nothing to check:
// not the quote, not a backslash, not a control character, ASCII.
var plainString = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// fastScanner is the state of one fast-path pass.
type fastScanner struct {
	data  []byte
	i     int
	clean bool // no invalid UTF-8 and no escape jsonb rejects
	// text collects the decoded strings of the modelled members; they become
	// one Go string at the end (one allocation per ticket, not one per
	// field). spans say where each member's text lies in it.
	text  []byte
	spans [numFields]struct{ lo, hi int }
}

// textPool recycles fastScanner.text between tickets.
var textPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// scanWire fills w from raw. ok is false when the fast path does not handle
// the input (see above); clean reports that raw can be stored as is.
func scanWire(raw []byte, w *wire) (clean, ok bool) {
	bp := textPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 { // do not keep a huge notes buffer alive
			textPool.Put(bp)
		}
	}()
	s := fastScanner{data: raw, clean: true, text: (*bp)[:0]}
	defer func() { *bp = s.text[:0] }()
	if !s.object(w) {
		return false, false
	}
	s.ws()
	if s.i != len(s.data) {
		return false, false
	}
	if len(s.text) > 0 {
		all := string(s.text)
		for f := range numFields {
			if v := w.field(f); v.kind == kindString {
				sp := s.spans[f]
				v.str = all[sp.lo:sp.hi]
			}
		}
	}
	return s.clean, true
}

func (s *fastScanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans the top-level object into w.
func (s *fastScanner) object(w *wire) bool {
	s.ws()
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		f := fieldIndex(key)
		if f < 0 {
			if !s.skip(1) {
				return false
			}
		} else if !s.member(f, w.field(f)) {
			return false
		}
		s.ws()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// key scans a member name; only plain ASCII names are handled.
func (s *fastScanner) key() ([]byte, bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	j := start
	for j < len(s.data) && plainString[s.data[j]] {
		j++
	}
	if j >= len(s.data) || s.data[j] != '"' {
		return nil, false // escaped, non-ASCII, control character or unterminated
	}
	s.i = j + 1
	return s.data[start:j], true
}

// member decodes one modelled member into v, as value.UnmarshalJSON would.
func (s *fastScanner) member(f int, v *value) bool {
	*v = value{} // a repeated member's last value wins, with nothing left over
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '"':
		lo := len(s.text)
		if !s.str(true) {
			return false
		}
		v.kind = kindString
		s.spans[f].lo, s.spans[f].hi = lo, len(s.text)
	case c == 'n':
		v.kind = kindNull
		return s.literal("null")
	case c == 't':
		v.kind, v.b = kindBool, true
		return s.literal("true")
	case c == 'f':
		v.kind = kindBool
		return s.literal("false")
	case c == '{':
		v.kind = kindObject
		return s.skip(1)
	case c == '[':
		v.kind = kindArray
		return s.skip(1)
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		if !s.number() {
			return false
		}
		b := s.data[start:s.i]
		v.kind = kindNumber
		v.num, v.numOK = parseInteger(b)
		if !v.numOK || !plainInteger(b) {
			v.str = string(b)
		}
	default:
		return false
	}
	return true
}

func (s *fastScanner) literal(lit string) bool {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// number scans a JSON number (RFC 8259 grammar).
func (s *fastScanner) number() bool {
	d, i := s.data, s.i
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
	s.i = i
	return true
}

// skip scans any JSON value without keeping it (depth is its nesting level).
func (s *fastScanner) skip(depth int) bool {
	if s.i >= len(s.data) || depth > maxFastDepth {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '"':
		return s.str(false)
	case c == 'n':
		return s.literal("null")
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == '{':
		s.i++
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == '}' {
			s.i++
			return true
		}
		for {
			// Member names of nested objects are any JSON string.
			if s.i >= len(s.data) || s.data[s.i] != '"' || !s.str(false) {
				return false
			}
			s.ws()
			if s.i >= len(s.data) || s.data[s.i] != ':' {
				return false
			}
			s.i++
			s.ws()
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.i >= len(s.data) {
				return false
			}
			switch s.data[s.i] {
			case ',':
				s.i++
				s.ws()
			case '}':
				s.i++
				return true
			default:
				return false
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.data) && s.data[s.i] == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			if s.i >= len(s.data) {
				return false
			}
			switch s.data[s.i] {
			case ',':
				s.i++
				s.ws()
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	}
	return false
}

// str scans a string literal starting at its opening quote, validating it
// and noting unstorable content; with keep it appends the decoded text to
// s.text, decoded exactly as encoding/json decodes it (invalid UTF-8 bytes
// and lone surrogates become U+FFFD, one per byte or escape).
func (s *fastScanner) str(keep bool) bool {
	d := s.data
	i := s.i + 1
	for {
		start := i
		for i < len(d) && plainString[d[i]] {
			i++
		}
		if keep {
			s.text = append(s.text, d[start:i]...)
		}
		if i >= len(d) {
			return false
		}
		c := d[i]
		switch {
		case c == '"':
			s.i = i + 1
			return true
		case c < 0x20:
			return false // encoding/json rejects raw control characters
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.clean = false
				if keep {
					s.text = utf8.AppendRune(s.text, utf8.RuneError)
				}
			} else if keep {
				s.text = append(s.text, d[i:i+size]...)
			}
			i += size
		default: // backslash
			if i+1 >= len(d) {
				return false
			}
			e := d[i+1]
			if e != 'u' {
				var out byte
				switch e {
				case '"', '\\', '/':
					out = e
				case 'b':
					out = '\b'
				case 'f':
					out = '\f'
				case 'n':
					out = '\n'
				case 'r':
					out = '\r'
				case 't':
					out = '\t'
				default:
					return false
				}
				if keep {
					s.text = append(s.text, out)
				}
				i += 2
				continue
			}
			r, ok := hex4(d, i+2)
			if !ok {
				return false
			}
			i += 6
			if r == 0 {
				s.clean = false
			}
			if utf16.IsSurrogate(r) {
				// A pair only when a high surrogate is followed by a
				// low one; anything else is U+FFFD and not storable.
				lo := rune(-1)
				if i+6 <= len(d) && d[i] == '\\' && d[i+1] == 'u' {
					if x, ok := hex4(d, i+2); ok {
						lo = x
					}
				}
				if dec := utf16.DecodeRune(r, lo); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
					s.clean = false
				}
			}
			if keep {
				s.text = utf8.AppendRune(s.text, r)
			}
		}
	}
}

// parseAPITime parses exactly "YYYY-MM-DD HH:MM:SS" with every field in
// range; ok is false for anything else, which then goes through time.Parse.
func parseAPITime(s string) (time.Time, bool) {
	if len(s) != len(apiTimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(lo, hi int) int {
		n := 0
		for i := lo; i < hi; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	if day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
