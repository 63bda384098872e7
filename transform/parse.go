package transform

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// RecordError says why one record could not be turned into a Ticket. Parse
// and ParseV2 return it (as *RecordError) for every failure; Field is empty
// when the problem is the record as a whole (not JSON, not an object).
type RecordError struct {
	TicketID *int64 // nil when the ID itself is missing or invalid
	Field    string // the API's field name, e.g. "ReportedAt"
	Reason   string // human-readable; stored in rejected_records
}

func (e *RecordError) Error() string {
	var b strings.Builder
	if e.TicketID != nil {
		b.WriteString("ticket " + strconv.FormatInt(*e.TicketID, 10) + ": ")
	}
	if e.Field != "" {
		b.WriteString("field " + e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// typeCodes and stateCodes list the labels of the API's legacy codes, by
// code; v2 names its types and states by these labels.
var (
	typeCodes  = []ReportType{1: TypeTriggeredAtWrongTime, 2: TypeDidNotTrigger}
	stateCodes = []ReportState{StateClosed, StateOpen, StateResolved, StateRequest, StateQuarantined}
)

// TypeFromCode maps the API's legacy ReportType code to its label. Unknown
// codes map to TypeUnknown; callers keep the code itself next to the label.
func TypeFromCode(code int16) ReportType {
	if code > 0 && int(code) < len(typeCodes) {
		return typeCodes[code]
	}
	return TypeUnknown
}

// StateFromCode maps the API's legacy ReportState code to its label. Unknown
// codes map to StateUnknown; callers keep the code itself next to the label.
func StateFromCode(code int16) ReportState {
	if code >= 0 && int(code) < len(stateCodes) {
		return stateCodes[code]
	}
	return StateUnknown
}

// StripNUL removes every NUL (U+0000) from s. Postgres text cannot hold NUL,
// and a NUL in free user text carries no meaning, so it is dropped rather
// than replaced. s is returned as is (no allocation) when it has none.
func StripNUL(s string) string {
	return strings.ReplaceAll(s, "\x00", "")
}

// v1Record holds the modelled members of a v1 ticket object; the Go names
// are the API's. The other members stay in Ticket.Raw only.
type v1Record struct {
	ID, AchievementID, AchievementTitle, AchievementDesc, AchievementType jsontext.Value
	Points, BadgeName, AchievementAuthor, GameID, ConsoleName, GameTitle  jsontext.Value
	GameIcon, ReportedAt, ReportType, Hardcore, ReportNotes, ReportedBy   jsontext.Value
	ResolvedAt, ResolvedBy, ReportState                                   jsontext.Value
}

// Parse maps one raw v1 ticket object, as received from the API, to a
// Ticket. It never panics; every failure is a *RecordError. raw is not
// retained: Ticket.Raw is a copy (or a cleaned re-encoding, see the package
// doc).
func Parse(raw json.RawMessage) (Ticket, error) {
	var w v1Record
	return parse(raw, &w, false, w.ticket)
}

// ticket maps the members to a Ticket, in the API's order (the order of
// Problems). An unusable ReportType is only a problem: its columns cannot
// be NULL, so it is stored as unknown with code 0.
func (w *v1Record) ticket(p *fieldParser) Ticket {
	t := Ticket{
		ID:                     need(p.fail, "ID", w.ID, positive),
		AchievementID:          opt(p, "AchievementID", w.AchievementID, integer),
		AchievementTitle:       opt(p, "AchievementTitle", w.AchievementTitle, text),
		AchievementDescription: opt(p, "AchievementDesc", w.AchievementDesc, text),
		AchievementType:        opt(p, "AchievementType", w.AchievementType, text),
		Points:                 opt(p, "Points", w.Points, int32Value),
		BadgeName:              opt(p, "BadgeName", w.BadgeName, text),
		AchievementAuthor:      opt(p, "AchievementAuthor", w.AchievementAuthor, text),
		GameID:                 opt(p, "GameID", w.GameID, integer),
		ConsoleName:            opt(p, "ConsoleName", w.ConsoleName, text),
		GameTitle:              opt(p, "GameTitle", w.GameTitle, text),
		GameIcon:               opt(p, "GameIcon", w.GameIcon, text),
		ReportedAt:             need(p.fail, "ReportedAt", w.ReportedAt, v1Time),
		ReportTypeCode:         need(p.drop, "ReportType", w.ReportType, code),
		Hardcore:               opt(p, "Hardcore", w.Hardcore, boolean),
		ReportNotes:            opt(p, "ReportNotes", w.ReportNotes, text),
		ReportedBy:             opt(p, "ReportedBy", w.ReportedBy, text),
		ResolvedAt:             opt(p, "ResolvedAt", w.ResolvedAt, resolvedAt),
		ResolvedBy:             opt(p, "ResolvedBy", w.ResolvedBy, text),
		ReportStateCode:        need(p.fail, "ReportState", w.ReportState, code),
	}
	t.ReportType, t.ReportState = TypeFromCode(t.ReportTypeCode), StateFromCode(t.ReportStateCode)
	return t
}

// parse is Parse and ParseV2: it decodes raw into record, maps it with
// build, and checks what jsonb can store.
func parse(raw []byte, record any, strict bool, build func(*fieldParser) Ticket) (Ticket, error) {
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Ticket{}, &RecordError{Reason: "not a JSON object"}
	}
	if err := jsonv2.Unmarshal(raw, record, decodeOptions...); err != nil {
		return Ticket{}, &RecordError{Reason: "invalid JSON: " + err.Error()}
	}
	p := &fieldParser{strict: strict}
	t := build(p)
	if p.err != nil {
		if t.ID > 0 { // the ID itself was readable
			p.err.TicketID = &t.ID
		}
		return Ticket{}, p.err
	}
	member, number, dirty := scan(raw)
	if number != "" {
		// jsonb would refuse the whole record, and fail its batch with it.
		return Ticket{}, &RecordError{TicketID: &t.ID, Field: member,
			Reason: "number " + number + " is beyond what PostgreSQL jsonb can store (numeric range)"}
	}
	t.Problems = p.problems
	if t.ReportNotes != nil {
		n := ParseNotes(*t.ReportNotes)
		t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion = n.RomHash, n.Emulator, n.EmulatorCore, n.EmulatorVersion
	}
	var err error
	if t.Raw, err = storableRaw(raw, dirty); err != nil {
		return Ticket{}, &RecordError{TicketID: &t.ID, Reason: "cannot clean raw JSON: " + err.Error()}
	}
	return t, nil
}
