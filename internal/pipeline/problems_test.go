package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/transform"
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

// TestUnstorableNumberIsSetAside: a record holding a number PostgreSQL
// cannot store in jsonb (numeric's range) is set aside with its raw text
// and a reason; it fails neither the batch nor the run, and the next run
// is not blocked by it either.
func TestUnstorableNumberIsSetAside(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 32, Tickets: 200})
	open := e.fake.Open()
	const id = 9_100_001
	raw := fmt.Sprintf(`{"ID":%d,"ReportedAt":"%s","ReportType":2,"ReportState":1,"Extra":{"n":[1e1000000]}}`,
		id, open[5].ReportedAt.UTC().Format(time.DateTime))
	e.fake.PutRaw(id, open[5].ReportedAt, json.RawMessage(raw))
	for run := 1; run <= 2; run++ {
		sum := e.sync(t)
		if sum.Counts.Rejected != 1 {
			t.Errorf("run %d: counts %+v, want 1 rejected", run, sum.Counts)
		}
	}
	if n := count(t, e.pool, `SELECT count(*) FROM tickets`); n != int64(len(open)) {
		t.Errorf("%d tickets stored, want the %d good ones", n, len(open))
	}
	var (
		gotRaw, reason string
		field          *string
	)
	if err := e.pool.QueryRow(context.Background(), `SELECT raw, reason, field FROM rejected_records WHERE ticket_id = $1 AND run_id = 1`, id).
		Scan(&gotRaw, &reason, &field); err != nil {
		t.Fatalf("record not in rejected_records: %v", err)
	}
	if gotRaw != raw || field != nil || !strings.Contains(reason, "1e1000000") || !strings.Contains(reason, "jsonb") {
		t.Errorf("rejected_records: raw %.80q, field %v, reason %q", gotRaw, field, reason)
	}
}

// TestJSONBNumberLimits holds transform's verdict on numbers to what
// PostgreSQL itself accepts as jsonb, at the edges of numeric's range.
func TestJSONBNumberLimits(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	lits := []string{
		"1e1000000", "-1e1000000", "1e131071", "1e131072", "9.99e131071", "123e131069", "123e131070",
		"1E+131071", "1e+131072", "-1e131072", "0.001e131074", "0.001e131075",
		"1e-16383", "1e-16384", "1.5e-16382", "1.5e-16383", "-1.5e-16383", "0e-16383", "0e-16384",
		"0.0e-16383", "0e131072", "0e1073741822", "0e1073741823", "1e-1073741823", "1e-1073741822",
		"1e99999999999999999999", "0.5", "-0", "12345678901234567890",
		strings.Repeat("9", 131072), "1" + strings.Repeat("0", 131072),
		"0." + strings.Repeat("1", 16383), "0." + strings.Repeat("1", 16384),
		"1." + strings.Repeat("0", 16383) + "e1", "1." + strings.Repeat("0", 16384) + "e1",
	}
	for _, lit := range lits {
		doc := `{"ID":5,"ReportedAt":"2024-01-10 22:31:54","ReportType":2,"ReportState":1,"Extra":` + lit + `}`
		var pgErr error
		if _, err := db.Pool.Exec(context.Background(), `SELECT $1::text::jsonb`, doc); err != nil {
			pgErr = err
		}
		_, err := transform.Parse(json.RawMessage(doc))
		if (pgErr == nil) != (err == nil) {
			t.Errorf("%.40s (len %d): PostgreSQL says %v, transform says %v", lit, len(lit), pgErr, err)
		}
	}
}
