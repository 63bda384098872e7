package transform

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// RecordError says why one ticket could not be turned into a Ticket. Parse
// returns it (as *RecordError) for every failure; Field is empty when the
// problem is the record as a whole (not JSON, not an object).
type RecordError struct {
	TicketID *int64 // nil when the ID itself is missing or invalid
	Field    string // the API's field name, e.g. "ReportedAt"
	Reason   string // human-readable; stored in rejected_records
}

func (e *RecordError) Error() string {
	var b strings.Builder
	if e.TicketID != nil {
		b.WriteString("ticket ")
		b.WriteString(strconv.FormatInt(*e.TicketID, 10))
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString("field ")
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// TypeFromCode maps the API's legacy ReportType code to its label. Unknown
// codes map to TypeUnknown; callers keep the code itself next to the label.
func TypeFromCode(code int16) ReportType {
	switch code {
	case 1:
		return TypeTriggeredAtWrongTime
	case 2:
		return TypeDidNotTrigger
	default:
		return TypeUnknown
	}
}

// StateFromCode maps the API's legacy ReportState code to its label. Unknown
// codes map to StateUnknown; callers keep the code itself next to the label.
func StateFromCode(code int16) ReportState {
	switch code {
	case 0:
		return StateClosed
	case 1:
		return StateOpen
	case 2:
		return StateResolved
	case 3:
		return StateRequest
	case 4:
		return StateQuarantined
	default:
		return StateUnknown
	}
}

// StripNUL removes every NUL (U+0000) from s. Postgres text cannot hold NUL,
// and a NUL in free user text carries no meaning, so it is dropped rather
// than replaced. s is returned as is (no allocation) when it has none.
func StripNUL(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// slots backs every optional field of one Ticket, so a ticket costs one
// allocation for its pointers instead of one per field.
type slots struct {
	text          [11]string
	achievementID int64
	gameID        int64
	points        int32
	hardcore      bool
	resolvedAt    time.Time
}

// Parse maps one raw ticket object, as received from the API, to a Ticket.
// It never panics; every failure is a *RecordError. raw is not retained:
// Ticket.Raw is a copy (or a cleaned re-encoding, see the package doc).
func Parse(raw json.RawMessage) (Ticket, error) {
	if !startsObject(raw) {
		return Ticket{}, &RecordError{Reason: "not a JSON object"}
	}
	var w wire
	badMember, badNumber, err := decodeWire(raw, &w)
	if err != nil {
		return Ticket{}, &RecordError{Reason: "invalid JSON: " + err.Error()}
	}
	t, err := build(raw, &w)
	if err == nil && badNumber != "" {
		// jsonb would refuse the whole record, and fail its batch with it.
		err = &RecordError{TicketID: &t.ID, Field: badMember,
			Reason: "number " + badNumber + " is beyond what PostgreSQL jsonb can store (numeric range)"}
	}
	if err != nil {
		return Ticket{}, err
	}
	return t, nil
}

// build maps decoded members to a Ticket.
func build(raw json.RawMessage, w *wire) (Ticket, error) {
	p := &fieldParser{}
	id := p.id(&w[fID])
	if p.err != nil {
		return Ticket{}, p.err
	}
	p.ticketID = id

	s := new(slots)
	t := Ticket{ID: id}
	t.AchievementID = p.optInt("AchievementID", &w[fAchievementID], &s.achievementID)
	t.AchievementTitle = p.optText("AchievementTitle", &w[fAchievementTitle], &s.text[0])
	t.AchievementDescription = p.optText("AchievementDesc", &w[fAchievementDesc], &s.text[1])
	t.AchievementType = p.optText("AchievementType", &w[fAchievementType], &s.text[2])
	t.Points = p.optInt32("Points", &w[fPoints], &s.points)
	t.BadgeName = p.optText("BadgeName", &w[fBadgeName], &s.text[3])
	t.AchievementAuthor = p.optText("AchievementAuthor", &w[fAchievementAuthor], &s.text[4])
	t.GameID = p.optInt("GameID", &w[fGameID], &s.gameID)
	t.ConsoleName = p.optText("ConsoleName", &w[fConsoleName], &s.text[5])
	t.GameTitle = p.optText("GameTitle", &w[fGameTitle], &s.text[6])
	t.GameIcon = p.optText("GameIcon", &w[fGameIcon], &s.text[7])
	t.ReportedAt = p.reqTime("ReportedAt", &w[fReportedAt])
	t.ReportTypeCode = p.code("ReportType", &w[fReportType], false)
	t.ReportType = TypeFromCode(t.ReportTypeCode)
	t.Hardcore = p.optBool("Hardcore", &w[fHardcore], &s.hardcore)
	t.ReportNotes = p.optText("ReportNotes", &w[fReportNotes], &s.text[8])
	t.ReportedBy = p.optText("ReportedBy", &w[fReportedBy], &s.text[9])
	t.ResolvedAt = p.optTime("ResolvedAt", &w[fResolvedAt], &s.resolvedAt)
	t.ResolvedBy = p.optText("ResolvedBy", &w[fResolvedBy], &s.text[10])
	t.ReportStateCode = p.code("ReportState", &w[fReportState], true)
	t.ReportState = StateFromCode(t.ReportStateCode)
	if p.err != nil {
		return Ticket{}, p.err
	}
	t.Problems = p.problems

	if t.ReportNotes != nil {
		n := ParseNotes(*t.ReportNotes)
		t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion = n.RomHash, n.Emulator, n.EmulatorCore, n.EmulatorVersion
	}

	rawOut, err := storableRaw(raw)
	if err != nil {
		return Ticket{}, &RecordError{TicketID: &id, Reason: "cannot clean raw JSON: " + err.Error()}
	}
	t.Raw = rawOut
	return t, nil
}

func startsObject(raw []byte) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// fieldParser converts wire members into Ticket fields. A required field
// it cannot read (ID, ReportedAt, ReportState) sets the record aside: the
// first such failure is kept in err. An optional one is dropped (nil) and
// recorded in problems; the ticket is kept.
type fieldParser struct {
	ticketID int64
	err      *RecordError
	problems []FieldProblem
}

func (p *fieldParser) fail(field, reason string) {
	if p.err != nil {
		return
	}
	p.err = &RecordError{Field: field, Reason: reason}
	if p.ticketID > 0 {
		id := p.ticketID
		p.err.TicketID = &id
	}
}

func (p *fieldParser) drop(field, reason string) {
	p.problems = append(p.problems, FieldProblem{Field: field, Reason: reason})
}

// absence says why a member that must be present is not.
func absence(v *value) string {
	switch v.kind {
	case kindMissing:
		return "missing"
	case kindNull:
		return "is null"
	default:
		return "is empty"
	}
}

func (p *fieldParser) id(v *value) int64 {
	n, ok, reason := v.integer()
	switch {
	case reason != "":
		p.fail("ID", reason)
	case !ok:
		p.fail("ID", absence(v))
	case n <= 0:
		p.fail("ID", "expected a positive integer, got "+strconv.FormatInt(n, 10))
	}
	return n
}

// intIn reads an integer within [lo, hi]; present is false when it is
// absent, reason non-empty when it is unusable.
func intIn(v *value, lo, hi int64) (n int64, present bool, reason string) {
	n, present, reason = v.integer()
	if present && (n < lo || n > hi) {
		return 0, false, "value " + strconv.FormatInt(n, 10) + " out of range [" +
			strconv.FormatInt(lo, 10) + ", " + strconv.FormatInt(hi, 10) + "]"
	}
	return n, present, reason
}

// optIntIn decodes an optional integer within [lo, hi].
func (p *fieldParser) optIntIn(field string, v *value, lo, hi int64) (int64, bool) {
	n, ok, reason := intIn(v, lo, hi)
	if reason != "" {
		p.drop(field, reason)
	}
	return n, ok
}

func (p *fieldParser) optInt(field string, v *value, slot *int64) *int64 {
	n, ok := p.optIntIn(field, v, -1<<63, 1<<63-1)
	if !ok {
		return nil
	}
	*slot = n
	return slot
}

func (p *fieldParser) optInt32(field string, v *value, slot *int32) *int32 {
	n, ok := p.optIntIn(field, v, -1<<31, 1<<31-1)
	if !ok {
		return nil
	}
	*slot = int32(n)
	return slot
}

// code decodes an int16 code. Any value in range is accepted: unknown codes
// are kept, never rejected. An unusable ReportState sets the record aside;
// an unusable ReportType is dropped: the columns cannot be NULL, so it is
// stored as unknown with code 0.
func (p *fieldParser) code(field string, v *value, required bool) int16 {
	n, ok, reason := intIn(v, -1<<15, 1<<15-1)
	if !ok && reason == "" {
		reason = absence(v)
	}
	switch {
	case reason == "":
		return int16(n)
	case required:
		p.fail(field, reason)
	default:
		p.drop(field, reason)
	}
	return 0
}

// optText decodes an optional text member. Numbers are accepted as their
// literal text (harmless leniency); booleans, objects and arrays are not.
func (p *fieldParser) optText(field string, v *value, slot *string) *string {
	switch v.kind {
	case kindMissing, kindNull:
		return nil
	case kindString:
		*slot = StripNUL(v.str)
	case kindNumber:
		if v.str != "" {
			*slot = v.str
		} else {
			*slot = strconv.FormatInt(v.num, 10)
		}
	default:
		p.drop(field, "expected a string, got "+v.describe())
		return nil
	}
	return slot
}

// optBool decodes Hardcore: 1/0, "1"/"0", true/false; null, missing and ""
// are absent.
func (p *fieldParser) optBool(field string, v *value, slot *bool) *bool {
	if v.kind == kindBool {
		*slot = v.b
		return slot
	}
	if v.kind == kindNumber || v.kind == kindString || v.kind == kindNull || v.kind == kindMissing {
		n, ok, reason := v.integer()
		switch {
		case reason == "" && !ok:
			return nil
		case reason == "" && (n == 0 || n == 1):
			*slot = n == 1
			return slot
		}
	}
	p.drop(field, "expected 0, 1 or a boolean, got "+v.describe())
	return nil
}

const (
	apiTimeLayout = "2006-01-02 15:04:05"
	// mysqlZeroTime is MySQL's "no date"; as ResolvedAt it means not resolved.
	mysqlZeroTime = "0000-00-00 00:00:00"
	// minYear rejects placeholder dates: no ticket can predate the Unix epoch.
	minYear = 1970
)

// parseTimestamp accepts the API's "YYYY-MM-DD HH:MM:SS" (UTC) and, for newer
// server builds, RFC 3339 with any offset. The result is always in UTC.
func parseTimestamp(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(apiTimeLayout, s) // no zone in the layout: UTC
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, false
		}
	}
	t = t.UTC()
	if t.Year() < minYear {
		return time.Time{}, false
	}
	return t, true
}

func (p *fieldParser) reqTime(field string, v *value) time.Time {
	switch v.kind {
	case kindString:
		if strings.TrimSpace(v.str) == "" {
			p.fail(field, absence(v))
			return time.Time{}
		}
		t, ok := parseTimestamp(v.str)
		if !ok {
			p.fail(field, "invalid timestamp "+quote(v.str))
		}
		return t
	case kindMissing, kindNull:
		p.fail(field, absence(v))
	default:
		p.fail(field, "expected a timestamp string, got "+v.describe())
	}
	return time.Time{}
}

func (p *fieldParser) optTime(field string, v *value, slot *time.Time) *time.Time {
	switch v.kind {
	case kindMissing, kindNull:
		return nil
	case kindString:
		s := strings.TrimSpace(v.str)
		if s == "" || s == mysqlZeroTime {
			return nil
		}
		t, ok := parseTimestamp(s)
		if !ok {
			p.drop(field, "invalid timestamp "+quote(v.str))
			return nil
		}
		*slot = t
		return slot
	default:
		p.drop(field, "expected a timestamp string, got "+v.describe())
		return nil
	}
}
