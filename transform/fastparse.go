package transform

import (
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ratickets/ratickets/internal/jsonscan"
)

// The fast path of Parse: one pass over the raw bytes that validates the
// JSON, fills the wire struct exactly as encoding/json would, and notes
// whether the bytes can go to jsonb unchanged. It exists because
// encoding/json (validate, then reflect into 20 Unmarshalers) cost ~20 µs
// per ticket, the single largest CPU cost of a sync.
//
// It handles the input the API actually sends. Anything unusual — invalid
// JSON, a member name that is escaped or not ASCII (it could match a field
// through Unicode case folding), nesting deeper than jsonscan.MaxDepth — makes it
// give up, and Parse falls back to encoding/json, whose behaviour (and error
// text) stays the reference. FuzzFastMatchesSlow checks that both paths
// agree wherever the fast one answers.

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
		if jsonscan.EqualFoldASCII(key, name) {
			return i
		}
	}
	return -1
}

// fastScanner is the state of one fast-path pass.
type fastScanner struct {
	// Unclean: invalid UTF-8 or an escape jsonb rejects was seen.
	jsonscan.Scanner
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
	s := fastScanner{Scanner: jsonscan.Scanner{Data: raw}, text: (*bp)[:0]}
	defer func() { *bp = s.text[:0] }()
	if !s.object(w) {
		return false, false
	}
	s.WS()
	if s.Pos != len(s.Data) {
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
	return !s.Unclean, true
}

// object scans the top-level object into w.
func (s *fastScanner) object(w *wire) bool {
	return s.Object(func(key []byte) bool {
		if f := fieldIndex(key); f >= 0 {
			return s.member(f, w.field(f))
		}
		return s.Skip(1)
	})
}

// member decodes one modelled member into v, as value.UnmarshalJSON would.
func (s *fastScanner) member(f int, v *value) bool {
	*v = value{} // a repeated member's last value wins, with nothing left over
	if s.Pos >= len(s.Data) {
		return false
	}
	switch c := s.Data[s.Pos]; {
	case c == '"':
		lo := len(s.text)
		if !s.decodeStr() {
			return false
		}
		v.kind = kindString
		s.spans[f].lo, s.spans[f].hi = lo, len(s.text)
	case c == 'n':
		v.kind = kindNull
		return s.Lit("null")
	case c == 't':
		v.kind, v.b = kindBool, true
		return s.Lit("true")
	case c == 'f':
		v.kind = kindBool
		return s.Lit("false")
	case c == '{':
		v.kind = kindObject
		return s.Skip(1)
	case c == '[':
		v.kind = kindArray
		return s.Skip(1)
	case c == '-' || c >= '0' && c <= '9':
		start := s.Pos
		if !s.Number() {
			return false
		}
		b := s.Data[start:s.Pos]
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

// decodeStr is jsonscan.Scanner.Str that also appends the decoded text to
// s.text, decoded exactly as encoding/json decodes it (invalid UTF-8 bytes
// and lone surrogates become U+FFFD, one per byte or escape). It accepts
// and rejects exactly what Str does and sets Unclean the same way.
func (s *fastScanner) decodeStr() bool {
	d := s.Data
	i := s.Pos + 1
	for {
		start := i
		i = jsonscan.PlainRun(d, i)
		s.text = append(s.text, d[start:i]...)
		if i >= len(d) {
			return false
		}
		c := d[i]
		switch {
		case c == '"':
			s.Pos = i + 1
			return true
		case c < 0x20:
			return false // encoding/json rejects raw control characters
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				s.Unclean = true
				s.text = utf8.AppendRune(s.text, utf8.RuneError)
			} else {
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
				s.text = append(s.text, out)
				i += 2
				continue
			}
			r, ok := jsonscan.Hex4(d, i+2)
			if !ok {
				return false
			}
			i += 6
			if r == 0 {
				s.Unclean = true
			}
			if utf16.IsSurrogate(r) {
				// A pair only when a high surrogate is followed by a
				// low one; anything else is U+FFFD and not storable.
				if dec, ok := jsonscan.LowSurrogate(d, i, r); ok {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
					s.Unclean = true
				}
			}
			s.text = utf8.AppendRune(s.text, r)
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
