package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
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
