package fakeapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// siteURL is the origin the real server puts in its "URL" fields.
const siteURL = "https://retroachievements.org"

// timeLayout is how the server (Carbon's __toString) prints timestamps.
const timeLayout = "2006-01-02 15:04:05"

// Legacy ReportState codes, as the V1 API sends them.
const (
	StateClosed      = 0
	StateOpen        = 1
	StateResolved    = 2
	StateRequest     = 3
	StateQuarantined = 4
)

// Legacy ReportType codes.
const (
	TypeTriggeredAtWrongTime = 1
	TypeDidNotTrigger        = 2
)

// stateLabels mirrors RAWeb's TicketState::label() (an unknown code gets the
// old toString's "Invalid state"), typeLabels TicketType::toString.
var (
	stateLabels = map[int]string{StateClosed: "Closed", StateOpen: "Open", StateResolved: "Resolved",
		StateRequest: "Request", StateQuarantined: "Pending Review"}
	typeLabels = map[int]string{TypeTriggeredAtWrongTime: "Triggered at the wrong time",
		TypeDidNotTrigger: "Did not trigger"}
)

func isOpenState(state int) bool { return state == StateOpen || state == StateRequest }

// isResolvedState is TicketState::isResolved: only these set ResolvedAt.
func isResolvedState(state int) bool { return state == StateResolved || state == StateClosed }

// field is one member of an object.
type field struct {
	key string
	val any
}

// object is a JSON object whose members keep their order, as a PHP array's
// do: the key order of every answer is part of what a consumer sees.
type object []field

// renderV1 renders t as an element of RecentTickets or Tickets, in the order
// RAWeb's $getTicketsInfo builds it, or with single as the i= answer:
// getTicket()'s SELECT columns, then the descriptions and URL the endpoint
// appends. A ULID follows the user name it belongs to.
func renderV1(t *Ticket, single bool) []byte {
	var resolvedAt any // null
	if t.ResolvedAt != nil {
		resolvedAt = t.ResolvedAt.UTC().Format(timeLayout)
	}
	o := object{
		{"ID", t.ID},
		{"AchievementID", t.AchievementID},
		{"AchievementTitle", t.AchievementTitle},
		{"AchievementDesc", t.AchievementDesc},
		{"AchievementType", t.AchievementType},
		{"Points", t.Points},
		{"BadgeName", t.BadgeName},
		{"AchievementAuthor", t.AchievementAuthor},
		{"AchievementAuthorULID", t.AchievementAuthorULID},
		{"GameID", t.GameID},
		{"ConsoleName", t.ConsoleName},
		{"GameTitle", t.GameTitle},
		{"GameIcon", t.GameIcon},
		{"ReportedAt", t.ReportedAt.UTC().Format(timeLayout)},
		{"ReportType", t.ReportType},
	}
	people := object{
		{"ReportNotes", t.ReportNotes},
		{"ReportedBy", t.ReportedBy},
		{"ReportedByULID", t.ReportedByULID},
		{"ResolvedAt", resolvedAt},
		{"ResolvedBy", t.ResolvedBy},
		{"ResolvedByULID", t.ResolvedByULID},
	}
	typeDesc := field{"ReportTypeDescription", cmp.Or(typeLabels[t.ReportType], "Invalid ticket type")}
	state := field{"ReportState", t.ReportState}
	stateDesc := field{"ReportStateDescription", cmp.Or(stateLabels[t.ReportState], "Invalid state")}
	hardcore := field{"Hardcore", t.Hardcore}
	if single {
		url := field{"URL", siteURL + "/ticket/" + strconv.FormatInt(t.ID, 10)}
		return phpJSON(slices.Concat(o, object{state, hardcore}, people, object{stateDesc, typeDesc, url}))
	}
	return phpJSON(slices.Concat(o, object{typeDesc}, people, object{state, stateDesc, hardcore}))
}

// phpJSON renders o as PHP's json_encode does by default, so consumers see
// the site's escapes: "/" as "\/", non-ASCII as \uXXXX (surrogate pairs
// above the BMP), HTML characters left alone.
func phpJSON(o object) []byte {
	b, err := o.MarshalJSON()
	if err != nil { // only our own plain values reach encoding/json
		panic("fakeapi: marshal: " + err.Error())
	}
	return phpEscape(b)
}

// MarshalJSON writes the members in order, HTML characters unescaped;
// encoding/json calls it for nested objects and lists of them.
func (o object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`"` + f.key + `":`)
		if err := enc.Encode(f.val); err != nil {
			return nil, err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// phpEscape rewrites Go JSON output into PHP's default escaping. It relies on
// encoding/json never emitting "\/" or raw non-ASCII outside strings, so any
// '/' or non-ASCII character is string content.
func phpEscape(src []byte) []byte {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(src)+len(src)/8)
	for _, r := range string(src) {
		switch {
		case r == '/':
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		default:
			var pair [2]uint16
			for _, u := range utf16.AppendRune(pair[:0], r) {
				out = append(out, '\\', 'u', hex[u>>12], hex[u>>8&0xF], hex[u>>4&0xF], hex[u&0xF])
			}
		}
	}
	return out
}
