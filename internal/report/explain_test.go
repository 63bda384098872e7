package report_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/pgtest"
)

// TestExplainPlans logs the plan of every view, and of the queries the
// report runs, on a generated database (50,000 tickets; set
// RATICKETS_EXPLAIN_TICKETS for another size and RATICKETS_EXPLAIN_ANALYZE=1
// to run them and see row counts and buffers). It asserts only what does not
// depend on the planner's mood: the queries that read a small part of the
// tickets (the backlog, recent resolutions) use the partial indexes, and the
// history walks are index-only.
func TestExplainPlans(t *testing.T) {
	t.Parallel()
	n := 50000
	if s := os.Getenv("RATICKETS_EXPLAIN_TICKETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	explain := "EXPLAIN (COSTS OFF) "
	if os.Getenv("RATICKETS_EXPLAIN_ANALYZE") != "" {
		explain = "EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, COSTS OFF) "
	}
	db := pgtest.NewDB(t)
	start := time.Now()
	seedSynthetic(t, db.Pool, n)
	t.Logf("seeded %d tickets in %v", n, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	for _, q := range []struct {
		sql  string
		uses []string // index names the plan must mention
	}{
		{"SELECT * FROM analytics.backlog_daily", []string{"Index Only Scan using ticket_history_walk_idx", "tickets_id_reported_idx"}},
		{"SELECT * FROM analytics.resolution_times", nil},
		{"SELECT * FROM analytics.by_game", nil},
		{"SELECT * FROM analytics.by_console", nil},
		{"SELECT * FROM analytics.by_emulator", nil},
		// by_developer calls developer_stats, which pins its search_path so
		// that a dashboard role finds the tables; such a function is not
		// inlined, so its inner plan does not show here.
		{"SELECT * FROM analytics.by_developer", nil},
		{"SELECT * FROM analytics.reopened", []string{"Index Only Scan using ticket_history_walk_idx"}},
		{"SELECT * FROM analytics.open_tickets ORDER BY reported_at, ticket_id LIMIT 20", []string{"tickets_backlog_reported_idx"}},
		// The report's histogram with --since: recent resolutions only,
		// from the index alone.
		{`SELECT width_bucket(hours_to_resolution, ARRAY[1, 24, 168]::float8[]), count(*)
		  FROM analytics.resolution_times WHERE resolved_at >= '2025-05-01' GROUP BY 1`,
			[]string{"Index Only Scan using tickets_resolution_idx"}},
		{"SELECT game_id, count(*) FROM analytics.open_tickets GROUP BY game_id ORDER BY 2 DESC LIMIT 15",
			[]string{"tickets_backlog_reported_idx"}},
	} {
		rows, err := db.Pool.Query(ctx, explain+q.sql)
		if err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		var plan strings.Builder
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(line + "\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		t.Logf("%d tickets: %s\n%s", n, q.sql, plan.String())
		for _, u := range q.uses {
			if !strings.Contains(plan.String(), u) {
				t.Errorf("%s: the plan does not use %q", q.sql, u)
			}
		}
	}
}
