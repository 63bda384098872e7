package extract

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pageBody is the shape of a list (and game) response. Pointers to slices
// tell a missing or null list (wrong shape) from an empty one.
type pageBody struct {
	RecentTickets *[]json.RawMessage `json:"RecentTickets"`
	Tickets       *[]json.RawMessage `json:"Tickets"`
	OpenTickets   flexInt            `json:"OpenTickets"`
}

// decodePage decodes a list (ModeList) or game (ModeGame) body. Any failure
// wraps ErrMalformedBody, which the client retries. Each ticket is copied
// into its own buffer by encoding/json (json.RawMessage.UnmarshalJSON
// copies), so a Page never aliases the response buffer.
//
// Elements are kept whatever their JSON type: one odd element must not
// block the whole list forever through retries; transform reports it.
func decodePage(body []byte, mode string, offset int) (*Page, error) {
	if p, ok := decodePageFast(body, mode, offset); ok {
		return p, nil
	}
	var pb pageBody
	if err := json.Unmarshal(body, &pb); err != nil {
		return nil, malformed(err.Error(), body)
	}
	list := pb.RecentTickets
	if mode == ModeGame && pb.Tickets != nil {
		list = pb.Tickets
	}
	if list == nil {
		key := "RecentTickets"
		if mode == ModeGame {
			key = "Tickets"
		}
		return nil, malformed("no "+key+" array", body)
	}
	ot := -1
	if pb.OpenTickets.ok && pb.OpenTickets.v >= 0 && pb.OpenTickets.v <= math.MaxInt32 {
		ot = int(pb.OpenTickets.v)
	}
	tickets := *list
	if tickets == nil {
		tickets = []json.RawMessage{}
	}
	return &Page{Offset: offset, Tickets: tickets, OpenTickets: ot}, nil
}

// decodeTicket checks an i= body: a JSON object with an ID.
func decodeTicket(body []byte) (json.RawMessage, error) {
	var probe struct {
		ID *json.RawMessage `json:"ID"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, malformed(err.Error(), body)
	}
	if probe.ID == nil {
		return nil, malformed("ticket object without ID", body)
	}
	return json.RawMessage(bytes.TrimSpace(body)), nil
}

// malformed builds an ErrMalformedBody error quoting the start of the body
// (the client redacts the key from every error before it leaves).
func malformed(why string, body []byte) error {
	const n = 64
	start := body
	if len(start) > n {
		start = start[:n]
	}
	return fmt.Errorf("%w: %s (%d bytes, starting %q)", ErrMalformedBody, why, len(body), start)
}

// flexInt decodes an integer sent as a JSON number or as a string (older
// servers quoted numbers). It never fails: an unusable value leaves ok
// false, so one odd field does not reject a whole page.
type flexInt struct {
	v  int64
	ok bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	*f = flexInt{}
	s := string(b)
	if len(s) > 0 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return nil
		}
		s = strings.TrimSpace(str)
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		f.v, f.ok = v, true
		return nil
	}
	// 12.0 or 1.2e1: accept exact integers within float64's exact range.
	if fl, err := strconv.ParseFloat(s, 64); err == nil && fl == math.Trunc(fl) && math.Abs(fl) <= 1<<53 {
		f.v, f.ok = int64(fl), true
	}
	return nil
}

// sortKey is a ticket's position key in the open list: the server orders
// by ReportedAt desc, then ID desc. ReportedAt is "YYYY-MM-DD HH:MM:SS",
// fixed width, so byte order is time order.
type sortKey struct {
	at string
	id int64
}

// cmp orders keys the way the list is sorted descending: -1 when a sorts
// below (is older than) b.
func (a sortKey) cmp(b sortKey) int {
	if c := strings.Compare(a.at, b.at); c != 0 {
		return c
	}
	switch {
	case a.id < b.id:
		return -1
	case a.id > b.id:
		return 1
	}
	return 0
}

// keyOf extracts a ticket's sort key; ok is false when ID (number or
// string) or ReportedAt (non-empty string) is unusable.
func keyOf(raw json.RawMessage) (sortKey, bool) {
	if k, ok, handled := keyOfFast(raw); handled {
		return k, ok
	}
	var v struct {
		ID         flexInt         `json:"ID"`
		ReportedAt json.RawMessage `json:"ReportedAt"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || !v.ID.ok {
		return sortKey{}, false
	}
	var at string
	if err := json.Unmarshal(v.ReportedAt, &at); err != nil || at == "" {
		return sortKey{}, false
	}
	return sortKey{at: at, id: v.ID.v}, true
}

// The fast paths below do in one pass what encoding/json does in two
// (validate, then decode through reflection), for the bodies the API
// actually sends. They give up (ok false) on anything unusual — invalid
// JSON, an escaped or non-ASCII member name (it could match through Unicode
// case folding), a repeated list member, nesting deeper than maxFastDepth —
// and the encoding/json path above then decides, so behaviour and error
// text are unchanged. FuzzFastDecode checks that both agree.

// maxFastDepth bounds the nesting the fast scanner follows.
const maxFastDepth = 256

// decodePageFast is decodePage for well-formed bodies. The tickets are
// copied into one fresh buffer (one allocation per page instead of one per
// ticket), each with its capacity capped so that an append to one cannot
// write into the next; nothing aliases body.
func decodePageFast(body []byte, mode string, offset int) (*Page, bool) {
	s := jscan{d: body}
	s.ws()
	if !s.is('{') {
		return nil, false
	}
	s.i++
	var (
		recent, games    [][2]int // element spans in body
		hasRecent, hasGm bool     // the member was present with an array
		seenRecent, seen bool     // the member was present at all
		ot               flexInt
		total            int
	)
	s.ws()
	if s.is('}') {
		s.i++
	} else {
		for {
			key, ok := s.key()
			if !ok || !s.colon() {
				return nil, false
			}
			switch {
			case asciiFold(key, "RecentTickets"), asciiFold(key, "Tickets"):
				isRecent := len(key) == len("RecentTickets")
				if isRecent && seenRecent || !isRecent && seen {
					return nil, false // repeated: leave the merge rules to encoding/json
				}
				var spans [][2]int
				present := false
				switch {
				case s.is('['):
					var ok bool
					spans, ok = s.array(&total)
					if !ok {
						return nil, false
					}
					present = true
				case s.lit("null"):
				default:
					return nil, false // wrong type: encoding/json words the error
				}
				if isRecent {
					recent, hasRecent, seenRecent = spans, present, true
				} else {
					games, hasGm, seen = spans, present, true
				}
			case asciiFold(key, "OpenTickets"):
				start := s.i
				if !s.skip(1) {
					return nil, false
				}
				_ = ot.UnmarshalJSON(body[start:s.i]) // never fails
			default:
				if !s.skip(1) {
					return nil, false
				}
			}
			s.ws()
			switch {
			case s.is(','):
				s.i++
				s.ws()
				continue
			case s.is('}'):
				s.i++
			default:
				return nil, false
			}
			break
		}
	}
	s.ws()
	if s.i != len(body) {
		return nil, false
	}
	spans, has := recent, hasRecent
	if mode == ModeGame && hasGm {
		spans, has = games, true
	}
	if !has {
		return nil, false // the slow path words the error
	}
	buf := make([]byte, 0, total)
	tickets := make([]json.RawMessage, len(spans))
	for i, sp := range spans {
		lo := len(buf)
		buf = append(buf, body[sp[0]:sp[1]]...)
		tickets[i] = buf[lo:len(buf):len(buf)]
	}
	otv := -1
	if ot.ok && ot.v >= 0 && ot.v <= math.MaxInt32 {
		otv = int(ot.v)
	}
	return &Page{Offset: offset, Tickets: tickets, OpenTickets: otv}, true
}

// keyOfFast is keyOf for well-formed tickets with plain member names.
func keyOfFast(raw []byte) (k sortKey, ok, handled bool) {
	s := jscan{d: raw}
	s.ws()
	if !s.is('{') {
		return sortKey{}, false, false
	}
	s.i++
	var (
		id       flexInt
		at       []byte // the ReportedAt value as sent
		hasAt    bool
		hasIDKey bool
	)
	s.ws()
	if s.is('}') {
		s.i++
	} else {
		for {
			key, ok := s.key()
			if !ok || !s.colon() {
				return sortKey{}, false, false
			}
			start := s.i
			if !s.skip(1) {
				return sortKey{}, false, false
			}
			switch {
			case asciiFold(key, "ID"):
				_ = id.UnmarshalJSON(raw[start:s.i])
				hasIDKey = true
			case asciiFold(key, "ReportedAt"):
				at, hasAt = raw[start:s.i], true
			}
			s.ws()
			switch {
			case s.is(','):
				s.i++
				s.ws()
				continue
			case s.is('}'):
				s.i++
			default:
				return sortKey{}, false, false
			}
			break
		}
	}
	s.ws()
	if s.i != len(raw) {
		return sortKey{}, false, false
	}
	if !hasIDKey || !id.ok || !hasAt || len(at) < 3 || at[0] != '"' {
		return sortKey{}, false, true // missing, null, "" or not a string
	}
	inner := at[1 : len(at)-1]
	var str string
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		str = string(inner)
	} else if err := json.Unmarshal(at, &str); err != nil || str == "" {
		return sortKey{}, false, true
	}
	return sortKey{at: str, id: id.v}, true, true
}

// asciiFold reports whether key matches name as encoding/json matches an
// ASCII member name to a field: exactly or ASCII case-insensitively.
func asciiFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range key {
		x, y := key[i], name[i]
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

// jscan is a minimal validating JSON scanner.
type jscan struct {
	d []byte
	i int
}

func (s *jscan) is(c byte) bool { return s.i < len(s.d) && s.d[s.i] == c }

func (s *jscan) lit(l string) bool {
	if len(s.d)-s.i >= len(l) && string(s.d[s.i:s.i+len(l)]) == l {
		s.i += len(l)
		return true
	}
	return false
}

func (s *jscan) ws() {
	for s.i < len(s.d) {
		switch s.d[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// colon consumes ':' and the whitespace around it.
func (s *jscan) colon() bool {
	s.ws()
	if !s.is(':') {
		return false
	}
	s.i++
	s.ws()
	return true
}

// key scans a plain ASCII member name (no escapes).
func (s *jscan) key() ([]byte, bool) {
	if !s.is('"') {
		return nil, false
	}
	start := s.i + 1
	j := plainRun(s.d, start)
	if j >= len(s.d) || s.d[j] != '"' {
		return nil, false
	}
	s.i = j + 1
	return s.d[start:j], true
}

// array scans an array, returning each element's span; total sums their
// lengths.
func (s *jscan) array(total *int) ([][2]int, bool) {
	s.i++ // '['
	s.ws()
	spans := make([][2]int, 0, MaxPageSize)
	if s.is(']') {
		s.i++
		return spans, true
	}
	for {
		start := s.i
		if !s.skip(2) {
			return nil, false
		}
		spans = append(spans, [2]int{start, s.i})
		*total += s.i - start
		s.ws()
		switch {
		case s.is(','):
			s.i++
			s.ws()
		case s.is(']'):
			s.i++
			return spans, true
		default:
			return nil, false
		}
	}
}

// skip scans one value of any type.
func (s *jscan) skip(depth int) bool {
	if s.i >= len(s.d) || depth > maxFastDepth {
		return false
	}
	switch c := s.d[s.i]; {
	case c == '"':
		return s.str()
	case c == 'n':
		return s.lit("null")
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == '{':
		s.i++
		s.ws()
		if s.is('}') {
			s.i++
			return true
		}
		for {
			if !s.is('"') || !s.str() || !s.colon() || !s.skip(depth+1) {
				return false
			}
			s.ws()
			switch {
			case s.is(','):
				s.i++
				s.ws()
			case s.is('}'):
				s.i++
				return true
			default:
				return false
			}
		}
	case c == '[':
		s.i++
		s.ws()
		if s.is(']') {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			s.ws()
			switch {
			case s.is(','):
				s.i++
				s.ws()
			case s.is(']'):
				s.i++
				return true
			default:
				return false
			}
		}
	}
	return false
}

// str validates a string literal as encoding/json's scanner does (escapes
// well-formed, no raw control characters; UTF-8 is not checked).
func (s *jscan) str() bool {
	d := s.d
	i := s.i + 1
	for {
		i = plainRun(d, i)
		if i >= len(d) {
			return false
		}
		switch c := d[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			i++ // non-ASCII: passed through as encoding/json does
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// number scans a JSON number (RFC 8259 grammar).
func (s *jscan) number() bool {
	d, i := s.d, s.i
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

// plainRun returns the index of the first byte at or after i that is a
// quote, a backslash, a control character or not ASCII (len(d) if none),
// eight bytes at a time.
func plainRun(d []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i:])
		q := x ^ (ones * '"')
		b := x ^ (ones * '\\')
		// A byte is special when it is < 0x20, equals '"' or '\\', or has
		// its high bit set; the classic "has a zero byte" test on each.
		special := ((x - ones*0x20) &^ x) | ((q - ones) &^ q) | ((b - ones) &^ b) | x
		if special&high != 0 {
			break
		}
	}
	for i < len(d) && plainByte[d[i]] {
		i++
	}
	return i
}

var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
