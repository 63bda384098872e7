package load

import (
	"fmt"
	"strings"

	"github.com/ratickets/ratickets/transform"
)

// column is one column of tickets that a merge writes from a
// transform.Ticket. ticketColumns is the only list of them: the staging
// table, the COPY and the SQL of sql.go are generated from it (the result
// is in testdata/sql.golden). Adding a column takes a migration and a line
// here.
type column struct {
	name string
	// typ is the column's type in the staging table, with NOT NULL where
	// tickets has it (TestColumnsMatchSchema compares the two).
	typ   string
	value func(*transform.Ticket) any
	// history marks a column that ticket_history keeps too: a change to it
	// opens a new version. Every column but id decides whether a ticket
	// changed at all.
	history bool
	// lacking, when non-nil, says that a record does not carry the column's
	// value (a v2 record has no points, say). A merge never erases such a
	// value: it keeps the stored one (NULL for a new ticket), so absence is
	// no change. The staging table's lacks column holds one bit per such
	// column (lackBit), and the merge picks tickets' value where it is set.
	lacking func(*transform.Ticket) bool
}

// lacks is the lacking test of a column a record may not carry.
func lacks(f transform.Field) func(*transform.Ticket) bool {
	return func(t *transform.Ticket) bool { return !t.Carries(f) }
}

// Each API's raw object has its own column: a record of one source does
// not carry the other's.
func notFrom(s transform.Source) func(*transform.Ticket) bool {
	return func(t *transform.Ticket) bool { return t.Source != s }
}

var ticketColumns = []column{
	{"id", "bigint NOT NULL", func(t *transform.Ticket) any { return t.ID }, false, nil},
	{"achievement_id", "bigint", func(t *transform.Ticket) any { return t.AchievementID }, false, nil},
	{"achievement_title", "text", func(t *transform.Ticket) any { return t.AchievementTitle }, true, nil},
	{"achievement_description", "text", func(t *transform.Ticket) any { return t.AchievementDescription }, true, lacks(transform.FieldAchievementDescription)},
	{"achievement_type", "text", func(t *transform.Ticket) any { return t.AchievementType }, false, lacks(transform.FieldAchievementType)},
	{"points", "integer", func(t *transform.Ticket) any { return t.Points }, true, lacks(transform.FieldPoints)},
	{"badge_name", "text", func(t *transform.Ticket) any { return t.BadgeName }, false, lacks(transform.FieldBadgeName)},
	{"achievement_author", "text", func(t *transform.Ticket) any { return t.AchievementAuthor }, false, nil},
	{"game_id", "bigint", func(t *transform.Ticket) any { return t.GameID }, false, nil},
	{"game_title", "text", func(t *transform.Ticket) any { return t.GameTitle }, false, nil},
	{"game_icon", "text", func(t *transform.Ticket) any { return t.GameIcon }, false, nil},
	{"console_name", "text", func(t *transform.Ticket) any { return t.ConsoleName }, false, nil},
	{"reported_at", "timestamp with time zone NOT NULL", func(t *transform.Ticket) any { return t.ReportedAt }, false, nil},
	{"report_type", "ticket_type NOT NULL", func(t *transform.Ticket) any { return string(t.ReportType) }, true, nil},
	{"report_type_code", "smallint", func(t *transform.Ticket) any { return t.ReportTypeCode }, true, lacks(transform.FieldReportTypeCode)},
	{"report_state", "ticket_state NOT NULL", func(t *transform.Ticket) any { return string(t.ReportState) }, true, nil},
	{"report_state_code", "smallint", func(t *transform.Ticket) any { return t.ReportStateCode }, true, lacks(transform.FieldReportStateCode)},
	{"hardcore", "boolean", func(t *transform.Ticket) any { return t.Hardcore }, false, nil},
	{"report_notes", "text", func(t *transform.Ticket) any { return t.ReportNotes }, true, nil},
	{"reported_by", "text", func(t *transform.Ticket) any { return t.ReportedBy }, false, nil},
	{"resolved_at", "timestamp with time zone", func(t *transform.Ticket) any { return t.ResolvedAt }, true, nil},
	{"resolved_by", "text", func(t *transform.Ticket) any { return t.ResolvedBy }, true, nil},
	{"rom_hash", "text", func(t *transform.Ticket) any { return t.RomHash }, false, nil},
	{"emulator", "text", func(t *transform.Ticket) any { return t.Emulator }, false, nil},
	{"emulator_core", "text", func(t *transform.Ticket) any { return t.EmulatorCore }, false, nil},
	{"emulator_version", "text", func(t *transform.Ticket) any { return t.EmulatorVersion }, false, nil},
	{"ticketable_type", "ticketable_type NOT NULL", func(t *transform.Ticket) any { return string(t.Kind()) }, false, nil},
	{"leaderboard_id", "bigint", func(t *transform.Ticket) any { return t.LeaderboardID }, false, nil},
	{"leaderboard_title", "text", func(t *transform.Ticket) any { return t.LeaderboardTitle }, true, nil},
	{"raw", "jsonb", func(t *transform.Ticket) any { return []byte(t.Raw) }, false, notFrom(transform.SourceV1)},
	{"raw_v2", "jsonb", func(t *transform.Ticket) any { return []byte(t.Raw) }, false, notFrom(transform.SourceV2)},
}

// stageColumns are the columns COPY writes to the staging table, in order:
// the ticket's, then lacks, the bits (lackBit) of the columns the record
// does not carry, then seq, its position in the batch (the last copy of a
// repeated id wins).
var stageColumns = func() []string {
	var out []string
	for _, c := range ticketColumns {
		out = append(out, c.name)
	}
	return append(out, "lacks", "seq")
}()

// appendTicketRow appends the values of stageColumns to row. A column the
// record lacks is copied as NULL, whatever the Ticket's zero value says.
func appendTicketRow(row []any, t *transform.Ticket, seq int32) []any {
	var bits int32
	for i := range ticketColumns {
		c := &ticketColumns[i]
		if c.lacking != nil && c.lacking(t) {
			bits |= lackBit(*c)
			row = append(row, nil)
			continue
		}
		row = append(row, c.value(t))
	}
	return append(row, bits, seq)
}

// lackBit is a column's bit in the staging table's lacks column: the
// columns that may be lacking are numbered in table order. 0 for the others.
func lackBit(c column) int32 {
	var bit int32 = 1
	for _, d := range ticketColumns {
		if d.lacking == nil {
			continue
		}
		if d.name == c.name {
			return bit
		}
		bit <<= 1
	}
	return 0
}

// merged renders the value a merge writes to a column from the staging row
// s and the stored row t: s's, or t's where the record lacks the column.
func merged(c column) string {
	if c.lacking == nil {
		return "s." + c.name
	}
	return fmt.Sprintf("CASE WHEN s.lacks & %d <> 0 THEN t.%s ELSE s.%s END", lackBit(c), c.name, c.name)
}

func all(column) bool        { return true }
func compared(c column) bool { return c.name != "id" }
func history(c column) bool  { return c.history }

// list renders one item per kept column as a comma-separated list, wrapped
// at about 100 characters, every line after the first indented by indent.
func list(indent string, keep func(column) bool, item func(column) string) string {
	var b strings.Builder
	line := 0
	for _, c := range ticketColumns {
		if !keep(c) {
			continue
		}
		s := item(c)
		if b.Len() > 0 {
			b.WriteString(",")
			if line+2+len(s) > 92 {
				b.WriteString("\n" + indent)
				line = len(indent)
			} else {
				b.WriteString(" ")
				line += 2
			}
		}
		b.WriteString(s)
		line += len(s)
	}
	return b.String()
}

// prefixed renders a column as its name after p ("t.", "EXCLUDED.").
func prefixed(p string) func(column) string { return func(c column) string { return p + c.name } }
