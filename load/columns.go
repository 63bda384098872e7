package load

import (
	"strings"

	"github.com/ratickets/ratickets/transform"
)

// column is one column of tickets that a merge writes from a
// transform.Ticket. ticketColumns is the only list of them: the staging
// table, the COPY, the merge statement (its change detection included) and
// the history versions are generated from it (see sql.go; the generated SQL
// is in testdata/sql.golden). Adding a column takes a migration and a line
// here.
type column struct {
	name string
	// typ is the column's type in the staging table, with NOT NULL where
	// tickets has it (TestColumnsMatchSchema compares the two).
	typ   string
	value func(*transform.Ticket) any
	// history marks a column that ticket_history keeps too: a change to it
	// opens a new version. Every column but id takes part in deciding
	// whether a ticket changed at all.
	history bool
}

var ticketColumns = []column{
	{"id", "bigint NOT NULL", func(t *transform.Ticket) any { return t.ID }, false},
	{"achievement_id", "bigint", func(t *transform.Ticket) any { return t.AchievementID }, false},
	{"achievement_title", "text", func(t *transform.Ticket) any { return t.AchievementTitle }, true},
	{"achievement_description", "text", func(t *transform.Ticket) any { return t.AchievementDescription }, true},
	{"achievement_type", "text", func(t *transform.Ticket) any { return t.AchievementType }, false},
	{"points", "integer", func(t *transform.Ticket) any { return t.Points }, true},
	{"badge_name", "text", func(t *transform.Ticket) any { return t.BadgeName }, false},
	{"achievement_author", "text", func(t *transform.Ticket) any { return t.AchievementAuthor }, false},
	{"game_id", "bigint", func(t *transform.Ticket) any { return t.GameID }, false},
	{"game_title", "text", func(t *transform.Ticket) any { return t.GameTitle }, false},
	{"game_icon", "text", func(t *transform.Ticket) any { return t.GameIcon }, false},
	{"console_name", "text", func(t *transform.Ticket) any { return t.ConsoleName }, false},
	{"reported_at", "timestamp with time zone NOT NULL", func(t *transform.Ticket) any { return t.ReportedAt }, false},
	{"report_type", "ticket_type NOT NULL", func(t *transform.Ticket) any { return string(t.ReportType) }, true},
	{"report_type_code", "smallint NOT NULL", func(t *transform.Ticket) any { return t.ReportTypeCode }, true},
	{"report_state", "ticket_state NOT NULL", func(t *transform.Ticket) any { return string(t.ReportState) }, true},
	{"report_state_code", "smallint NOT NULL", func(t *transform.Ticket) any { return t.ReportStateCode }, true},
	{"hardcore", "boolean", func(t *transform.Ticket) any { return t.Hardcore }, false},
	{"report_notes", "text", func(t *transform.Ticket) any { return t.ReportNotes }, true},
	{"reported_by", "text", func(t *transform.Ticket) any { return t.ReportedBy }, false},
	{"resolved_at", "timestamp with time zone", func(t *transform.Ticket) any { return t.ResolvedAt }, true},
	{"resolved_by", "text", func(t *transform.Ticket) any { return t.ResolvedBy }, true},
	{"rom_hash", "text", func(t *transform.Ticket) any { return t.RomHash }, false},
	{"emulator", "text", func(t *transform.Ticket) any { return t.Emulator }, false},
	{"emulator_core", "text", func(t *transform.Ticket) any { return t.EmulatorCore }, false},
	{"emulator_version", "text", func(t *transform.Ticket) any { return t.EmulatorVersion }, false},
	{"raw", "jsonb NOT NULL", func(t *transform.Ticket) any { return []byte(t.Raw) }, false},
}

// stageColumns are the columns COPY writes to the staging table, in order:
// the ticket's, then seq, its position in the batch (the last copy of a
// repeated id wins).
var stageColumns = append(names(all), "seq")

// appendTicketRow appends the values of stageColumns to row.
func appendTicketRow(row []any, t *transform.Ticket, seq int32) []any {
	for i := range ticketColumns {
		row = append(row, ticketColumns[i].value(t))
	}
	return append(row, seq)
}

func all(column) bool        { return true }
func compared(c column) bool { return c.name != "id" }
func history(c column) bool  { return c.history }

func names(keep func(column) bool) []string {
	var out []string
	for _, c := range ticketColumns {
		if keep(c) {
			out = append(out, c.name)
		}
	}
	return out
}

// list renders one item per kept column as a comma-separated list, wrapped
// at about 100 characters, every line after the first indented by indent.
func list(indent string, keep func(column) bool, item func(column) string) string {
	var b strings.Builder
	line := 0
	first := true
	for _, c := range ticketColumns {
		if !keep(c) {
			continue
		}
		s := item(c)
		if !first {
			b.WriteString(",")
			if line+2+len(s) > 92 {
				b.WriteString("\n" + indent)
				line = len(indent)
			} else {
				b.WriteString(" ")
				line += 2
			}
		}
		first = false
		b.WriteString(s)
		line += len(s)
	}
	return b.String()
}

// prefixed renders a column as its name after p ("t.", "EXCLUDED.").
func prefixed(p string) func(column) string { return func(c column) string { return p + c.name } }
