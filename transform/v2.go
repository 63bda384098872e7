package transform

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// # The v2 API
//
// ParseV2 maps one resource object of the v2 tickets API
// ({"type":"tickets","id":"…","attributes":{…}}) to the same Ticket:
//
//	v2 member                      Ticket field                 rule
//	id                             ID                           required, positive ("123" or 123)
//	attributes.state               ReportState(Code)            required; legacy codes closed 0, open 1,
//	                                                            resolved 2, request 3, quarantined 4
//	attributes.type                ReportType(Code)             required; triggered_at_wrong_time 1,
//	                                                            did_not_trigger 2; leaderboard types
//	                                                            have no code (Lacks FieldReportTypeCode)
//	attributes.body                ReportNotes                  optional text; hash/emulator lines parsed
//	attributes.hardcore            Hardcore                     true, false or null
//	attributes.reportedAt          ReportedAt                   required ISO 8601, to UTC
//	attributes.resolvedAt          ResolvedAt                   optional ISO 8601, to UTC
//	attributes.ticketableType      TicketableType               required: achievement or leaderboard
//	attributes.ticketableId        AchievementID/LeaderboardID  by ticketableType
//	attributes.ticketableTitle     AchievementTitle/LeaderboardTitle
//	attributes.authorDisplayName   AchievementAuthor            achievements only (stays in Raw otherwise)
//	attributes.gameId, gameTitle   GameID, GameTitle
//	attributes.gameIconUrl         GameIcon                     "/Images/x.png" as v1 sends it
//	attributes.systemName          ConsoleName
//	attributes.reporterDisplayName ReportedBy
//	attributes.resolverDisplayName ResolvedBy
//
// The achievement columns stay nil for a leaderboard ticket. An unknown
// state or type string is kept as StateUnknown / TypeUnknown (the string
// stays in Raw) without a legacy code. Raw is the resource object; Source is
// SourceV2.
//
// v2 lacks what v1 has in AchievementDescription, Points, BadgeName,
// AchievementType, the user ULIDs and the description strings: Lacks says
// so, and a merge into a row first written from v1 must keep those values
// (and their absence must not make a history version).

// Source is the API a record came from.
type Source uint8

const (
	SourceV1 Source = iota // API_GetTicketData (the zero value)
	SourceV2               // /api/v2/tickets
)

func (s Source) String() string {
	if s == SourceV2 {
		return "v2"
	}
	return "v1"
}

// TicketableType is what a ticket is about; its values are the labels of
// the ticketable_type column.
type TicketableType string

const (
	TicketableAchievement TicketableType = "achievement"
	TicketableLeaderboard TicketableType = "leaderboard"
)

// Kind is the ticket's TicketableType, achievement for a v1 record (v1 only
// knows achievement tickets).
func (t *Ticket) Kind() TicketableType {
	if t.TicketableType == "" {
		return TicketableAchievement
	}
	return t.TicketableType
}

// Leaderboard ticket types (v2 only; no legacy code).
const (
	TypeDidNotStart         ReportType = "did_not_start"
	TypeDidNotCancel        ReportType = "did_not_cancel"
	TypeDidNotSubmit        ReportType = "did_not_submit"
	TypeSubmittedWrongValue ReportType = "submitted_wrong_value"
)

// Field is a set of Ticket values a source may not carry (Ticket.Lacks).
type Field uint16

const (
	FieldAchievementDescription Field = 1 << iota // AchievementDescription
	FieldPoints                                   // Points
	FieldBadgeName                                // BadgeName
	FieldAchievementType                          // AchievementType
	FieldReportTypeCode                           // ReportTypeCode: no legacy code (store NULL)
	FieldReportStateCode                          // ReportStateCode: an unknown v2 state has none
	FieldULIDs                                    // the users' ULIDs (v1 Raw only)
	FieldDescriptions                             // ReportStateDescription/ReportTypeDescription (v1 Raw only)
)

// V2Lacks is what no v2 record carries.
const V2Lacks = FieldAchievementDescription | FieldPoints | FieldBadgeName | FieldAchievementType | FieldULIDs | FieldDescriptions

// Carries reports whether the record carries every field of f; false means
// its value in t says nothing and a stored value must be kept.
func (t *Ticket) Carries(f Field) bool { return t.Lacks&f == 0 }

// V2StateCodes maps v2 state names to legacy codes.
var V2StateCodes = map[string]int16{"closed": 0, "open": 1, "resolved": 2, "request": 3, "quarantined": 4}

// V2TypeFromName maps a v2 type name to its label and legacy code; ok is
// false when there is no legacy code (leaderboard and unknown types).
func V2TypeFromName(name string) (typ ReportType, code int16, ok bool) {
	switch name {
	case "triggered_at_wrong_time":
		return TypeTriggeredAtWrongTime, 1, true
	case "did_not_trigger":
		return TypeDidNotTrigger, 2, true
	case "did_not_start":
		return TypeDidNotStart, 0, false
	case "did_not_cancel":
		return TypeDidNotCancel, 0, false
	case "did_not_submit":
		return TypeDidNotSubmit, 0, false
	case "submitted_wrong_value":
		return TypeSubmittedWrongValue, 0, false
	}
	return TypeUnknown, 0, false
}

// v2Parser reads attribute members and keeps the first failure.
type v2Parser struct {
	attrs map[string]json.RawMessage
	id    int64
	err   *RecordError
}

func (p *v2Parser) fail(field, reason string) {
	if p.err != nil {
		return
	}
	p.err = &RecordError{Field: field, Reason: reason}
	if p.id > 0 {
		id := p.id
		p.err.TicketID = &id
	}
}

// get returns a member's raw value, nil when missing or null.
func (p *v2Parser) get(name string) json.RawMessage {
	v, ok := p.attrs[name]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil
	}
	return v
}

func (p *v2Parser) text(name string) *string {
	v := p.get(name)
	if v == nil || p.err != nil {
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		p.fail(name, "expected a string, got "+v2Snippet(v))
		return nil
	}
	s = StripNUL(s)
	return &s
}

func (p *v2Parser) reqText(name string) string {
	s := p.text(name)
	if s == nil && p.err == nil {
		p.fail(name, "missing")
		return ""
	}
	if s == nil {
		return ""
	}
	return *s
}

// v2Snippet shows at most 40 bytes of a bad value in a reason.
func v2Snippet(v json.RawMessage) string {
	s := strings.ToValidUTF8(string(v), "\uFFFD")
	if len(s) > 40 {
		s = strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}

// v2Integer reads a JSON number or a numeric string.
func v2Integer(v json.RawMessage) (int64, bool) {
	s := string(bytes.TrimSpace(v))
	if uq, err := strconv.Unquote(s); err == nil {
		s = strings.TrimSpace(uq)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func (p *v2Parser) integer(name string) *int64 {
	v := p.get(name)
	if v == nil || p.err != nil {
		return nil
	}
	n, ok := v2Integer(v)
	if !ok {
		p.fail(name, "expected an integer, got "+v2Snippet(v))
		return nil
	}
	return &n
}

func (p *v2Parser) time(name string, required bool) *time.Time {
	s := p.text(name)
	if p.err != nil {
		return nil
	}
	if s == nil || strings.TrimSpace(*s) == "" {
		if required {
			p.fail(name, "missing")
		}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*s))
	if err != nil || t.UTC().Year() < 1970 {
		p.fail(name, "invalid ISO 8601 timestamp "+strconv.Quote(*s))
		return nil
	}
	t = t.UTC()
	return &t
}

func (p *v2Parser) hardcore() *bool {
	v := p.get("hardcore")
	if v == nil || p.err != nil {
		return nil
	}
	var b bool
	if json.Unmarshal(v, &b) == nil {
		return &b
	}
	if n, ok := v2Integer(v); ok && (n == 0 || n == 1) {
		b = n == 1
		return &b
	}
	p.fail("hardcore", "expected true, false or null, got "+v2Snippet(v))
	return nil
}

// iconPath turns gameIconUrl into the path form v1 sends ("/Images/x.png"),
// so a v2 record does not change a value v1 wrote; other values are kept.
func iconPath(s string) string {
	u, err := url.Parse(s)
	if err == nil && u.Scheme != "" && strings.HasPrefix(u.Path, "/Images/") && u.RawQuery == "" {
		return u.Path
	}
	return s
}

// ParseV2 maps one v2 resource object to a Ticket (see "The v2 API" above).
// Like Parse it never panics; every failure is a *RecordError with the v2
// member name as Field.
func ParseV2(raw json.RawMessage) (Ticket, error) {
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' {
		return Ticket{}, &RecordError{Reason: "not a JSON object"}
	}
	var res struct {
		Type       *string                    `json:"type"`
		ID         json.RawMessage            `json:"id"`
		Attributes map[string]json.RawMessage `json:"attributes"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return Ticket{}, &RecordError{Reason: "invalid JSON: " + err.Error()}
	}
	p := &v2Parser{attrs: res.Attributes}
	id, ok := v2Integer(res.ID)
	switch {
	case res.ID == nil || string(res.ID) == "null":
		p.fail("id", "missing")
	case !ok || id <= 0:
		p.fail("id", "expected a positive integer, got "+v2Snippet(res.ID))
	}
	if p.err != nil {
		return Ticket{}, p.err
	}
	p.id = id
	if res.Type != nil && *res.Type != "tickets" {
		p.fail("type", "expected tickets, got "+strconv.Quote(*res.Type))
	}
	if res.Attributes == nil {
		p.fail("attributes", "missing")
	}
	if p.err != nil {
		return Ticket{}, p.err
	}

	t := Ticket{ID: id, Source: SourceV2, Lacks: V2Lacks}
	state := p.reqText("state")
	if code, known := V2StateCodes[state]; known {
		t.ReportState, t.ReportStateCode = StateFromCode(code), code
	} else {
		t.ReportState, t.ReportStateCode = StateUnknown, -1
		t.Lacks |= FieldReportStateCode
	}
	var hasCode bool
	t.ReportType, t.ReportTypeCode, hasCode = V2TypeFromName(p.reqText("type"))
	if !hasCode {
		t.Lacks |= FieldReportTypeCode
	}
	t.ReportNotes = p.text("body")
	t.Hardcore = p.hardcore()
	if at := p.time("reportedAt", true); at != nil {
		t.ReportedAt = *at
	}
	t.ResolvedAt = p.time("resolvedAt", false)
	kind := p.reqText("ticketableType")
	ticketableID := p.integer("ticketableId")
	ticketableTitle := p.text("ticketableTitle")
	author := p.text("authorDisplayName")
	switch TicketableType(kind) {
	case TicketableAchievement:
		t.AchievementID, t.AchievementTitle, t.AchievementAuthor = ticketableID, ticketableTitle, author
	case TicketableLeaderboard:
		t.LeaderboardID, t.LeaderboardTitle = ticketableID, ticketableTitle
	default:
		if p.err == nil {
			p.fail("ticketableType", "expected achievement or leaderboard, got "+strconv.Quote(kind))
		}
	}
	t.TicketableType = TicketableType(kind)
	t.GameID = p.integer("gameId")
	t.GameTitle = p.text("gameTitle")
	if icon := p.text("gameIconUrl"); icon != nil {
		s := iconPath(*icon)
		t.GameIcon = &s
	}
	t.ConsoleName = p.text("systemName")
	t.ReportedBy = p.text("reporterDisplayName")
	t.ResolvedBy = p.text("resolverDisplayName")
	if p.err != nil {
		return Ticket{}, p.err
	}
	if t.ReportNotes != nil {
		n := ParseNotes(*t.ReportNotes)
		t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion = n.RomHash, n.Emulator, n.EmulatorCore, n.EmulatorVersion
	}
	rawOut, err := storableRaw(raw)
	if err != nil {
		return Ticket{}, &RecordError{TicketID: &t.ID, Reason: "cannot clean raw JSON: " + err.Error()}
	}
	t.Raw = rawOut
	return t, nil
}
