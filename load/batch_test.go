package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

// A batch streamed in several Adds is merged as one: repeated ids keep the
// last copy, counters and sightings cover it, and the first Add already
// holds a transaction that nothing outside sees before Commit.
func TestBatchWriterStreamsAndKeepsLastCopy(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	w := s.NewBatch(ctx, run, true)
	first := ticket(1, transform.StateOpen, 1)
	if err := w.Add([]transform.Ticket{first, ticket(2, transform.StateOpen, 1)}); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 0 {
		t.Fatalf("%d tickets visible before Commit", n)
	}
	later := ticket(1, transform.StateResolved, 2) // the same ticket, fresher
	if err := w.Add([]transform.Ticket{ticket(3, transform.StateRequest, 3), later}); err != nil {
		t.Fatal(err)
	}
	w.Reject(load.Reject{Raw: []byte(`{"ID":"x"}`), Reason: "bad id"})
	if w.Len() != 5 {
		t.Errorf("Len = %d, want 5", w.Len())
	}
	c, err := w.Commit(&load.Progress{Requests: 7, Pages: 6}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != (load.Counts{Inserted: 3, Rejected: 1}) {
		t.Errorf("counts = %+v, want 3 inserted, 1 rejected", c)
	}
	var state string
	if err := pool.QueryRow(ctx, `SELECT report_state::text FROM tickets WHERE id = 1`).Scan(&state); err != nil || state != "resolved" {
		t.Errorf("ticket 1 state = %q (%v), want the last copy's resolved", state, err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1`); n != 1 {
		t.Errorf("ticket 1 has %d history rows, want 1", n)
	}
	if n := queryInt(t, pool, `SELECT tickets_seen + 100 * requests FROM sync_runs WHERE id = $1`, run); n != 4+700 {
		t.Errorf("tickets_seen + 100*requests = %d, want 704", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_sightings WHERE last_listed_run_id = $1`, run); n != 3 {
		t.Errorf("%d sightings listed in the run, want 3", n)
	}
	if err := w.Add([]transform.Ticket{ticket(9, transform.StateOpen, 1)}); err == nil {
		t.Error("Add after Commit succeeded")
	}
	w.Abort() // after Commit: nothing happens
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 3 {
		t.Errorf("%d tickets after a late Abort, want 3", n)
	}
}

// Abort stores nothing, also mid-COPY, and frees the connection.
func TestBatchWriterAbort(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	for i := range 20 { // more writers than the pool has connections
		w := s.NewBatch(ctx, run, true)
		if err := w.Add([]transform.Ticket{ticket(int64(i+1), transform.StateOpen, 1)}); err != nil {
			t.Fatal(err)
		}
		w.Abort()
		w.Abort()
		if _, err := w.Commit(nil, nil); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`) + queryInt(t, pool, `SELECT count(*) FROM ticket_sightings`); n != 0 {
		t.Errorf("%d rows stored by aborted batches", n)
	}
}

// A row the server refuses fails the batch with a clear error, whether the
// COPY notices during a later Add or at Commit, and nothing is stored.
func TestBatchWriterCopyFailure(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	bad := ticket(2, transform.StateOpen, 1)
	bad.Raw = json.RawMessage(`{"ID":2,"x":"\u0000"}`) // jsonb refuses NUL
	w := s.NewBatch(ctx, run, true)
	var err error
	for i := 0; i < 50 && err == nil; i++ { // keep streaming until the COPY's failure surfaces
		batch := []transform.Ticket{ticket(int64(1000+i), transform.StateOpen, 1)}
		if i == 0 {
			batch = append(batch, bad)
		}
		err = w.Add(batch)
	}
	if err == nil {
		_, err = w.Commit(nil, nil)
	} else {
		w.Abort()
	}
	if err == nil {
		t.Fatal("a batch holding invalid jsonb committed")
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 0 {
		t.Errorf("%d tickets stored by a failed batch", n)
	}
}

// Two writers at once, as the pipeline runs them: the second fills while
// the first commits, and sees its rows when it commits after it.
func TestBatchWritersOverlap(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	a := s.NewBatch(ctx, run, true)
	b := s.NewBatch(ctx, run, true)
	if err := a.Add([]transform.Ticket{ticket(1, transform.StateOpen, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := b.Add([]transform.Ticket{ticket(1, transform.StateResolved, 2), ticket(2, transform.StateOpen, 1)}); err != nil {
		t.Fatal(err)
	}
	ca, err := a.Commit(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Commit(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ca != (load.Counts{Inserted: 1}) || cb != (load.Counts{Inserted: 1, Updated: 1}) {
		t.Errorf("counts %+v then %+v, want 1 inserted, then 1 inserted and 1 updated", ca, cb)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1`); n != 2 {
		t.Errorf("ticket 1 has %d history versions, want 2", n)
	}
}

// A cancelled context ends a writer that is waiting in its COPY: Add and
// Commit fail instead of hanging, and Abort returns.
func TestBatchWriterCancel(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	run := startRun(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	w := s.NewBatch(ctx, run, true)
	if err := w.Add([]transform.Ticket{ticket(1, transform.StateOpen, 1)}); err != nil {
		t.Fatal(err)
	}
	cancel()
	done := make(chan error, 1)
	go func() {
		_, err := w.Commit(nil, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Commit hung after its context was cancelled")
	}
	w.Abort()
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets`); n != 0 {
		t.Errorf("%d tickets stored by a cancelled batch", n)
	}
}

// A batch with nothing but a checkpoint still commits it (backfills move
// their checkpoint across runs of 404s).
func TestBatchWriterEmptyWithCheckpoint(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	w := s.NewBatch(ctx, run, false)
	c, err := w.Commit(nil, &load.Checkpoint{Name: "ids:1-9", Position: json.RawMessage(`{"next_id":5}`)})
	if err != nil || c != (load.Counts{}) {
		t.Fatalf("empty commit: %+v %v", c, err)
	}
	cp, found, err := s.GetCheckpoint(ctx, "ids:1-9")
	if err != nil || !found || string(cp.Position) != `{"next_id": 5}` {
		t.Errorf("checkpoint %s found=%v err=%v", cp.Position, found, err)
	}
}
