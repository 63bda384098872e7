package pipeline_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// A run whose lock session dies mid-run (a DBA's pg_terminate_backend, an
// idle timeout, a proxy) must stop writing: another run may take the lock
// and write too. The run fails at its next batch, naming the lost lock, and
// commits nothing after the session died.
func TestSyncStopsWhenItLosesTheLock(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 13, Tickets: 2000})
	e.cfg.BatchSize = 100 // a batch per page or so
	var requests atomic.Int64
	killed := make(chan int64, 1) // tickets stored when the lock's session died
	e.fake.SetHook(func(r *http.Request) {
		if requests.Add(1) != 5 {
			return
		}
		var n, stored int64
		err := e.pool.QueryRow(r.Context(), `SELECT count(pg_terminate_backend(pid)),
			(SELECT count(*) FROM tickets) FROM pg_locks WHERE locktype = 'advisory'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n, &stored)
		if err != nil || n != 1 {
			t.Errorf("terminated %d lock sessions: %v", n, err)
		}
		killed <- stored
	})
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if !errors.Is(err, load.ErrLockLost) || sum.Status != load.StatusFailed {
		t.Fatalf("sync after its lock's session died: status %q, err %v; want failed with ErrLockLost", sum.Status, err)
	}
	stored := <-killed
	var now int64
	var status, runErr string
	if err := e.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM tickets), status, error
		FROM sync_runs WHERE id = $1`, sum.RunID).Scan(&now, &status, &runErr); err != nil {
		t.Fatal(err)
	}
	if stored == 0 || now != stored {
		t.Errorf("%d tickets stored when the lock was lost, %d after: want some, and none written after", stored, now)
	}
	if status != load.StatusFailed || strings.Count(runErr, "lost its advisory lock") != 1 {
		t.Errorf("run recorded as %q: %q; want failed, naming the lost lock once", status, runErr)
	}
}

// A scan stopped by --max-pages still has to commit its last batch: when
// that commit fails (here the lock's session died while the pages were
// read), the run fails instead of reporting success for tickets it never
// stored.
func TestPageLimitWithAFailedLastBatchFails(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 13, Tickets: 800})
	e.cfg.BatchSize = 10_000 // one batch: its commit is the last thing the run does
	e.cfg.Scan.MaxPages = 2
	var requests atomic.Int64
	e.fake.SetHook(func(r *http.Request) {
		if requests.Add(1) != 2 {
			return
		}
		var n int64
		err := e.pool.QueryRow(r.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
			WHERE locktype = 'advisory'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("terminated %d lock sessions: %v", n, err)
		}
	})
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if !errors.Is(err, load.ErrLockLost) || sum.Status != load.StatusFailed {
		t.Fatalf("page-limited sync whose last batch failed: status %q, err %v; want failed with ErrLockLost", sum.Status, err)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM tickets`); n != 0 {
		t.Errorf("%d tickets stored by a batch that failed", n)
	}
}
