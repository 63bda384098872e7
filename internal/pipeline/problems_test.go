package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// TestFieldProblemsKeepTheTicket: an unreadable optional field is stored
// NULL and recorded in rejected_records with its field name; the ticket is
// kept and not counted as rejected. Only an unusable id, state or report
// time sets a record aside whole (field NULL).
func TestFieldProblemsKeepTheTicket(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 31, Tickets: 200})
	open := e.fake.Open()
	at := func(i int) string { return open[i].ReportedAt.UTC().Format(time.DateTime) }
	const kept, aside = 9_000_001, 9_000_002
	keptRaw := fmt.Sprintf(`{"ID":%d,"ReportedAt":"%s","ReportType":2,"ReportState":1,"Hardcore":"true","Points":3000000000,"GameTitle":"Kept"}`, kept, at(10))
	asideRaw := fmt.Sprintf(`{"ID":%d,"ReportedAt":"%s","ReportType":2,"ReportState":"open","Hardcore":1}`, aside, at(20))
	e.fake.PutRaw(kept, open[10].ReportedAt, json.RawMessage(keptRaw))
	e.fake.PutRaw(aside, open[20].ReportedAt, json.RawMessage(asideRaw))

	sum := e.sync(t)
	if sum.Counts.Rejected != 1 || sum.Counts.Inserted != int64(len(open)+1) {
		t.Errorf("counts %+v, want %d inserted and 1 rejected", sum.Counts, len(open)+1)
	}
	ctx := context.Background()
	var (
		hardcore *bool
		points   *int32
		title    *string
	)
	if err := e.pool.QueryRow(ctx, `SELECT hardcore, points, game_title FROM tickets WHERE id = $1`, kept).
		Scan(&hardcore, &points, &title); err != nil {
		t.Fatalf("ticket with unreadable optional fields not stored: %v", err)
	}
	if hardcore != nil || points != nil || title == nil || *title != "Kept" {
		t.Errorf("hardcore %v, points %v, game_title %v; want NULL, NULL, Kept", hardcore, points, title)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM tickets WHERE id = $1`, aside); n != 0 {
		t.Errorf("record with an unusable state was stored")
	}

	rows, err := e.pool.Query(ctx, `SELECT ticket_id, field, raw, reason FROM rejected_records ORDER BY ticket_id, field NULLS FIRST`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var (
			id          *int64
			field       *string
			raw, reason string
		)
		if err := rows.Scan(&id, &field, &raw, &reason); err != nil {
			t.Fatal(err)
		}
		f := "NULL"
		if field != nil {
			f = *field
		}
		got = append(got, fmt.Sprintf("%d %s %v", *id, f, raw == keptRaw || raw == asideRaw))
		if f != "NULL" && !strings.Contains(reason, "expected") && !strings.Contains(reason, "out of range") {
			t.Errorf("reason %q does not say what was wrong", reason)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("%d Hardcore true", kept), fmt.Sprintf("%d Points true", kept),
		fmt.Sprintf("%d NULL true", aside),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rejected_records:\n got %q\nwant %q", got, want)
	}
	if n := count(t, e.pool, `SELECT rejected FROM sync_runs`); n != 1 {
		t.Errorf("sync_runs.rejected = %d, want 1 (field problems do not count)", n)
	}
}
