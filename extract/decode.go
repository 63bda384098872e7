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

// decodeOptions make go-json-experiment accept what the API may send and
// encoding/json accepted: member names in any case, a repeated member (the
// last one wins) and invalid UTF-8 in strings (transform replaces it).
var decodeOptions = []jsonv2.Options{
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// decodePage decodes a list or game body; any failure wraps
// ErrMalformedBody (retried). The decoder copies each ticket, so a Page
// never aliases the body. Elements are kept whatever their JSON type: one
// odd element must not block the list forever through retries; transform
// reports it.
func decodePage(body []byte, mode string, offset int) (*Page, error) {
	var pb struct { // pointers tell a missing or null list (wrong shape) from an empty one
		RecentTickets, Tickets *[]jsontext.Value
		OpenTickets            jsontext.Value
	}
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
	if n, ok := intOf(pb.OpenTickets); ok && n >= 0 && n <= math.MaxInt32 {
		ot = int(n)
	}
	tickets := make([]json.RawMessage, len(*list))
	for i, t := range *list {
		tickets[i] = json.RawMessage(t) // a copy: the decoder never aliases body
	}
	return &Page{Offset: offset, Tickets: tickets, OpenTickets: ot}, nil
}

// decodeTicket checks an i= body: a JSON object with an ID.
func decodeTicket(body []byte) (json.RawMessage, error) {
	var probe struct{ ID jsontext.Value }
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
	start := body[:min(len(body), 64)]
	return fmt.Errorf("%w: %s (%d bytes, starting %q)", ErrMalformedBody, why, len(body), start)
}

// intOf reads an integer sent as a JSON number or string (older servers
// quoted numbers), 12.0 and 1.2e1 included within float64's exact range.
// An unusable value is no error: one odd field must not reject a page.
func intOf(v jsontext.Value) (int64, bool) {
	s := string(v)
	if v.Kind() == '"' {
		u, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return 0, false
		}
		s = strings.TrimSpace(string(u))
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return int64(f), err == nil && f == math.Trunc(f) && math.Abs(f) <= 1<<53
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
	var v struct{ ID, ReportedAt jsontext.Value }
	if err := jsonv2.Unmarshal(raw, &v, decodeOptions...); err != nil || v.ReportedAt.Kind() != '"' {
		return sortKey{}, false
	}
	id, ok := intOf(v.ID)
	at, err := jsontext.AppendUnquote(nil, v.ReportedAt)
	if !ok || err != nil || !isListTime(string(at)) {
		return sortKey{}, false
	}
	return sortKey{at: string(at), id: id}, true
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
