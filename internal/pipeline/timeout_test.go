package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// TestDatabaseTimeoutsFailTheRunClearly: with another session holding a
// lock on tickets, a run on a pool with a short lock_timeout (or
// statement_timeout) fails instead of waiting for ever, with an error that
// names the timeout and the setting to change, is recorded as failed, and
// leaves the tickets and their history as they were.
func TestDatabaseTimeoutsFailTheRunClearly(t *testing.T) {
	t.Parallel()
	cases := []struct{ param, flag string }{
		{"lock_timeout", "--lock-timeout"},
		{"statement_timeout", "--statement-timeout"},
	}
	for i, tc := range cases {
		t.Run(tc.param, func(t *testing.T) {
			t.Parallel()
			e := setup(t, fakeapi.Options{Seed: 61 + int64(i), Tickets: 300})
			e.sync(t)
			e.fake.AddTickets(5)
			e.fake.SetState(e.fake.Open()[20].ID, 2, "fixer")
			ctx := context.Background()
			state := func() string {
				t.Helper()
				var s string
				if err := e.pool.QueryRow(ctx, `SELECT md5((SELECT string_agg(t::text, ',' ORDER BY id) FROM tickets t)
					|| (SELECT string_agg(h::text, ',' ORDER BY id) FROM ticket_history h))`).Scan(&s); err != nil {
					t.Fatal(err)
				}
				return s
			}
			before := state()

			cfg, err := pgxpool.ParseConfig(e.pool.Config().ConnString())
			if err != nil {
				t.Fatal(err)
			}
			cfg.ConnConfig.RuntimeParams[tc.param] = "300ms"
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			e.cfg.Store = load.New(pool, e.cfg.Log)

			// Another session holds a lock that blocks every write to tickets.
			blocker, err := e.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = blocker.Rollback(ctx) }()
			if _, err := blocker.Exec(ctx, `LOCK TABLE tickets IN EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
			sum, err := pipeline.Sync(ctx, e.cfg)
			if err == nil || sum.Status != load.StatusFailed {
				t.Fatalf("sync while tickets is locked: status %q err %v", sum.Status, err)
			}
			if te := (*load.TimeoutError)(nil); !errors.As(err, &te) || te.Setting != tc.param {
				t.Errorf("error %v is not a *load.TimeoutError for %s", err, tc.param)
			}
			for _, want := range []string{tc.param, "300ms", tc.flag} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			var recorded string
			if err := e.pool.QueryRow(ctx, `SELECT status || ': ' || coalesce(error, '') FROM sync_runs WHERE id = $1`, sum.RunID).Scan(&recorded); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(recorded, "failed: ") || !strings.Contains(recorded, tc.param) {
				t.Errorf("sync_runs records %q", recorded)
			}
			if err := blocker.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if state() != before {
				t.Error("the failed run changed tickets or ticket_history")
			}
			// Once the lock is gone, the next run converges.
			e.cfg.Store = load.New(e.pool, e.cfg.Log)
			e.sync(t)
			assertTruth(t, e)
		})
	}
}
