package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/internal/testlog"
	"github.com/ratickets/ratickets/load"
)

// setupV2 is setup with Config.API v2.
func setupV2(t *testing.T, opts fakeapi.Options) *env {
	t.Helper()
	e := setup(t, opts)
	e.cfg.API = pipeline.APIV2
	return e
}

// visibleV2 is every ticket the v2 API shows, by id.
func visibleV2(e *env) map[int64]fakeapi.Ticket {
	out := map[int64]fakeapi.Ticket{}
	for _, f := range e.fake.AllV2() {
		if fakeapi.VisibleV2(f) {
			out[f.ID] = f
		}
	}
	return out
}

// wantState is the state code v2 gives a simulator state: its legacy code,
// or -1 for a code v2 has no name for (an unknown state).
func wantState(state int) int {
	if state < 0 || state > fakeapi.StateQuarantined {
		return -1
	}
	return state
}

func isOpen(state int) bool { return state == fakeapi.StateOpen || state == fakeapi.StateRequest }

// assertTruthV2 checks the database against the v2 view of the simulator:
// every ticket v2 shows open is stored open; every stored ticket has the
// simulator's state and resolution, or, gone from v2 (quarantined or
// deleted) while stored open, is marked vanished. With all, every ticket
// v2 shows is stored.
func assertTruthV2(t *testing.T, e *env, all bool) {
	t.Helper()
	db := dbTickets(t, e.pool)
	vis := visibleV2(e)
	for id, f := range vis {
		d, ok := db[id]
		switch {
		case !ok && (all || isOpen(f.ReportState)):
			t.Errorf("ticket %d (state %d, leaderboard %d) missing from the database", id, f.ReportState, f.LeaderboardID)
		case ok && int(d.state) != wantState(f.ReportState):
			t.Errorf("ticket %d: state %d, simulator %d", id, d.state, f.ReportState)
		case ok && (!sameTime(d.resolvedAt, f.ResolvedAt) || !sameStr(d.resolvedBy, f.ResolvedBy)):
			t.Errorf("ticket %d: resolved %v by %v, simulator %v by %v", id, d.resolvedAt, ptrStr(d.resolvedBy), f.ResolvedAt, ptrStr(f.ResolvedBy))
		case ok && d.vanished:
			t.Errorf("ticket %d marked vanished but v2 shows it", id)
		}
	}
	for id, d := range db {
		if _, ok := vis[id]; !ok && !d.vanished && (d.state == 1 || d.state == 3) {
			t.Errorf("ticket %d is gone from v2 but not marked vanished", id)
		}
	}
	if all && len(db) != len(vis) {
		t.Errorf("database holds %d tickets, v2 shows %d", len(db), len(vis))
	}
}

// logLines decodes the JSON log lines written to buf.
func logLines(t *testing.T, buf *testlog.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func runAPI(t *testing.T, e *env, runID int64) string {
	t.Helper()
	var api *string
	if err := e.pool.QueryRow(context.Background(), `SELECT api FROM sync_runs WHERE id = $1`, runID).Scan(&api); err != nil {
		t.Fatal(err)
	}
	return ptrStr(api)
}

// TestAutoChoosesTheAPI: auto probes v2 once; it uses v2 when v2 answers,
// and v1 when v2 answers 404 (not deployed), 401 or 403 (the key refused),
// saying why in exactly one log line. The choice is on the run's log lines
// and in sync_runs.api.
func TestAutoChoosesTheAPI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		disable  bool
		refuse   int
		want     string
		fallback string // text of the one fallback line
	}{
		{name: "v2 answers", want: "v2"},
		{name: "v2 not deployed", disable: true, want: "v1", fallback: "404"},
		{name: "v2 refuses the key 401", refuse: 401, want: "v1", fallback: "401"},
		{name: "v2 refuses the key 403", refuse: 403, want: "v1", fallback: "403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, fakeapi.Options{Seed: 41, Tickets: 150, DisableV2: tc.disable})
			if tc.want == "v2" {
				e = setupV2(t, fakeapi.Options{Seed: 41, Tickets: 150})
			}
			e.v2Refuse.Store(int32(tc.refuse))
			var buf testlog.Buffer
			e.cfg.Log = zerolog.New(&buf)
			e.cfg.API = pipeline.APIAuto
			sum := e.sync(t)
			if sum.API != tc.want || runAPI(t, e, sum.RunID) != tc.want {
				t.Fatalf("API %q, sync_runs.api %q, want %q", sum.API, runAPI(t, e, sum.RunID), tc.want)
			}
			var fallbacks int
			for _, l := range logLines(t, &buf) {
				msg, _ := l["message"].(string)
				if strings.Contains(msg, "using v1") {
					fallbacks++
					if reason, _ := l["reason"].(string); !strings.Contains(reason, tc.fallback) {
						t.Errorf("fallback line %v does not say %s", l, tc.fallback)
					}
				}
				if _, ok := l["run_id"]; ok && l["api"] != tc.want && !strings.Contains(msg, "using v1") && l["mode"] != extract.ModeV2Probe {
					t.Errorf("run line without api=%s: %v", tc.want, l)
				}
			}
			if want := map[bool]int{true: 1}[tc.fallback != ""]; fallbacks != want {
				t.Errorf("%d fallback lines, want %d", fallbacks, want)
			}
			req := e.fake.Requests()
			probes := req["v2_disabled"] + req["v2_list"]
			if tc.want == "v1" {
				if tc.disable && probes != 1 {
					t.Errorf("%d v2 requests, want 1 probe", probes)
				}
				if probes > 1 || req["list"] == 0 {
					t.Errorf("requests %v: want the v1 list after one probe", req)
				}
				assertTruth(t, e)
			} else {
				if req["list"]+req["ticket"] != 0 {
					t.Errorf("v2 run made v1 requests: %v", req)
				}
				assertTruthV2(t, e, false)
			}
		})
	}
}

// v2Requests counts the v2 collection requests, and among them the ones by
// id (filter[id]).
type v2Requests struct{ all, byID atomic.Int64 }

func watchV2(e *env) *v2Requests {
	c := &v2Requests{}
	e.fake.SetHook(func(r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			c.all.Add(1)
			if r.URL.Query().Get("filter[id]") != "" {
				c.byID.Add(1)
			}
		}
	})
	return c
}

// maxAllRequests is the bound on a v2 backfill --all of n tickets:
// 1.02 × ceil(n/100), plus a few.
func maxAllRequests(n int) int64 { return int64(float64((n+99)/100)*1.02) + 3 }

// TestV2BackfillAllEqualsTheSimulator: backfill --all over v2 stores every
// ticket v2 shows, in every state, leaderboard tickets included (when the
// schema has them), within 1.02 × ceil(N/100) requests plus a few; a
// finished backfill does nothing when run again.
func TestV2BackfillAllEqualsTheSimulator(t *testing.T) {
	t.Parallel()
	e := setupV2(t, fakeapi.Options{Seed: 43, Tickets: 3000})
	reqs := watchV2(e)
	var lastDone, lastTotal int64
	sum, err := pipeline.BackfillAll(context.Background(), e.cfg, false, nil, func(done, total int64, final bool) {
		if final {
			lastDone, lastTotal = done, total
		}
	})
	if err != nil || sum.Status != load.StatusSucceeded || sum.API != "v2" {
		t.Fatalf("backfill --all: %q %q %v", sum.Status, sum.API, err)
	}
	assertTruthV2(t, e, true)
	n := len(visibleV2(e))
	if got := reqs.all.Load(); got > maxAllRequests(n) || got < int64((n+99)/100) {
		t.Errorf("%d requests for %d tickets, bound %d", got, n, maxAllRequests(n))
	}
	if lastDone != lastTotal || lastTotal != int64((n+99)/100) {
		t.Errorf("final progress %d/%d pages, want %d", lastDone, lastTotal, (n+99)/100)
	}
	lb := 0
	for _, f := range visibleV2(e) {
		if f.LeaderboardID != 0 {
			lb++
		}
	}
	stored := count(t, e.pool, `SELECT count(*) FROM tickets WHERE ticketable_type = 'leaderboard' AND leaderboard_id IS NOT NULL`)
	if lb == 0 || stored != int64(lb) {
		t.Errorf("%d leaderboard tickets stored, v2 shows %d", stored, lb)
	}
	t.Logf("%d tickets (%d leaderboard), %d requests", n, lb, reqs.all.Load())
	if cp, found, err := e.cfg.Store.GetCheckpoint(context.Background(), "all:v2"); err != nil || !found || !cp.Done {
		t.Fatalf("checkpoint %+v found=%v err=%v", cp, found, err)
	}
	before := reqs.all.Load()
	if sum, err = pipeline.BackfillAll(context.Background(), e.cfg, false, nil, nil); err != nil || reqs.all.Load() != before {
		t.Errorf("a finished backfill ran again: %v, %d requests", err, reqs.all.Load()-before)
	}
}

// TestV2BackfillAllResumes: a v2 backfill --all interrupted part way, after
// which tickets are quarantined, deleted, resolved and added, resumes from
// its checkpoint (it does not start over) and skips no ticket listed for
// the whole time; a final --restart and a sync bring the database to the
// truth.
func TestV2BackfillAllResumes(t *testing.T) {
	t.Parallel()
	e := setupV2(t, fakeapi.Options{Seed: 47, Tickets: 3000})
	e.cfg.BatchSize = 150 // checkpoints land before the interrupt
	startVisible := visibleV2(e)
	ctx, cancel := context.WithCancel(context.Background())
	var pages atomic.Int64
	e.fake.SetHook(func(r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/") && pages.Add(1) == 18 {
			cancel()
		}
	})
	sum, err := pipeline.BackfillAll(ctx, e.cfg, false, nil, nil)
	if err == nil || sum.Status != load.StatusCancelled {
		t.Fatalf("interrupted backfill: %q %v", sum.Status, err)
	}
	cp, found, err := e.cfg.Store.GetCheckpoint(context.Background(), "all:v2")
	if err != nil || !found || cp.Done {
		t.Fatalf("checkpoint after the interrupt: %+v %v %v", cp, found, err)
	}
	var cur extract.V2Cursor
	if err := json.Unmarshal(cp.Position, &cur); err != nil || cur.Next < 5 {
		t.Fatalf("checkpoint position %s: %v", cp.Position, err)
	}
	// The world moves while the backfill is stopped: removals before and
	// after the cursor, new tickets at the end.
	e.fake.Churn(rand.New(rand.NewSource(3)), 300)
	all := e.fake.AllV2()
	for i := 10; i < len(all)/2; i += 37 {
		e.fake.Delete(all[i].ID)
	}
	reqs := watchV2(e)
	sum, err = pipeline.BackfillAll(context.Background(), e.cfg, false, nil, nil)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("resumed backfill: %q %v", sum.Status, err)
	}
	end := visibleV2(e)
	db := dbTickets(t, e.pool)
	missed := 0
	for id := range startVisible {
		if _, still := end[id]; still {
			if _, ok := db[id]; !ok {
				missed++
			}
		}
	}
	for id := range end {
		if _, ok := db[id]; !ok {
			missed++
		}
	}
	if missed > 0 {
		t.Fatalf("%d tickets listed for the whole backfill are missing", missed)
	}
	if total := int64((len(end) + 99) / 100); reqs.all.Load() >= total {
		t.Errorf("the resumed backfill made %d requests, a fresh one needs %d: it started over", reqs.all.Load(), total)
	}
	if sum, err = pipeline.BackfillAll(context.Background(), e.cfg, true, nil, nil); err != nil {
		t.Fatalf("--restart: %q %v", sum.Status, err)
	}
	e.sync(t) // marks the tickets gone since the first run vanished
	assertTruthV2(t, e, false)
}

// TestV2SyncAfterChurnAndUnderDrift: v2 syncs keep the database equal to
// the simulator's v2 view after churn, and a sync whose list moves while it
// is read misses no ticket open for the whole scan.
func TestV2SyncAfterChurnAndUnderDrift(t *testing.T) {
	t.Parallel()
	e := setupV2(t, fakeapi.Options{Seed: 53, Tickets: 2500})
	h := &historyTracker{}
	e.sync(t)
	assertTruthV2(t, e, false)
	h.observe(t, e.pool)
	rng := rand.New(rand.NewSource(9))
	for range 3 {
		e.fake.Churn(rng, 120)
		e.sync(t)
		assertTruthV2(t, e, false)
		h.observe(t, e.pool)
	}
	h.check(t, e.pool)

	startOpen := map[int64]bool{}
	for id, f := range visibleV2(e) {
		if isOpen(f.ReportState) {
			startOpen[id] = true
		}
	}
	var mu sync.Mutex
	touched := map[int64]bool{}
	e.fake.SetHook(func(r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v2/") || r.URL.Query().Get("filter[id]") != "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		var open []int64
		for id, f := range visibleV2(e) {
			if isOpen(f.ReportState) {
				open = append(open, id)
			}
		}
		for i := 0; i < 4 && len(open) > 0; i++ {
			id := open[rng.Intn(len(open))]
			touched[id] = true
			e.fake.SetState(id, fakeapi.StateResolved, "fixer")
		}
		for _, id := range e.fake.AddTickets(3) {
			touched[id] = true
		}
	})
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if err != nil || !sum.ScanComplete {
		t.Fatalf("sync under drift: %v (complete %v)", err, sum.ScanComplete)
	}
	e.fake.SetHook(nil)
	missed := 0
	for id := range startOpen {
		if !touched[id] && count(t, e.pool, `SELECT count(*) FROM ticket_sightings WHERE ticket_id = $1 AND last_listed_run_id = $2`, id, sum.RunID) != 1 {
			missed++
		}
	}
	if missed > 0 {
		t.Fatalf("%d tickets open for the whole scan were not seen (%d rereads)", missed, sum.Rereads)
	}
	if sum.Reconciled == 0 {
		t.Error("tickets resolved during the scan should have been reconciled")
	}
	e.sync(t)
	assertTruthV2(t, e, false)
}

// TestV2ReconcileIsBatched: k tickets that left the open list cost
// ceil(k/100) lookups; an id absent from the answer (quarantined, deleted)
// is marked vanished with its state kept.
func TestV2ReconcileIsBatched(t *testing.T) {
	t.Parallel()
	e := setupV2(t, fakeapi.Options{Seed: 59, Tickets: 2500})
	e.sync(t)
	var open []int64
	for id, f := range visibleV2(e) {
		if isOpen(f.ReportState) {
			open = append(open, id)
		}
	}
	const k, gone = 250, 30
	if len(open) < k {
		t.Fatalf("only %d open tickets", len(open))
	}
	for i, id := range open[:k] {
		switch {
		case i < gone/2:
			e.fake.SetState(id, fakeapi.StateQuarantined, "mod")
		case i < gone:
			e.fake.Delete(id)
		default:
			e.fake.SetState(id, fakeapi.StateResolved, "fixer")
		}
	}
	reqs := watchV2(e)
	sum := e.sync(t)
	if want := int64((k + 99) / 100); reqs.byID.Load() != want {
		t.Errorf("%d lookup requests for %d departed tickets, want %d", reqs.byID.Load(), k, want)
	}
	if sum.Reconciled != k-gone || sum.NotFound != gone || sum.Vanished != gone {
		t.Errorf("reconciled %d, not found %d, vanished %d; want %d, %d, %d", sum.Reconciled, sum.NotFound, sum.Vanished, k-gone, gone, gone)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM tickets WHERE vanished_at IS NOT NULL AND report_state = 'open' OR vanished_at IS NOT NULL AND report_state = 'request'`); n != gone {
		t.Errorf("%d vanished tickets kept their open state, want %d", n, gone)
	}
	assertTruthV2(t, e, false)
}

// TestV2ReconcileGoesOnPastAFailingBatch: a lookup batch that fails does
// not stop the next ones; what they learned is stored, and the run fails
// naming the ids it could not look up.
func TestV2ReconcileGoesOnPastAFailingBatch(t *testing.T) {
	t.Parallel()
	e := setupV2(t, fakeapi.Options{Seed: 61, Tickets: 2500})
	e.sync(t)
	var open []int64
	for id, f := range visibleV2(e) {
		if isOpen(f.ReportState) {
			open = append(open, id)
		}
	}
	for _, id := range open[:150] {
		e.fake.SetState(id, fakeapi.StateResolved, "fixer")
	}
	e.v2IDFail.Store(1 + extract.DefaultMaxRetries) // the first batch, every attempt
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if err == nil || sum.Status != load.StatusFailed || len(sum.LookupFailed) != 100 {
		t.Fatalf("sync: %q, %d failed, %v", sum.Status, len(sum.LookupFailed), err)
	}
	if sum.Reconciled != 50 {
		t.Errorf("reconciled %d after the failing batch, want 50", sum.Reconciled)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(sum.LookupFailed[0])) {
		t.Errorf("error %q does not name the ids", err)
	}
	e.sync(t)
	assertTruthV2(t, e, false)
}

// TestV2BackfillIDsAndGames: --from-id/--to-id with v2 asks 100 ids per
// request; --games reads filter[gameId], leaderboard and unofficial
// tickets included, and writes no unofficial marks.
func TestV2BackfillIDsAndGames(t *testing.T) {
	t.Parallel()
	e := setupV2(t, fakeapi.Options{Seed: 67, Tickets: 600})
	vis := visibleV2(e)
	var lo, hi int64 = 1 << 62, 0
	for id := range vis {
		lo, hi = min(lo, id), max(hi, id)
	}
	reqs := watchV2(e)
	sum, err := pipeline.BackfillIDs(context.Background(), e.cfg, lo, hi, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (hi - lo + 100) / 100; reqs.byID.Load() != want || sum.Lookups != want {
		t.Errorf("%d requests (%d lookups) for ids %d..%d, want %d", reqs.byID.Load(), sum.Lookups, lo, hi, want)
	}
	if sum.NotFound != hi-lo+1-int64(len(vis)) {
		t.Errorf("not found %d, want %d", sum.NotFound, hi-lo+1-int64(len(vis)))
	}
	assertTruthV2(t, e, true)

	// Games, into a fresh database.
	g := setupV2(t, fakeapi.Options{Seed: 67, Tickets: 600})
	games := map[int64]int{}
	unofficial := 0
	for _, f := range visibleV2(g) {
		games[f.GameID]++
		if f.LeaderboardID == 0 && !f.Promoted {
			unofficial++
		}
	}
	var ids []int64
	for id := range games {
		ids = append(ids, id)
		if len(ids) == 5 {
			break
		}
	}
	if _, err := pipeline.BackfillGames(context.Background(), g.cfg, ids, false, nil); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, id := range ids {
		want += games[id]
	}
	if n := count(t, g.pool, `SELECT count(*) FROM tickets`); n != int64(want) {
		t.Errorf("%d tickets stored for games %v, v2 shows %d", n, ids, want)
	}
	if n := count(t, g.pool, `SELECT count(*) FROM unofficial_tickets`); n != 0 {
		t.Errorf("a v2 game backfill wrote %d unofficial marks", n)
	}
	t.Logf("%d unofficial tickets in the world", unofficial)
}

// TestV2SyncReconcilesUnofficialTickets: a v1 game backfill marks the
// tickets of unofficial achievements (v1's open list never shows them).
// v2's open list does show them, so once a ticket marked that way leaves
// it (resolved at the source before the first v2 sync), a v2 sync must
// look it up like any other open ticket it did not see.
func TestV2SyncReconcilesUnofficialTickets(t *testing.T) {
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
	if sum, err := pipeline.BackfillGames(context.Background(), e.cfg, games, false, nil); err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("v1 backfill games: %q %v", sum.Status, err)
	}
	var unofficialOpen []int64
	for _, f := range e.fake.All() {
		if !f.Deleted && !f.Promoted && isOpen(f.ReportState) {
			unofficialOpen = append(unofficialOpen, f.ID)
		}
	}
	if len(unofficialOpen) < 2 {
		t.Fatalf("only %d open unofficial tickets: the test proves nothing", len(unofficialOpen))
	}
	for _, id := range unofficialOpen {
		e.fake.SetState(id, 2, "fixer")
	}
	e.cfg.API = pipeline.APIV2
	e.sync(t)
	db := dbTickets(t, e.pool)
	for _, id := range unofficialOpen {
		if d := db[id]; d.state != 2 {
			t.Errorf("unofficial ticket %d resolved at the source is stored in state %d after a v2 sync, want 2", id, d.state)
		}
	}
}
