package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ratickets/ratickets/internal/jsonscan"
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
// case folding), a repeated list member, nesting deeper than jsonscan.MaxDepth —
// and the encoding/json path above then decides, so behaviour and error
// text are unchanged. FuzzFastDecode checks that both agree.

// decodePageFast is decodePage for well-formed bodies. The tickets are
// copied into one fresh buffer (one allocation per page instead of one per
// ticket), each with its capacity capped so that an append to one cannot
// write into the next; nothing aliases body.
func decodePageFast(body []byte, mode string, offset int) (*Page, bool) {
	s := jscan{jsonscan.Scanner{Data: body}}
	var (
		recent, games    [][2]int // element spans in body
		hasRecent, hasGm bool     // the member was present with an array
		seenRecent, seen bool     // the member was present at all
		ot               flexInt
		total            int
	)
	wellFormed := s.Object(func(key []byte) bool {
		switch {
		case jsonscan.EqualFoldASCII(key, "RecentTickets"), jsonscan.EqualFoldASCII(key, "Tickets"):
			isRecent := len(key) == len("RecentTickets")
			if isRecent && seenRecent || !isRecent && seen {
				return false // repeated: leave the merge rules to encoding/json
			}
			var spans [][2]int
			present := false
			switch {
			case s.Is('['):
				var ok bool
				spans, ok = s.array(&total)
				if !ok {
					return false
				}
				present = true
			case s.Lit("null"):
			default:
				return false // wrong type: encoding/json words the error
			}
			if isRecent {
				recent, hasRecent, seenRecent = spans, present, true
			} else {
				games, hasGm, seen = spans, present, true
			}
		case jsonscan.EqualFoldASCII(key, "OpenTickets"):
			start := s.Pos
			if !s.Skip(1) {
				return false
			}
			_ = ot.UnmarshalJSON(body[start:s.Pos]) // never fails
		default:
			return s.Skip(1)
		}
		return true
	})
	if !wellFormed {
		return nil, false
	}
	s.WS()
	if s.Pos != len(body) {
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
	s := jscan{jsonscan.Scanner{Data: raw}}
	var (
		id       flexInt
		at       []byte // the ReportedAt value as sent
		hasAt    bool
		hasIDKey bool
	)
	wellFormed := s.Object(func(key []byte) bool {
		start := s.Pos
		if !s.Skip(1) {
			return false
		}
		switch {
		case jsonscan.EqualFoldASCII(key, "ID"):
			_ = id.UnmarshalJSON(raw[start:s.Pos])
			hasIDKey = true
		case jsonscan.EqualFoldASCII(key, "ReportedAt"):
			at, hasAt = raw[start:s.Pos], true
		}
		return true
	})
	if !wellFormed {
		return sortKey{}, false, false
	}
	s.WS()
	if s.Pos != len(raw) {
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

// jscan is the shared validating scanner plus the one shape only a page
// needs: an array whose element spans are kept.
type jscan struct {
	jsonscan.Scanner
}

// array scans an array, returning each element's span; total sums their
// lengths.
func (s *jscan) array(total *int) ([][2]int, bool) {
	s.Pos++ // '['
	s.WS()
	spans := make([][2]int, 0, MaxPageSize)
	if s.Is(']') {
		s.Pos++
		return spans, true
	}
	for {
		start := s.Pos
		if !s.Skip(2) {
			return nil, false
		}
		spans = append(spans, [2]int{start, s.Pos})
		*total += s.Pos - start
		s.WS()
		switch {
		case s.Is(','):
			s.Pos++
			s.WS()
		case s.Is(']'):
			s.Pos++
			return spans, true
		default:
			return nil, false
		}
	}
}
