package report_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/load"
)

// TestAnalyticsMigrationDown: rolling back 00004 removes everything it
// added (schema, views, function, indexes), and it applies again after.
func TestAnalyticsMigrationDown(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	m, err := load.NewMigrator(db.Pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	count := func() (n int) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM pg_namespace WHERE nspname = 'analytics')
			+ (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'analytics')
			+ (SELECT count(*) FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace WHERE s.nspname = 'analytics')
			+ (SELECT count(*) FROM pg_indexes WHERE indexname IN ('tickets_backlog_reported_idx',
			   'tickets_resolution_idx', 'tickets_id_reported_idx', 'ticket_history_walk_idx',
			   'open_ticket_snapshots_taken_idx'))`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// 1 schema, 8 views, 1 function, 5 indexes.
	if n := count(); n != 15 {
		t.Fatalf("after up: %d analytics objects, want 15", n)
	}
	if err := m.DownTo(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Errorf("after down to 3: %d analytics objects left", n)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 15 {
		t.Errorf("after up again: %d analytics objects, want 15", n)
	}
}
