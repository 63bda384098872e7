package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

func tickets(from, n int64, state transform.ReportState, code int16) []transform.Ticket {
	out := make([]transform.Ticket, 0, n)
	for id := from; id < from+n; id++ {
		out = append(out, ticket(id, state, code))
	}
	return out
}

// A batch streamed page by page is merged as one: repeated ids keep the
// last copy, counters and sightings cover it, and nothing of it is visible
// before Commit although its first pages are in the database already. The
// next batch of the same sink sees it.
func TestSinkStreamsAndKeepsLastCopy(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	k := s.NewSink(run, true, nil)
	add := func(ts ...transform.Ticket) {
		t.Helper()
		for _, tk := range ts {
			if err := k.Add(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(tickets(1, 250, transform.StateOpen, 1)...) // two pages copied, one pending
	if n := queryInt(t, pool, `SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()`); n != 1 {
		t.Errorf("%d sessions in a transaction mid-batch, want the batch's 1", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 0 {
		t.Fatalf("%d tickets visible before Commit", n)
	}
	add(ticket(1, transform.StateResolved, 2)) // the same ticket, fresher
	k.Reject(load.Reject{Raw: []byte(`{"ID":"x"}`), Reason: "bad id"})
	if k.Len() != 252 {
		t.Errorf("Len = %d, want 252", k.Len())
	}
	if err := k.Commit(ctx, &load.Progress{Requests: 7, Pages: 6}, nil); err != nil {
		t.Fatal(err)
	}
	var state string
	if err := pool.QueryRow(ctx, `SELECT report_state::text FROM tickets WHERE id = 1`).Scan(&state); err != nil || state != "resolved" {
		t.Errorf("ticket 1 state = %q (%v), want the last copy's resolved", state, err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1`); n != 1 {
		t.Errorf("ticket 1 has %d history rows, want 1", n)
	}
	if n := queryInt(t, pool, `SELECT tickets_seen + 1000 * requests FROM sync_runs WHERE id = $1`, run); n != 251+7000 {
		t.Errorf("tickets_seen + 1000*requests = %d, want 7251", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_sightings WHERE last_listed_run_id = $1`, run); n != 250 {
		t.Errorf("%d sightings listed in the run, want 250", n)
	}
	add(ticket(2, transform.StateResolved, 2), ticket(999, transform.StateOpen, 1))
	if err := k.Commit(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	c, err := k.Close()
	if err != nil || c != (load.Counts{Inserted: 251, Updated: 1, Rejected: 1}) {
		t.Errorf("Close = %+v, %v; want 251 inserted, 1 updated, 1 rejected", c, err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 2`); n != 2 {
		t.Errorf("ticket 2 has %d history versions, want 2", n)
	}
}

// Close rolls back the open batch, also mid-COPY, and frees its connection.
func TestSinkCloseRollsBack(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	for i := range 20 { // more sinks than the pool has connections
		k := s.NewSink(run, true, nil)
		for _, tk := range tickets(int64(1000*i+1), 150, transform.StateOpen, 1) {
			if err := k.Add(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		if c, err := k.Close(); err != nil || c != (load.Counts{}) {
			t.Fatalf("Close = %+v, %v", c, err)
		}
		if _, err := k.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`) + queryInt(t, pool, `SELECT count(*) FROM ticket_sightings`); n != 0 {
		t.Errorf("%d rows stored by closed batches", n)
	}
}

// A row the server refuses fails the batch with an error that reaches the
// server's own (errors.As), whether the COPY fails at a page or at Commit;
// nothing of the batch is stored and the sink stays failed.
func TestSinkCopyFailure(t *testing.T) {
	t.Parallel()
	for _, n := range []int64{5, 150} { // failing at Commit, at the first page
		s, pool := newStore(t)
		ctx := context.Background()
		run := startRun(t, s)
		bad := ticket(2, transform.StateOpen, 1)
		bad.Raw = json.RawMessage(`{"ID":2,"x":"\u0000"}`) // jsonb refuses NUL
		k := s.NewSink(run, true, nil)
		err := k.Add(ctx, bad)
		for _, tk := range tickets(1000, n, transform.StateOpen, 1) {
			if err == nil {
				err = k.Add(ctx, tk)
			}
		}
		if err == nil {
			err = k.Commit(ctx, nil, nil)
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			t.Fatalf("batch of %d holding invalid jsonb: %v, want a *pgconn.PgError", n+1, err)
		}
		if err2 := k.Commit(ctx, nil, nil); !errors.Is(err2, pgErr) {
			t.Errorf("Commit after a failure: %v, want the failure", err2)
		}
		if _, err := k.Close(); !errors.Is(err, pgErr) {
			t.Errorf("Close: %v, want the failure", err)
		}
		if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 0 {
			t.Errorf("%d tickets stored by a failed batch", n)
		}
	}
}

// lateCancel reports itself cancelled without ever closing Done: a batch
// whose context ends just as the server refuses it.
type lateCancel struct{ context.Context }

func (lateCancel) Err() error { return context.Canceled }

// A batch that fails while its run is being cancelled says both: the
// cancellation, for callers that branch on it, and the server's error.
func TestSinkFailureWhileCancelled(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	run := startRun(t, s)
	bad := ticket(2, transform.StateOpen, 1)
	bad.Raw = json.RawMessage(`{"ID":2,"x":"\u0000"}`)
	_, err := s.Merge(lateCancel{context.Background()}, run, load.Batch{Tickets: []transform.Ticket{bad}})
	var pgErr *pgconn.PgError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &pgErr) {
		t.Errorf("error %v: want both context.Canceled and the *pgconn.PgError", err)
	}
}

// A cancelled context fails Commit instead of hanging, and stores nothing.
func TestSinkCancel(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	run := startRun(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	k := s.NewSink(run, true, nil)
	for _, tk := range tickets(1, 150, transform.StateOpen, 1) {
		if err := k.Add(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	done := make(chan error, 1)
	go func() { done <- k.Commit(ctx, nil, nil) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Commit hung after its context was cancelled")
	}
	_, _ = k.Close()
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 0 {
		t.Errorf("%d tickets stored by a cancelled batch", n)
	}
}

// A batch with nothing but a checkpoint still commits it (backfills move
// their checkpoint across runs of 404s).
func TestSinkEmptyWithCheckpoint(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	k := s.NewSink(run, false, nil)
	if err := k.Commit(ctx, nil, &load.Checkpoint{Name: "ids:1-9", Position: json.RawMessage(`{"next_id":5}`)}); err != nil {
		t.Fatal(err)
	}
	if c, err := k.Close(); err != nil || c != (load.Counts{}) {
		t.Fatalf("empty commit: %+v %v", c, err)
	}
	cp, found, err := s.GetCheckpoint(ctx, "ids:1-9")
	if err != nil || !found || string(cp.Position) != `{"next_id": 5}` {
		t.Errorf("checkpoint %s found=%v err=%v", cp.Position, found, err)
	}
}

// A batch whose run lost its lock (the lock's session was killed) is not
// committed: another run may hold the lock by now.
func TestSinkLockLost(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	lock, ok, err := s.TryLock(ctx)
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer lock.Release()
	k := s.NewSink(run, true, lock)
	if err := k.Add(ctx, ticket(1, transform.StateOpen, 1)); err != nil {
		t.Fatal(err)
	}
	if err := k.Commit(ctx, nil, nil); err != nil {
		t.Fatalf("commit while holding the lock: %v", err)
	}
	if n := queryInt(t, pool, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); n != 1 {
		t.Fatalf("terminated %d lock sessions, want 1", n)
	}
	if err := k.Add(ctx, ticket(2, transform.StateOpen, 1)); err != nil {
		t.Fatal(err)
	}
	if err := k.Commit(ctx, nil, nil); !errors.Is(err, load.ErrLockLost) {
		t.Errorf("commit after the lock's session was killed: %v, want ErrLockLost", err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 1 {
		t.Errorf("%d tickets stored, want only the one committed under the lock", n)
	}
}

// The lock's session outlives a server's idle_session_timeout: a run may
// go a long time between batches (a slow scan, a backfill of 404s), and a
// session ended for idleness takes the lock with it.
func TestLockOutlivesIdleSessionTimeout(t *testing.T) {
	t.Parallel()
	_, pool := newStore(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET idle_session_timeout = 300', current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	idle, err := pgxpool.New(ctx, pool.Config().ConnString()) // new sessions: they get the timeout
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	s := load.New(idle, zerolog.Nop())
	lock, ok, err := s.TryLock(ctx)
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer lock.Release()
	time.Sleep(time.Second)
	if err := lock.Check(ctx); err != nil {
		t.Errorf("lock after a second idle with idle_session_timeout = 300ms: %v", err)
	}
}
