package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// smallPool gives e a store on a pool of two connections (one of them is
// the run's lock) and tiny batches: a run that ever needed two connections
// for its batches would wait for ever.
func smallPool(t *testing.T, e *env) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(e.pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	e.cfg.Store = load.New(pool, e.cfg.Log)
	e.cfg.BatchSize = 7
}

// A backfill by id cuts batches per ticket, so runs of rejected records make
// batches that hold nothing else; such a batch takes its connection only
// at its commit. With a pool this small, no other batch may hold one then.
func TestTinyBatchesSmallPoolBackfill(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 12, Tickets: 400})
	smallPool(t, e)
	all := e.fake.All()
	from, to := all[0].ID, all[len(all)-1].ID
	// Replace runs of 9 tickets with records transform rejects.
	rejects := map[int64]bool{}
	for i := 20; i+9 < len(all); i += 40 {
		for _, tk := range all[i : i+9] {
			e.fake.PutRaw(tk.ID, tk.ReportedAt, json.RawMessage(fmt.Sprintf(`{"ID":%d,"ReportedAt":"%s","ReportType":1,"ReportState":"x"}`,
				tk.ID, tk.ReportedAt.Format(time.DateTime))))
			rejects[tk.ID] = true
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sum, err := pipeline.BackfillIDs(ctx, e.cfg, from, to, false, nil)
	if err != nil {
		t.Fatalf("backfill: %v (a deadlock ends in the deadline)", err)
	}
	want := int64(len(all) - len(rejects))
	if sum.Counts.Inserted != want || sum.Counts.Rejected != int64(len(rejects)) {
		t.Errorf("counts %+v, want %d inserted and %d rejected", sum.Counts, want, len(rejects))
	}
	db := dbTickets(t, e.pool)
	for _, tk := range all {
		if _, ok := db[tk.ID]; ok == rejects[tk.ID] {
			t.Errorf("ticket %d: stored %v, rejected %v", tk.ID, ok, rejects[tk.ID])
		}
	}
}

// The same for a sync (batches of whole pages here), run twice: the second
// run changes nothing.
func TestTinyBatchesSmallPoolSync(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 11, Tickets: 600})
	smallPool(t, e)
	e.cfg.Scan.PageSize = 20
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	open := int64(len(e.fake.Open()))
	for run, want := range []load.Counts{{Inserted: open}, {Unchanged: open}} {
		sum, err := pipeline.Sync(ctx, e.cfg)
		if err != nil {
			t.Fatalf("sync %d: %v (a deadlock ends in the deadline)", run+1, err)
		}
		if sum.Counts != want {
			t.Errorf("sync %d: counts %+v, want %+v", run+1, sum.Counts, want)
		}
	}
	assertTruth(t, e)
	var history int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM ticket_history`).Scan(&history); err != nil {
		t.Fatal(err)
	}
	if history != open {
		t.Errorf("%d history rows, want %d", history, open)
	}
}
