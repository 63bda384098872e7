package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// TestBackfillIDsResumes: a backfill interrupted half way resumes from its
// checkpoint, fetches every ticket of the range in any state, counts 404s,
// and ends with the database equal to the simulator for that range.
func TestBackfillIDsResumes(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 21, Tickets: 400})
	e.cfg.BatchSize = 100 // batches, and so checkpoints, land before the interrupt
	all := e.fake.All()
	from, to := all[0].ID, all[len(all)-1].ID
	e.fake.Delete(all[10].ID) // a 404 inside the range

	ctx, cancel := context.WithCancel(context.Background())
	var lookups atomic.Int64
	e.fake.SetHook(func(r *http.Request) {
		if r.URL.Query().Get("i") != "" && lookups.Add(1) == 300 {
			cancel()
		}
	})
	sum, err := pipeline.BackfillIDs(ctx, e.cfg, from, to, false, nil)
	if err == nil || sum.Status != load.StatusCancelled {
		t.Fatalf("interrupted backfill: status %q err %v", sum.Status, err)
	}
	cp, found, err := e.cfg.Store.GetCheckpoint(context.Background(), fmt.Sprintf("ids:%d-%d", from, to))
	if err != nil || !found || cp.Done {
		t.Fatalf("checkpoint after interrupt: %+v found=%v err=%v", cp, found, err)
	}
	e.fake.SetHook(nil)
	before := e.fake.Requests()["ticket"]

	var lastDone, lastTotal int64
	var final bool
	sum, err = pipeline.BackfillIDs(context.Background(), e.cfg, from, to, false, func(done, total int64, f bool) {
		lastDone, lastTotal, final = done, total, f
	})
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("resumed backfill: %q %v", sum.Status, err)
	}
	span := to - from + 1
	resumed := int64(e.fake.Requests()["ticket"] - before)
	if resumed >= span || resumed < span-300 {
		t.Errorf("resumed run made %d lookups for a range of %d after 300 done: did not resume from the checkpoint", resumed, span)
	}
	if sum.Pages != 0 || sum.Lookups != resumed {
		t.Errorf("pages %d, lookups %d: want 0 pages (i= requests are lookups) and %d lookups", sum.Pages, sum.Lookups, resumed)
	}
	if !final || lastDone != lastTotal || lastTotal != span {
		t.Errorf("progress ended at %d/%d final=%v", lastDone, lastTotal, final)
	}
	if sum.NotFound < 1 {
		t.Errorf("404s not counted: %d", sum.NotFound)
	}
	// Every existing ticket of the range is in the database, in its state.
	db := dbTickets(t, e.pool)
	for _, f := range all {
		d, ok := db[f.ID]
		g, _ := e.fake.Get(f.ID)
		switch {
		case g.Deleted && ok:
			t.Errorf("deleted ticket %d stored", f.ID)
		case !g.Deleted && !ok:
			t.Errorf("ticket %d missing after backfill", f.ID)
		case ok && int(d.state) != g.ReportState:
			t.Errorf("ticket %d state %d, source %d", f.ID, d.state, g.ReportState)
		}
	}
	// Running it again does nothing: the checkpoint says done.
	again := e.fake.Requests()["ticket"]
	if _, err := pipeline.BackfillIDs(context.Background(), e.cfg, from, to, false, nil); err != nil {
		t.Fatal(err)
	}
	if n := e.fake.Requests()["ticket"] - again; n != 0 {
		t.Errorf("a finished range was fetched again (%d lookups)", n)
	}
}

// TestBackfillGames fetches whole games in every state, promoted and
// unofficial achievements, and a sync afterwards does not look up the
// unofficial open tickets.
func TestBackfillGames(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 33, Tickets: 600})
	e.sync(t) // fills the games known to the database
	sum, err := pipeline.BackfillGames(context.Background(), e.cfg, nil, false, nil)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("backfill games: %q %v", sum.Status, err)
	}
	games := map[int64]bool{}
	for _, id := range mustGameIDs(t, e) {
		games[id] = true
	}
	db := dbTickets(t, e.pool)
	var unofficial int
	for _, f := range e.fake.All() {
		if f.Deleted || !games[f.GameID] {
			continue
		}
		if !f.Promoted {
			unofficial++
		}
		d, ok := db[f.ID]
		if !ok {
			t.Errorf("ticket %d of game %d (promoted=%v, state %d) missing", f.ID, f.GameID, f.Promoted, f.ReportState)
			continue
		}
		if int(d.state) != f.ReportState {
			t.Errorf("ticket %d state %d, source %d", f.ID, d.state, f.ReportState)
		}
	}
	if unofficial == 0 {
		t.Error("the simulated games have no unofficial tickets; the test proves nothing about f=5")
	}
	before := e.fake.Requests()["ticket"]
	e.sync(t)
	if n := e.fake.Requests()["ticket"] - before; n != 0 {
		t.Errorf("sync after a game backfill made %d i= lookups, want 0", n)
	}
}

func mustGameIDs(t *testing.T, e *env) []int64 {
	t.Helper()
	ids, err := e.cfg.Store.GameIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
