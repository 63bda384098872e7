package extract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// pageBody is the shape of a list (and game) response. Pointers to slices
// tell a missing or null list (wrong shape) from an empty one.
type pageBody struct {
	RecentTickets *[]jsontext.Value
	Tickets       *[]jsontext.Value
	OpenTickets   flexInt
}

// decodeOptions make go-json-experiment accept what the API may send and
// encoding/json accepted: member names in any case, a repeated member (the
// last one wins) and invalid UTF-8 in strings (transform replaces it).
var decodeOptions = []jsonv2.Options{
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// decodePage decodes a list (ModeList) or game (ModeGame) body. Any failure
// wraps ErrMalformedBody, which the client retries. Each ticket is copied
// into its own buffer by the decoder, so a Page never aliases the response
// buffer.
//
// Elements are kept whatever their JSON type: one odd element must not
// block the whole list forever through retries; transform reports it.
func decodePage(body []byte, mode string, offset int) (*Page, error) {
	var pb pageBody
	if err := jsonv2.Unmarshal(body, &pb, decodeOptions...); err != nil {
		return nil, malformed(err.Error(), body)
	}
	list, key := pb.RecentTickets, "RecentTickets"
	if mode == ModeGame {
		key = "Tickets"
		if pb.Tickets != nil {
			list = pb.Tickets
		}
	}
	if list == nil {
		return nil, malformed("no "+key+" array", body)
	}
	ot := -1
	if pb.OpenTickets.ok && pb.OpenTickets.v >= 0 && pb.OpenTickets.v <= math.MaxInt32 {
		ot = int(pb.OpenTickets.v)
	}
	tickets := make([]json.RawMessage, len(*list))
	for i, t := range *list {
		tickets[i] = json.RawMessage(t) // a copy: the decoder never aliases body
	}
	return &Page{Offset: offset, Tickets: tickets, OpenTickets: ot}, nil
}

// decodeTicket checks an i= body: a JSON object with an ID.
func decodeTicket(body []byte) (json.RawMessage, error) {
	var probe struct {
		ID jsontext.Value
	}
	if err := jsonv2.Unmarshal(body, &probe, decodeOptions...); err != nil {
		return nil, malformed(err.Error(), body)
	}
	if k := probe.ID.Kind(); k == 0 || k == 'n' { // missing or null
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
		str, err := jsontext.AppendUnquote(nil, b)
		if err != nil {
			return nil
		}
		s = strings.TrimSpace(string(str))
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

// sortKey is a ticket's position key in the open list, which the server
// orders by ReportedAt desc. ReportedAt is "YYYY-MM-DD HH:MM:SS", fixed
// width, so byte order is time order. The zero key means "no usable key".
type sortKey struct {
	at string
	id int64
}

// cmp is -1 when a sorts below (is older than) b.
func (a sortKey) cmp(b sortKey) int {
	return cmp.Or(strings.Compare(a.at, b.at), cmp.Compare(a.id, b.id))
}

// keyOf extracts a ticket's sort key; ok is false when ID (number or
// string) or ReportedAt is unusable. A ReportedAt that is no real time
// (MySQL's zero date, a garbled value) says nothing about the item's place:
// trusted as a key, an item sorting below its neighbours would make every
// later item look already seen and end a scan early, silently.
func keyOf(raw json.RawMessage) (sortKey, bool) {
	var v struct {
		ID         flexInt
		ReportedAt jsontext.Value
	}
	if err := jsonv2.Unmarshal(raw, &v, decodeOptions...); err != nil || !v.ID.ok || v.ReportedAt.Kind() != '"' {
		return sortKey{}, false
	}
	at, err := jsontext.AppendUnquote(nil, v.ReportedAt)
	if err != nil || !isListTime(string(at)) {
		return sortKey{}, false
	}
	return sortKey{at: string(at), id: v.ID.v}, true
}

// isListTime reports whether a ReportedAt is a real time in one of the
// forms the API sends ("2006-01-02 15:04:05", or RFC 3339 from newer
// server builds).
func isListTime(at string) bool {
	if _, err := time.Parse(time.DateTime, at); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, at)
	return err == nil
}
