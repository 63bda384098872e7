package pipeline_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratickets/ratickets/extract"
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

// bigGame adds n resolved tickets on promoted achievements to one game of
// e's world, reported at(i), and returns the game's ID.
func bigGame(t *testing.T, e *env, n int, at func(i int) time.Time) int64 {
	t.Helper()
	all := e.fake.All()
	var tmpl *fakeapi.Ticket
	for i := range all {
		if f := all[i]; f.Promoted && !f.Deleted && f.ReportState == fakeapi.StateResolved && f.ResolvedAt != nil {
			tmpl = &all[i]
			break
		}
	}
	if tmpl == nil {
		t.Fatal("no resolved promoted ticket to copy")
	}
	next := all[len(all)-1].ID + 1
	for i := range n {
		f := *tmpl
		f.ID, f.ReportedAt = next+int64(i), at(i)
		resolved := f.ReportedAt.Add(time.Hour)
		f.ResolvedAt = &resolved
		e.fake.Put(f)
	}
	return tmpl.GameID
}

// gameList is a game's list of promoted tickets in served order (newest
// first, ID descending within a second).
func gameList(e *env, gameID int64) []fakeapi.Ticket {
	var out []fakeapi.Ticket
	for _, f := range e.fake.All() {
		if f.GameID == gameID && f.Promoted && !f.Deleted {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b fakeapi.Ticket) int {
		if c := b.ReportedAt.Compare(a.ReportedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

// assertGameStored checks that every ticket of the game's promoted list is
// in the database.
func assertGameStored(t *testing.T, e *env, gameID int64) {
	t.Helper()
	db := dbTickets(t, e.pool)
	for _, f := range gameList(e, gameID) {
		if _, ok := db[f.ID]; !ok {
			t.Errorf("ticket %d of game %d (reported %s) missing after the backfill", f.ID, gameID, f.ReportedAt.Format(time.DateTime))
		}
	}
}

// isGamePage reports whether r asks for a page of gameID's promoted list.
func isGamePage(r *http.Request, gameID int64) bool {
	q := r.URL.Query()
	return q.Get("g") == strconv.FormatInt(gameID, 10) && q.Get("d") == "1" && q.Get("f") == ""
}

// minuteApart reports ticket i one minute before ticket i-1.
func minuteApart(i int) time.Time {
	return time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute)
}

// TestBackfillGamesListMovesBetweenPages: a ticket near the top of a game's
// list is deleted between the first and the second page request; every
// ticket below it moves up one place. None may be skipped.
func TestBackfillGamesListMovesBetweenPages(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 41, Tickets: 300})
	g := bigGame(t, e, 250, minuteApart)
	victim := gameList(e, g)[5].ID
	var pages atomic.Int64
	e.fake.SetHook(func(r *http.Request) {
		if isGamePage(r, g) && pages.Add(1) == 2 {
			e.fake.Delete(victim)
		}
	})
	sum, err := pipeline.BackfillGames(context.Background(), e.cfg, []int64{g}, false, nil)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("backfill games: %q %v", sum.Status, err)
	}
	assertGameStored(t, e, g)
}

// tieShuffler serves a game's list ordered by ReportedAt alone, as RAWeb
// may: tickets reported in the same second come ID ascending on even
// requests and descending on odd ones. Other requests go to the simulator.
type tieShuffler struct {
	fake     *fakeapi.Server
	gameID   int64
	requests atomic.Int64
}

func (s *tieShuffler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isGamePage(r, s.gameID) {
		s.fake.ServeHTTP(w, r)
		return
	}
	q := r.URL.Query()
	o, _ := strconv.Atoi(q.Get("o"))
	c, _ := strconv.Atoi(q.Get("c"))
	c = min(c, 100)
	// The whole list, read from the simulator in pages (nothing changes it
	// meanwhile: no hook is set).
	var head map[string]json.RawMessage
	var list []json.RawMessage
	for off := 0; ; off += 100 {
		q.Set("o", strconv.Itoa(off))
		q.Set("c", "100")
		in := r.Clone(r.Context())
		in.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		s.fake.ServeHTTP(rec, in)
		var body map[string]json.RawMessage
		var page []json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || json.Unmarshal(body["Tickets"], &page) != nil {
			http.Error(w, "bad simulator answer", http.StatusInternalServerError)
			return
		}
		head, list = body, append(list, page...)
		if len(page) < 100 {
			break
		}
	}
	type item struct {
		ID         int64  `json:"ID"`
		ReportedAt string `json:"ReportedAt"`
	}
	items := make([]item, len(list))
	for i, raw := range list {
		_ = json.Unmarshal(raw, &items[i])
	}
	asc := s.requests.Add(1)%2 == 0
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := strings.Compare(items[b].ReportedAt, items[a].ReportedAt); c != 0 {
			return c
		}
		if asc {
			return cmp.Compare(items[a].ID, items[b].ID)
		}
		return cmp.Compare(items[b].ID, items[a].ID)
	})
	out := make([]json.RawMessage, 0, c)
	for i := o; i < min(o+c, len(idx)); i++ {
		out = append(out, list[idx[i]])
	}
	head["Tickets"], _ = json.Marshal(out)
	b, _ := json.Marshal(head)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// TestBackfillGamesSameSecondAtPageBoundary: four tickets reported in the
// same second straddle the first page boundary and come in a different
// order on the second request. None may be skipped.
func TestBackfillGamesSameSecondAtPageBoundary(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 43, Tickets: 300})
	// The game's own tickets are older than these: positions 0..249 are
	// the added ones, and 98..101 share a second.
	g := bigGame(t, e, 250, func(i int) time.Time {
		if i >= 98 && i <= 101 {
			i = 98
		}
		return time.Date(2030, 5, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Minute)
	})
	sh := &tieShuffler{fake: e.fake, gameID: g}
	mux := http.NewServeMux()
	mux.Handle("/ra/", http.StripPrefix("/ra", sh))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := extract.New(extract.Config{
		BaseURL: srv.URL + "/ra", Username: "demo", APIKey: "fake-api-key",
		BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cfg.Client = client
	sum, err := pipeline.BackfillGames(context.Background(), e.cfg, []int64{g}, false, nil)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("backfill games: %q %v", sum.Status, err)
	}
	if sh.requests.Load() < 2 {
		t.Fatalf("%d requests for the game: the test proves nothing", sh.requests.Load())
	}
	assertGameStored(t, e, g)
}

// TestBackfillGamesResumeFromStaleCheckpoint: a game backfill is cancelled
// after a checkpoint inside a game; before it resumes, tickets at the top
// of that game's list are deleted, so everything below moved up. The
// resumed run must not skip the tickets that moved past the checkpoint's
// position.
func TestBackfillGamesResumeFromStaleCheckpoint(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 45, Tickets: 300})
	e.cfg.BatchSize = 50 // a checkpoint after the first page
	g := bigGame(t, e, 330, minuteApart)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pages atomic.Int64
	e.fake.SetHook(func(r *http.Request) {
		if !isGamePage(r, g) || pages.Add(1) != 3 {
			return
		}
		// Wait for a checkpoint inside the game, then interrupt.
		for range 500 {
			var n int
			err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM backfill_checkpoints WHERE NOT done`).Scan(&n)
			if err == nil && n > 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	})
	sum, err := pipeline.BackfillGames(ctx, e.cfg, []int64{g}, false, nil)
	if err == nil || sum.Status != load.StatusCancelled {
		t.Fatalf("interrupted backfill: status %q err %v", sum.Status, err)
	}
	if count(t, e.pool, `SELECT count(*) FROM backfill_checkpoints WHERE NOT done`) != 1 {
		t.Fatal("no checkpoint inside the game after the interrupt")
	}
	e.fake.SetHook(nil)
	for _, f := range gameList(e, g)[:5] {
		e.fake.Delete(f.ID)
	}
	sum, err = pipeline.BackfillGames(context.Background(), e.cfg, []int64{g}, false, nil)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("resumed backfill: %q %v", sum.Status, err)
	}
	assertGameStored(t, e, g)
}
