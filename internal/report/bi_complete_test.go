package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/pgtest"
)

// TestBacklogDailyComplete: a day is complete once a successful sync
// finished after it ended. Today never is; failed syncs and backfills do not
// count.
func TestBacklogDailyComplete(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	now := time.Now().UTC()
	today := utcDay(now)
	game, title := int64(1), "Game"
	m := &model{tickets: []*mTicket{{
		id: 1, reported: today.AddDate(0, 0, -10).Add(5 * time.Hour), typ: "did_not_trigger",
		gameID: &game, gameTitle: &title,
		versions: []version{{from: today.AddDate(0, 0, -9), state: "open"}},
	}}}
	m.insert(t, db.Pool)

	// check: every day before firstIncomplete is complete and none from it
	// on is, and the days run from the first report to today.
	check := func(firstIncomplete time.Time) {
		t.Helper()
		rows, err := db.Pool.Query(ctx, `SELECT day, complete FROM analytics.backlog_daily ORDER BY day`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var day time.Time
			var complete bool
			if err := rows.Scan(&day, &complete); err != nil {
				t.Fatal(err)
			}
			if want := day.Before(firstIncomplete); complete != want {
				t.Errorf("%s: complete %v, want %v (first incomplete day %s)", day.Format(time.DateOnly), complete, want,
					firstIncomplete.Format(time.DateOnly))
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 11 {
			t.Errorf("%d days, want 11 (ten days ago to today)", n)
		}
	}
	// The model's only run has no finished_at: nothing is known complete.
	check(today.AddDate(0, 0, -100))

	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO sync_runs (id, kind, status, started_at, finished_at) VALUES
		(10, 'sync', 'succeeded', $1, $2),
		(11, 'backfill', 'succeeded', $3, $3),
		(12, 'sync', 'failed', $3, $3)`,
		today.AddDate(0, 0, -3), today.AddDate(0, 0, -3).Add(10*time.Minute), now)
	check(today.AddDate(0, 0, -3))

	exec(`INSERT INTO sync_runs (id, kind, status, started_at, finished_at) VALUES (13, 'sync', 'succeeded', $1, $1)`, now)
	check(today)
}
