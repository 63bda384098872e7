package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

// v1Full is ticket() with every field v2 lacks filled in, and a raw object
// that carries the ULIDs and descriptions only v1 has.
func v1Full(id int64, state transform.ReportState, code int16) transform.Ticket {
	tk := ticket(id, state, code)
	tk.AchievementDescription = ptr("Beat the boss without a hit")
	tk.AchievementType = ptr("progression")
	tk.BadgeName = ptr("123456")
	tk.Raw, _ = json.Marshal(map[string]any{"ID": id, "ReportState": code, "ReportedByULID": "01HZX"})
	return tk
}

// v2Record is the v2 resource object of the ticket ticket(id, …) describes
// (the same values, as ParseV2 reads them), in the given state, through
// transform.ParseV2: what the pipeline hands to the sink.
func v2Record(t *testing.T, id int64, state string, attrs map[string]any) transform.Ticket {
	t.Helper()
	base := ticket(id, transform.StateOpen, 1)
	a := map[string]any{
		"state":           state,
		"type":            "did_not_trigger",
		"body":            *base.ReportNotes,
		"hardcore":        true,
		"reportedAt":      base.ReportedAt.Format("2006-01-02T15:04:05.000000Z"),
		"resolvedAt":      nil,
		"ticketableType":  "achievement",
		"ticketableId":    *base.AchievementID,
		"ticketableTitle": *base.AchievementTitle,
		"gameId":          *base.GameID,
		"systemName":      *base.ConsoleName,
	}
	for k, v := range attrs {
		a[k] = v
	}
	raw, err := json.Marshal(map[string]any{"type": "tickets", "id": fmt.Sprint(id), "attributes": a})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := transform.ParseV2(raw)
	if err != nil {
		t.Fatalf("ParseV2: %v", err)
	}
	return tk
}

func merge(t *testing.T, s *load.Store, want load.Counts, tickets ...transform.Ticket) {
	t.Helper()
	c, err := s.Merge(context.Background(), startRun(t, s), load.Batch{Tickets: tickets})
	if err != nil {
		t.Fatal(err)
	}
	if c != want {
		t.Fatalf("merge counts %+v, want %+v", c, want)
	}
}

// ticketRow is what the tests read back of a ticket: the columns v2 lacks,
// the leaderboard and the raw objects, as text ("" for NULL).
func ticketRow(t *testing.T, pool *pgxpool.Pool, id int64) map[string]string {
	t.Helper()
	cols := []string{"report_state", "report_type", "report_type_code", "report_state_code",
		"achievement_id", "achievement_title", "achievement_description", "achievement_type", "points", "badge_name",
		"ticketable_type", "leaderboard_id", "leaderboard_title", "raw->>'ReportedByULID'", "raw_v2->>'id'"}
	vals := make([]any, len(cols))
	ptrs := make([]*string, len(cols))
	for i := range cols {
		ptrs[i] = new(string)
		vals[i] = &ptrs[i]
	}
	q := "SELECT "
	for i, c := range cols {
		if i > 0 {
			q += ", "
		}
		q += "(" + c + ")::text"
	}
	if err := pool.QueryRow(context.Background(), q+" FROM tickets WHERE id = $1", id).Scan(vals...); err != nil {
		t.Fatalf("ticket %d: %v", id, err)
	}
	out := map[string]string{}
	for i, c := range cols {
		if ptrs[i] != nil {
			out[c] = *ptrs[i]
		}
	}
	return out
}

func wantRow(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}

// The columns v2 lacks, as v1Full(1, …) wrote them.
var v1Only = map[string]string{
	"achievement_description": "Beat the boss without a hit", "achievement_type": "progression",
	"points": "5", "badge_name": "123456", "raw->>'ReportedByULID'": "01HZX",
}

// A v2 record merged into a ticket first written from v1 changes what it
// says (the state) and keeps every column it does not carry; only the
// state change makes a history version, and that version keeps the v1
// values of the history columns v2 lacks.
func TestMergeV2KeepsV1Columns(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	merge(t, s, load.Counts{Inserted: 1}, v1Full(1, transform.StateOpen, 1))
	resolved := v2Record(t, 1, "resolved", map[string]any{"resolvedAt": "2024-02-01T00:00:00.000000Z", "resolverDisplayName": "dev"})
	merge(t, s, load.Counts{Updated: 1}, resolved)

	got := ticketRow(t, pool, 1)
	wantRow(t, got, v1Only)
	wantRow(t, got, map[string]string{"report_state": "resolved", "report_state_code": "2", "report_type_code": "2",
		"ticketable_type": "achievement", "raw_v2->>'id'": "1"})
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1`); n != 2 {
		t.Fatalf("versions = %d, want 2 (the insert and the state change)", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1 AND valid_to IS NULL
		AND report_state = 'resolved' AND resolved_by = 'dev' AND points = 5
		AND achievement_description = 'Beat the boss without a hit' AND report_type_code = 2`); n != 1 {
		t.Fatal("the current version is not the resolved one with the v1 points and description")
	}
}

// A v2 record that says nothing new writes nothing: not the ticket, not
// its history, whatever it lacks. Its first sighting stores raw_v2 (a new
// payload, no version); after that v2 and v1 records of the same ticket
// may alternate without a write, each source's raw kept apart.
func TestMergeV2UnchangedWritesNothing(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	merge(t, s, load.Counts{Inserted: 1}, v1Full(1, transform.StateOpen, 1))
	v2 := v2Record(t, 1, "open", nil)
	if v2.Carries(transform.FieldPoints) || v2.Points != nil {
		t.Fatal("a v2 record should lack points")
	}
	merge(t, s, load.Counts{Updated: 1}, v2) // raw_v2 stored
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history`); n != 1 {
		t.Fatalf("versions = %d after a v2 record that changes nothing v1 said, want 1", n)
	}
	xmin := func() int64 {
		return queryInt(t, pool, `SELECT sum(xmin::text::bigint) FROM tickets`) +
			queryInt(t, pool, `SELECT coalesce(sum(xmin::text::bigint), 0) FROM ticket_history`)
	}
	before := xmin()
	merge(t, s, load.Counts{Unchanged: 1}, v2)
	merge(t, s, load.Counts{Unchanged: 1}, v1Full(1, transform.StateOpen, 1))
	merge(t, s, load.Counts{Unchanged: 1}, v2)
	if got := xmin(); got != before {
		t.Fatalf("unchanged merges rewrote rows (xmin sum %d -> %d)", before, got)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history`); n != 1 {
		t.Fatalf("versions = %d, want 1", n)
	}
	wantRow(t, ticketRow(t, pool, 1), v1Only)
}

// A leaderboard ticket is stored with its leaderboard, NULL achievement
// columns, no legacy type code, no v1 raw; its history version too.
func TestMergeLeaderboardTicket(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	lb := v2Record(t, 5, "open", map[string]any{"type": "submitted_wrong_value", "ticketableType": "leaderboard",
		"ticketableId": 777, "ticketableTitle": "Fastest lap", "authorDisplayName": "dev1"})
	merge(t, s, load.Counts{Inserted: 1}, lb)
	got := ticketRow(t, pool, 5)
	wantRow(t, got, map[string]string{"report_type": "submitted_wrong_value", "report_type_code": "", "report_state_code": "1",
		"ticketable_type": "leaderboard", "leaderboard_id": "777", "leaderboard_title": "Fastest lap",
		"achievement_id": "", "achievement_title": "", "achievement_description": "", "points": "", "badge_name": "",
		"raw->>'ReportedByULID'": "", "raw_v2->>'id'": "5"})
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets WHERE id = 5 AND raw IS NULL AND achievement_author IS NULL`); n != 1 {
		t.Fatal("a leaderboard ticket seen only through v2 has no v1 raw and no achievement author")
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 5 AND report_type_code IS NULL
		AND report_type = 'submitted_wrong_value' AND leaderboard_title = 'Fastest lap'`); n != 1 {
		t.Fatal("no history version of the leaderboard ticket")
	}
	// Renamed leaderboard: a version, like a renamed achievement.
	lb2 := v2Record(t, 5, "open", map[string]any{"type": "submitted_wrong_value", "ticketableType": "leaderboard",
		"ticketableId": 777, "ticketableTitle": "Fastest lap (any%)"})
	merge(t, s, load.Counts{Updated: 1}, lb2)
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 5`); n != 2 {
		t.Fatalf("versions = %d after the rename, want 2", n)
	}
	// It leaves the list and 404s: vanishing works for it as for any ticket.
	if n, err := s.MarkVanished(context.Background(), startRun(t, s), []int64{5}); err != nil || n != 1 {
		t.Fatalf("vanished %d %v", n, err)
	}
}

// A ticket first seen through v2 gets the v1-only columns when a v1 record
// of it comes (a version, as points and the description are versioned),
// and keeps its v2 raw.
func TestMergeV1AfterV2FillsColumns(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	merge(t, s, load.Counts{Inserted: 1}, v2Record(t, 3, "open", nil))
	wantRow(t, ticketRow(t, pool, 3), map[string]string{"points": "", "achievement_description": "", "badge_name": "",
		"achievement_type": "", "report_type_code": "2", "raw->>'ReportedByULID'": "", "raw_v2->>'id'": "3"})
	merge(t, s, load.Counts{Updated: 1}, v1Full(3, transform.StateOpen, 1))
	got := ticketRow(t, pool, 3)
	wantRow(t, got, map[string]string{"achievement_description": "Beat the boss without a hit", "achievement_type": "progression",
		"points": "5", "badge_name": "123456", "raw->>'ReportedByULID'": "01HZX", "raw_v2->>'id'": "3"})
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 3`); n != 2 {
		t.Fatalf("versions = %d, want 2", n)
	}
	// The next v2 record keeps them.
	merge(t, s, load.Counts{Unchanged: 1}, v2Record(t, 3, "open", nil))
	wantRow(t, ticketRow(t, pool, 3), v1Only)
}

// A state v2 names but has no legacy code for: stored as unknown with a
// NULL code on a new ticket; on a ticket v1 described, the v1 code is kept.
func TestMergeV2UnknownStateCode(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	odd := v2Record(t, 8, "pending_review", nil)
	if odd.Carries(transform.FieldReportStateCode) {
		t.Fatal("an unknown v2 state should lack its code")
	}
	merge(t, s, load.Counts{Inserted: 1}, odd)
	wantRow(t, ticketRow(t, pool, 8), map[string]string{"report_state": "unknown", "report_state_code": ""})

	merge(t, s, load.Counts{Inserted: 1}, v1Full(9, transform.StateUnknown, 7))
	merge(t, s, load.Counts{Updated: 1}, v2Record(t, 9, "pending_review", nil)) // raw_v2 only
	wantRow(t, ticketRow(t, pool, 9), map[string]string{"report_state": "unknown", "report_state_code": "7"})
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 9`); n != 1 {
		t.Fatalf("versions = %d, want 1", n)
	}
}

// A batch may hold the same ticket from both APIs; the last copy wins, and
// a lacking column of the winner keeps the stored value, not the loser's.
func TestMergeV2RepeatedInBatch(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	merge(t, s, load.Counts{Inserted: 1}, v1Full(4, transform.StateOpen, 1))
	other := v1Full(4, transform.StateOpen, 1)
	other.Points = ptr(int32(50))
	merge(t, s, load.Counts{Updated: 1}, other, v2Record(t, 4, "closed", map[string]any{"resolvedAt": time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)}))
	wantRow(t, ticketRow(t, pool, 4), map[string]string{"points": "5", "report_state": "closed"})
}
