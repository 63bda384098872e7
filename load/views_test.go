package load_test

import (
	"context"
	"testing"
	"time"
)

// TestHistoryViews checks tickets_as_of, daily_backlog and
// ticket_resolution_times against a hand-built history whose answers are
// worked out here by hand.
func TestHistoryViews(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	d := func(day, hour int) time.Time { return time.Date(2024, 3, day, hour, 0, 0, 0, time.UTC) }
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// Ticket 1: open from 1 Mar 10:00, resolved 2 Mar 12:00, reopened 4 Mar 09:00.
	// Ticket 2: request from 1 Mar 11:00, closed 3 Mar 08:00.
	for _, id := range []int{1, 2} {
		exec(`INSERT INTO tickets (id, reported_at, report_type, report_type_code, report_state, report_state_code,
			first_seen_at, updated_at, raw, resolved_at, game_title, console_name)
			VALUES ($1, $2, 'did_not_trigger', 2, 'open', 1, now(), now(), '{}', NULL, 'G', 'SNES')`, id, d(1, 9))
	}
	exec(`UPDATE tickets SET report_state = 'closed', report_state_code = 0, resolved_at = $1 WHERE id = 2`, d(3, 8))
	hist := `INSERT INTO ticket_history (ticket_id, valid_from, valid_to, report_state, report_state_code,
		report_type, report_type_code, resolved_at, run_id) VALUES ($1, $2, $3, $4, $5, 'did_not_trigger', 2, $6, $7)`
	exec(hist, 1, d(1, 10), d(2, 12), "open", 1, nil, run)
	exec(hist, 1, d(2, 12), d(4, 9), "resolved", 2, d(2, 12), run)
	exec(hist, 1, d(4, 9), nil, "open", 1, nil, run)
	exec(hist, 2, d(1, 11), d(3, 8), "request", 3, nil, run)
	exec(hist, 2, d(3, 8), nil, "closed", 0, d(3, 8), run)

	asOf := func(ts time.Time) map[int64]string {
		rows, err := pool.Query(ctx, `SELECT ticket_id, report_state::text FROM tickets_as_of($1)`, ts)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]string{}
		for rows.Next() {
			var id int64
			var st string
			if err := rows.Scan(&id, &st); err != nil {
				t.Fatal(err)
			}
			out[id] = st
		}
		return out
	}
	cases := []struct {
		at   time.Time
		want map[int64]string
	}{
		{d(1, 9), map[int64]string{}},
		{d(1, 10), map[int64]string{1: "open"}},
		{d(2, 12), map[int64]string{1: "resolved", 2: "request"}},
		{d(3, 9), map[int64]string{1: "resolved", 2: "closed"}},
		{d(5, 0), map[int64]string{1: "open", 2: "closed"}},
	}
	for _, c := range cases {
		got := asOf(c.at)
		if len(got) != len(c.want) {
			t.Errorf("tickets_as_of(%v) = %v, want %v", c.at, got, c.want)
			continue
		}
		for id, st := range c.want {
			if got[id] != st {
				t.Errorf("tickets_as_of(%v)[%d] = %q, want %q", c.at, id, got[id], st)
			}
		}
	}

	// End of day: 1 Mar open 1 request 1; 2 Mar open 0 request 1; 3 Mar 0/0; 4 Mar 1/0.
	want := map[string][2]int64{"2024-03-01": {1, 1}, "2024-03-02": {0, 1}, "2024-03-03": {0, 0}, "2024-03-04": {1, 0}}
	for day, w := range want {
		var open, request int64
		if err := pool.QueryRow(ctx, `SELECT open, request FROM daily_backlog WHERE day = $1::date`, day).Scan(&open, &request); err != nil {
			t.Fatalf("daily_backlog %s: %v", day, err)
		}
		if open != w[0] || request != w[1] {
			t.Errorf("daily_backlog %s = open %d request %d, want %v", day, open, request, w)
		}
	}

	var hours float64
	if err := pool.QueryRow(ctx, `SELECT hours_to_resolution FROM ticket_resolution_times WHERE ticket_id = 2`).Scan(&hours); err != nil {
		t.Fatal(err)
	}
	if hours != 47 { // 1 Mar 09:00 -> 3 Mar 08:00
		t.Errorf("hours_to_resolution = %v, want 47", hours)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_resolution_times WHERE ticket_id = 1`); n != 0 {
		t.Error("a reopened ticket is not resolved now")
	}
}
