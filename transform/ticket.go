package transform

import (
	"encoding/json"
	"time"
)

// ReportType is the kind of a ticket, mapped from the API's legacy integer
// ReportType code. Its values are the labels of the Postgres enum ticket_type.
type ReportType string

const (
	TypeTriggeredAtWrongTime ReportType = "triggered_at_wrong_time" // code 1
	TypeDidNotTrigger        ReportType = "did_not_trigger"         // code 2
	TypeUnknown              ReportType = "unknown"                 // any other code; the code is kept
)

// ReportState is the state of a ticket, mapped from the API's legacy integer
// ReportState code. Its values are the labels of the Postgres enum
// ticket_state.
type ReportState string

const (
	StateClosed      ReportState = "closed"      // code 0
	StateOpen        ReportState = "open"        // code 1
	StateResolved    ReportState = "resolved"    // code 2
	StateRequest     ReportState = "request"     // code 3
	StateQuarantined ReportState = "quarantined" // code 4
	StateUnknown     ReportState = "unknown"     // any other code; the code is kept
)

// Ticket is one achievement ticket as ratickets stores it. Pointer fields are
// NULL in the database when the API sent null or left the field out.
type Ticket struct {
	ID                     int64
	AchievementID          *int64
	AchievementTitle       *string
	AchievementDescription *string
	AchievementType        *string
	Points                 *int32
	BadgeName              *string
	AchievementAuthor      *string
	GameID                 *int64
	GameTitle              *string
	GameIcon               *string
	ConsoleName            *string
	ReportedAt             time.Time // UTC
	ReportType             ReportType
	ReportTypeCode         int16
	ReportState            ReportState
	ReportStateCode        int16
	Hardcore               *bool
	ReportNotes            *string
	ReportedBy             *string
	ResolvedAt             *time.Time // UTC
	ResolvedBy             *string

	// Parsed from ReportNotes; nil when the notes carry no such line.
	RomHash         *string // lower-case 32 hex digits
	Emulator        *string
	EmulatorCore    *string
	EmulatorVersion *string

	// Raw is the API's JSON object for this ticket as received, with every
	// field kept (also the ones ratickets does not model). The only change
	// ever made is the removal of NUL characters, which Postgres text and
	// jsonb cannot store (with U+FFFD for invalid UTF-8 and lone surrogates;
	// see the package doc). For a v2 record it is the v2 resource object.
	Raw json.RawMessage

	// The v2 API (see v2.go); zero values describe a v1 record.
	Source           Source         // SourceV1 or SourceV2: which API Raw came from
	TicketableType   TicketableType // "" from v1 (always an achievement): see Kind
	LeaderboardID    *int64         // leaderboard tickets only
	LeaderboardTitle *string        // leaderboard tickets only
	Lacks            Field          // fields the source does not carry (never erase them)

	// Problems lists the optional fields that held something unusable: each
	// such field is nil (NULL in the database) and the ticket is kept.
	Problems []FieldProblem
}

// FieldProblem is one optional field Parse could not read: the API's field
// name and a human-readable reason, meant for rejected_records.
type FieldProblem struct {
	Field, Reason string
}
