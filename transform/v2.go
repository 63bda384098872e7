package transform

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
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
//	attributes.hardcore            Hardcore                     true, false, 1, 0 or null
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
// Unlike v1, every unusable member sets the record aside: v2 has no
// FieldProblems. Text must be a JSON string and a timestamp RFC 3339;
// integers and hardcore are read as in v1, and so is a number jsonb cannot
// store. The achievement columns stay nil for a leaderboard ticket. An unknown
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

var leaderboardTypes = []ReportType{TypeDidNotStart, TypeDidNotCancel, TypeDidNotSubmit, TypeSubmittedWrongValue}

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

// v2Resource is one resource object of the v2 API. Attribute names match
// exactly.
type v2Resource struct {
	Type       *string
	ID         jsontext.Value
	Attributes map[string]jsontext.Value
}

// ParseV2 maps one v2 resource object to a Ticket (see "The v2 API" above).
// Like Parse it never panics; every failure is a *RecordError with the v2
// member name as Field.
func ParseV2(raw json.RawMessage) (Ticket, error) {
	var r v2Resource
	return parse(raw, &r, true, r.ticket)
}

func (r *v2Resource) ticket(p *fieldParser) Ticket {
	t := Ticket{ID: need(p.fail, "id", r.ID, positive), Source: SourceV2, Lacks: V2Lacks}
	if r.Type != nil && *r.Type != "tickets" {
		p.fail("type", "expected tickets, got "+quote(*r.Type))
	}
	a := r.Attributes
	if a == nil {
		p.fail("attributes", "missing")
	}
	state := ReportState(need(p.fail, "state", a["state"], strictText))
	if code := slices.Index(stateCodes, state); code >= 0 {
		t.ReportState, t.ReportStateCode = state, int16(code)
	} else {
		t.ReportState, t.ReportStateCode = StateUnknown, -1
		t.Lacks |= FieldReportStateCode
	}
	typ := ReportType(need(p.fail, "type", a["type"], strictText))
	t.ReportType = TypeUnknown
	if code := slices.Index(typeCodes, typ); code > 0 {
		t.ReportType, t.ReportTypeCode = typ, int16(code)
	} else {
		t.Lacks |= FieldReportTypeCode
		if slices.Contains(leaderboardTypes, typ) {
			t.ReportType = typ
		}
	}
	t.ReportNotes = opt(p, "body", a["body"], strictText)
	t.Hardcore = opt(p, "hardcore", a["hardcore"], boolean)
	t.ReportedAt = need(p.fail, "reportedAt", a["reportedAt"], v2Time)
	t.ResolvedAt = opt(p, "resolvedAt", a["resolvedAt"], v2Time)
	t.TicketableType = TicketableType(need(p.fail, "ticketableType", a["ticketableType"], strictText))
	id := opt(p, "ticketableId", a["ticketableId"], integer)
	title := opt(p, "ticketableTitle", a["ticketableTitle"], strictText)
	author := opt(p, "authorDisplayName", a["authorDisplayName"], strictText)
	switch t.TicketableType {
	case TicketableAchievement:
		t.AchievementID, t.AchievementTitle, t.AchievementAuthor = id, title, author
	case TicketableLeaderboard:
		t.LeaderboardID, t.LeaderboardTitle = id, title
	default:
		p.fail("ticketableType", "expected achievement or leaderboard, got "+quote(string(t.TicketableType)))
	}
	t.GameID = opt(p, "gameId", a["gameId"], integer)
	t.GameTitle = opt(p, "gameTitle", a["gameTitle"], strictText)
	if t.GameIcon = opt(p, "gameIconUrl", a["gameIconUrl"], strictText); t.GameIcon != nil {
		*t.GameIcon = iconPath(*t.GameIcon)
	}
	t.ConsoleName = opt(p, "systemName", a["systemName"], strictText)
	t.ReportedBy = opt(p, "reporterDisplayName", a["reporterDisplayName"], strictText)
	t.ResolvedBy = opt(p, "resolverDisplayName", a["resolverDisplayName"], strictText)
	return t
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
