package pipeline_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// lookups records the ids the client looks up with i=.
type lookups struct {
	mu  sync.Mutex
	ids map[int64]int
}

func watchLookups(e *env) *lookups {
	l := &lookups{ids: map[int64]int{}}
	e.fake.SetHook(func(r *http.Request) {
		if id, err := strconv.ParseInt(r.URL.Query().Get("i"), 10, 64); err == nil {
			l.mu.Lock()
			l.ids[id]++
			l.mu.Unlock()
		}
	})
	return l
}

func (l *lookups) count(id int64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids[id]
}

func (l *lookups) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.ids)
}

// TestBackfilledOpenTicketsAreReconciled: a ticket stored as open by a
// backfill by id, and resolved before the next sync, is looked up by that
// sync (it left the open list, whether or not a scan ever saw it there).
func TestBackfilledOpenTicketsAreReconciled(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 41, Tickets: 300})
	all := e.fake.All()
	if _, err := pipeline.BackfillIDs(context.Background(), e.cfg, all[0].ID, all[len(all)-1].ID, false, nil); err != nil {
		t.Fatal(err)
	}
	open := e.fake.Open()
	resolved := []int64{open[0].ID, open[len(open)/2].ID, open[len(open)-1].ID}
	for _, id := range resolved {
		e.fake.SetState(id, 2, "fixer")
	}
	e.fake.Delete(open[3].ID)
	l := watchLookups(e)
	sum := e.sync(t)
	for _, id := range resolved {
		if l.count(id) != 1 {
			t.Errorf("backfilled ticket %d resolved before the sync was looked up %d times, want 1", id, l.count(id))
		}
	}
	// A backfill by id cannot tell tickets of unofficial achievements (never
	// in the open list) from official ones: those open are looked up too,
	// until a game backfill marks them (TestBackfillGames).
	var unofficialOpen int64
	for _, f := range e.fake.All() {
		if !f.Deleted && !f.Promoted && (f.ReportState == 1 || f.ReportState == 3) {
			unofficialOpen++
		}
	}
	if want := int64(len(resolved)) + unofficialOpen; sum.Reconciled != want || sum.Vanished != 1 {
		t.Errorf("sync reconciled %d and marked %d vanished, want %d and 1", sum.Reconciled, sum.Vanished, want)
	}
	assertTruth(t, e)
}

// TestReconcileGoesOnPastAFailingLookup: one ticket whose lookup fails for
// ever (500 past every retry) does not stop the lookups of the tickets
// after it; what was learned is stored (resolutions, 404s), and the run is
// recorded as failed, naming the id it could not look up. Once the lookup
// works again, the next sync converges.
func TestReconcileGoesOnPastAFailingLookup(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 43, Tickets: 500})
	e.sync(t)
	open := e.fake.Open()
	// Candidates are looked up in id order: break the lowest one.
	ids := []int64{open[5].ID, open[50].ID, open[100].ID, open[150].ID}
	bad := ids[0]
	for _, id := range ids {
		bad = min(bad, id)
		e.fake.SetState(id, 2, "fixer")
	}
	gone := open[200].ID
	e.fake.Delete(gone)
	e.broken.Store(bad, new(atomic.Int64))

	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if err == nil || sum.Status != load.StatusFailed {
		t.Fatalf("sync with a lookup failing for ever: status %q err %v, want failed", sum.Status, err)
	}
	if !strings.Contains(err.Error(), strconv.FormatInt(bad, 10)) {
		t.Errorf("error %q does not name ticket %d", err, bad)
	}
	if len(sum.LookupFailed) != 1 || sum.LookupFailed[0] != bad {
		t.Errorf("LookupFailed = %v, want [%d]", sum.LookupFailed, bad)
	}
	var recorded string
	if err := e.pool.QueryRow(context.Background(), `SELECT status || ': ' || error FROM sync_runs WHERE id = $1`, sum.RunID).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(recorded, "failed: ") || !strings.Contains(recorded, strconv.FormatInt(bad, 10)) {
		t.Errorf("sync_runs records %q", recorded)
	}
	db := dbTickets(t, e.pool)
	for _, id := range ids {
		want := int16(2)
		if id == bad {
			want = 1 // not looked up: still as it was
		}
		if db[id].state != want {
			t.Errorf("ticket %d state %d, want %d", id, db[id].state, want)
		}
	}
	if !db[gone].vanished {
		t.Errorf("the 404 for ticket %d was not marked", gone)
	}
	if sum.Reconciled != int64(len(ids)-1) || sum.Vanished != 1 {
		t.Errorf("summary: reconciled %d vanished %d", sum.Reconciled, sum.Vanished)
	}

	e.broken.Delete(bad)
	e.sync(t)
	assertTruth(t, e)
}

// TestReconcileStopsWhenEveryLookupFails: when lookups fail one after the
// other, the API is failing, not a ticket: after 5 in a row the rest are not
// tried (each would only wait through its retries), and the run fails
// naming every id it could not look up.
func TestReconcileStopsWhenEveryLookupFails(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 45, Tickets: 300})
	e.sync(t)
	open := e.fake.Open()
	var ids []int64
	for i := range 8 {
		id := open[10*i].ID
		ids = append(ids, id)
		e.fake.SetState(id, 2, "fixer")
		e.broken.Store(id, new(atomic.Int64))
	}
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if !errors.Is(err, pipeline.ErrLookupsFailed) || sum.Status != load.StatusFailed {
		t.Fatalf("status %q err %v", sum.Status, err)
	}
	tried := 0
	for _, id := range ids {
		n, _ := e.broken.Load(id)
		if n.(*atomic.Int64).Load() > 0 {
			tried++
		}
	}
	if tried != 5 {
		t.Errorf("%d tickets tried, want 5 (then stop)", tried)
	}
	if len(sum.LookupFailed) != len(ids) || !strings.Contains(err.Error(), "8 of 8") {
		t.Errorf("LookupFailed %v, error %q: want all 8 ids", sum.LookupFailed, err)
	}
}

// TestVanishedTicketsAreLookedUpAgain: a vanished ticket is not looked up on
// every sync, but again once its last lookup is a day old; one that answers
// again is stored as it is now (vanished_at cleared), one that still 404s
// waits another day.
func TestVanishedTicketsAreLookedUpAgain(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 47, Tickets: 400})
	e.sync(t)
	open := e.fake.Open()
	back, stays := open[7].ID, open[70].ID
	e.fake.Delete(back)
	e.fake.Delete(stays)
	if sum := e.sync(t); sum.Vanished != 2 {
		t.Fatalf("vanished %d, want 2", sum.Vanished)
	}
	// back returns, resolved (so not in the open list: only a lookup finds it).
	tk, _ := e.fake.Get(back)
	tk.Deleted = false
	e.fake.Put(tk)
	e.fake.SetState(back, 2, "fixer")

	l := watchLookups(e)
	e.sync(t)
	if l.count(back)+l.count(stays) != 0 {
		t.Fatalf("vanished tickets looked up again within the day: %d, %d", l.count(back), l.count(stays))
	}
	age := func() {
		t.Helper()
		if _, err := e.pool.Exec(context.Background(), `UPDATE tickets SET vanished_at = vanished_at - interval '25 hours' WHERE vanished_at IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if _, err := e.pool.Exec(context.Background(), `UPDATE ticket_sightings SET vanished_checked_at = vanished_checked_at - interval '25 hours'`); err != nil {
			t.Fatal(err)
		}
	}
	age()
	sum := e.sync(t)
	if l.count(back) != 1 || l.count(stays) != 1 {
		t.Fatalf("after a day: lookups %d, %d, want 1 each", l.count(back), l.count(stays))
	}
	if sum.NotFound != 1 || sum.Vanished != 0 {
		t.Errorf("recheck: not found %d, newly vanished %d; want 1, 0", sum.NotFound, sum.Vanished)
	}
	db := dbTickets(t, e.pool)
	if db[back].vanished || db[back].state != 2 {
		t.Errorf("ticket %d came back resolved: db vanished=%v state %d", back, db[back].vanished, db[back].state)
	}
	if !db[stays].vanished {
		t.Errorf("ticket %d still 404s but is no longer vanished", stays)
	}
	assertTruth(t, e)
	// The recheck that 404'd counts as a lookup: not again for a day.
	l.reset()
	e.sync(t)
	if l.count(stays) != 0 {
		t.Errorf("ticket %d looked up again on the next sync", stays)
	}
	age()
	l.reset()
	e.sync(t)
	if l.count(stays) != 1 {
		t.Errorf("ticket %d not looked up a day after its last recheck", stays)
	}
}
