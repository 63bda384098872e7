package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
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
// unofficial achievements. A sync afterwards looks up the official tickets
// the backfill stored as open that are no longer in the open list, and
// never the unofficial ones (they cannot be in it: the backfill marked them).
func TestBackfillGames(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 33, Tickets: 600})
	gameSet := map[int64]bool{}
	for _, f := range e.fake.All() {
		gameSet[f.GameID] = true
	}
	var games []int64
	for g := range gameSet {
		games = append(games, g)
	}
	slices.Sort(games)
	sum, err := pipeline.BackfillGames(context.Background(), e.cfg, games, false, nil)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("backfill games: %q %v", sum.Status, err)
	}
	db := dbTickets(t, e.pool)
	var unofficial, unofficialOpen, officialOpen []int64
	for _, f := range e.fake.All() {
		if f.Deleted {
			continue
		}
		isOpen := f.ReportState == 1 || f.ReportState == 3
		switch {
		case !f.Promoted:
			unofficial = append(unofficial, f.ID)
			if isOpen {
				unofficialOpen = append(unofficialOpen, f.ID)
			}
		case isOpen:
			officialOpen = append(officialOpen, f.ID)
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
	if len(unofficialOpen) < 2 || len(officialOpen) < 3 {
		t.Fatalf("the simulated games have %d open unofficial and %d open official tickets; the test proves nothing about f=5", len(unofficialOpen), len(officialOpen))
	}
	if n := count(t, e.pool, `SELECT count(*) FROM unofficial_tickets`); n != int64(len(unofficial)) {
		t.Errorf("%d tickets marked unofficial, the games have %d", n, len(unofficial))
	}
	// Resolved at the source after the backfill, before any sync.
	resolved := officialOpen[:3]
	for _, id := range resolved {
		e.fake.SetState(id, 2, "fixer")
	}
	for _, id := range unofficialOpen {
		e.fake.SetState(id, 2, "fixer")
	}
	l := watchLookups(e)
	e.sync(t)
	for _, id := range resolved {
		if l.count(id) != 1 {
			t.Errorf("official ticket %d, open when backfilled and resolved since, was looked up %d times, want 1", id, l.count(id))
		}
	}
	for _, id := range unofficialOpen {
		if l.count(id) != 0 {
			t.Errorf("unofficial ticket %d was looked up %d times: it can never be in the open list", id, l.count(id))
		}
	}
	db = dbTickets(t, e.pool)
	for _, id := range resolved {
		if db[id].state != 2 {
			t.Errorf("ticket %d state %d after the sync, want resolved", id, db[id].state)
		}
	}
	l.reset()
	e.sync(t)
	if n := len(l.ids); n != 0 {
		t.Errorf("a quiet sync after that made %d lookups", n)
	}
}
