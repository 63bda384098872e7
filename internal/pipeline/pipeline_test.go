package pipeline_test

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type env struct {
	fake   *fakeapi.Server
	pool   *pgxpool.Pool
	client *extract.Client
	cfg    pipeline.Config
	// broken holds ticket ids whose i= lookup answers 500, every time, each
	// with an *atomic.Int64 counting its requests.
	broken sync.Map
	// v2Refuse, when not 0, is the status every v2 request answers (a site
	// whose v2 refuses the key v1 takes).
	v2Refuse atomic.Int32
	// v2IDFail is how many more v2 requests by id (filter[id]) answer 500.
	v2IDFail atomic.Int64
}

func setup(t *testing.T, opts fakeapi.Options) *env {
	t.Helper()
	fake := fakeapi.New(opts)
	e := &env{fake: fake}
	mux := http.NewServeMux()
	mux.Handle("/ra/", http.StripPrefix("/ra", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := int(e.v2Refuse.Load()); st != 0 && strings.HasPrefix(r.URL.Path, "/api/v2/") {
			w.Header().Set("Content-Type", "application/vnd.api+json")
			w.WriteHeader(st)
			fmt.Fprintf(w, `{"errors":[{"status":"%d","title":"refused"}]}`, st)
			return
		}
		if r.URL.Query().Get("filter[id]") != "" && e.v2IDFail.Add(-1) >= 0 {
			http.Error(w, `{"errors":[{"status":"500","title":"Server Error"}]}`, http.StatusInternalServerError)
			return
		}
		if id, err := strconv.ParseInt(r.URL.Query().Get("i"), 10, 64); err == nil {
			if n, ok := e.broken.Load(id); ok {
				n.(*atomic.Int64).Add(1)
				http.Error(w, `{"message":"Server Error"}`, http.StatusInternalServerError)
				return
			}
		}
		fake.ServeHTTP(w, r)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client, err := extract.New(extract.Config{
		BaseURL: srv.URL + "/ra", Username: "demo", APIKey: "fake-api-key",
		BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDB(t)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	e.pool, e.client = db.Pool, client
	e.cfg = pipeline.Config{Client: client, Store: load.New(db.Pool, log), Log: log, Version: "test", BatchSize: 250, API: pipeline.APIV1}
	return e
}

func (e *env) sync(t *testing.T) pipeline.Summary {
	t.Helper()
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if sum.Status != load.StatusSucceeded {
		t.Fatalf("sync status %q", sum.Status)
	}
	return sum
}

type dbTicket struct {
	state      int16
	resolvedAt *time.Time
	resolvedBy *string
	vanished   bool
}

func dbTickets(t *testing.T, pool *pgxpool.Pool) map[int64]dbTicket {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT id, coalesce(report_state_code, -1), resolved_at, resolved_by, vanished_at IS NOT NULL FROM tickets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]dbTicket{}
	for rows.Next() {
		var id int64
		var d dbTicket
		if err := rows.Scan(&id, &d.state, &d.resolvedAt, &d.resolvedBy, &d.vanished); err != nil {
			t.Fatal(err)
		}
		out[id] = d
	}
	return out
}

// assertTruth checks the database against the simulator: every open ticket
// of the simulator is in the database as open; every ticket in the
// database has the simulator's state and resolution, or is marked vanished
// when the simulator no longer has it.
func assertTruth(t *testing.T, e *env) {
	t.Helper()
	db := dbTickets(t, e.pool)
	for _, f := range e.fake.Open() {
		d, ok := db[f.ID]
		if !ok {
			t.Errorf("open ticket %d missing from the database", f.ID)
			continue
		}
		if int(d.state) != f.ReportState {
			t.Errorf("ticket %d: state %d, simulator %d", f.ID, d.state, f.ReportState)
		}
	}
	for id, d := range db {
		f, ok := e.fake.Get(id)
		if !ok || f.Deleted {
			if !d.vanished && (d.state == 1 || d.state == 3) {
				t.Errorf("ticket %d is gone from the source but not marked vanished", id)
			}
			continue
		}
		if d.vanished {
			t.Errorf("ticket %d marked vanished but the source has it", id)
		}
		if int(d.state) != f.ReportState {
			t.Errorf("ticket %d: state %d, simulator %d", id, d.state, f.ReportState)
		}
		if !sameTime(d.resolvedAt, f.ResolvedAt) || !sameStr(d.resolvedBy, f.ResolvedBy) {
			t.Errorf("ticket %d: resolved %v by %v, simulator %v by %v", id, d.resolvedAt, ptrStr(d.resolvedBy), f.ResolvedAt, ptrStr(f.ResolvedBy))
		}
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}
func sameStr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func ptrStr(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// historyTracker records, after each run, the state of every ticket in the
// database, to check that ticket_history holds exactly those transitions.
type historyTracker struct {
	seq map[int64][]string
}

func (h *historyTracker) observe(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if h.seq == nil {
		h.seq = map[int64][]string{}
	}
	for id, d := range dbTickets(t, pool) {
		v := fmt.Sprintf("%d/%v/%v", d.state, d.resolvedBy != nil, d.vanished)
		s := h.seq[id]
		if len(s) == 0 || s[len(s)-1] != v {
			h.seq[id] = append(s, v)
		}
	}
}

func (h *historyTracker) check(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT ticket_id, report_state_code, resolved_by IS NOT NULL, vanished_at IS NOT NULL, valid_to IS NULL
		FROM ticket_history ORDER BY ticket_id, valid_from, id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64][]string{}
	current := map[int64]int{}
	for rows.Next() {
		var id int64
		var state int16
		var resolved, vanished, cur bool
		if err := rows.Scan(&id, &state, &resolved, &vanished, &cur); err != nil {
			t.Fatal(err)
		}
		got[id] = append(got[id], fmt.Sprintf("%d/%v/%v", state, resolved, vanished))
		if cur {
			current[id]++
		}
	}
	rows.Close()
	for id, want := range h.seq {
		if !slices.Equal(got[id], want) {
			t.Errorf("ticket %d history %v, want %v", id, got[id], want)
		}
		if current[id] != 1 {
			t.Errorf("ticket %d has %d current versions", id, current[id])
		}
	}
	if len(got) != len(h.seq) {
		t.Errorf("history covers %d tickets, database %d", len(got), len(h.seq))
	}
	if n := count(t, pool, `SELECT count(*) FROM ticket_history a JOIN ticket_history b ON a.ticket_id = b.ticket_id
		AND a.id <> b.id AND a.valid_from < coalesce(b.valid_to, 'infinity') AND b.valid_from < coalesce(a.valid_to, 'infinity')`); n != 0 {
		t.Errorf("%d overlapping history versions", n)
	}
}

func TestSyncEndToEnd(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 1, Tickets: 1200})
	first := e.sync(t)
	open := int64(len(e.fake.Open()))
	if first.Counts.Inserted != open || first.Seen != open || first.Counts.Rejected != 0 {
		t.Fatalf("first sync %+v, simulator has %d open", first, open)
	}
	if !first.ScanComplete {
		t.Fatal("scan not complete")
	}
	// quiet list: requests stay near the minimum
	if limit := int64(float64((open+99)/100)*1.3) + 1; first.Requests > limit {
		t.Errorf("first sync made %d requests for %d open tickets (limit %d)", first.Requests, open, limit)
	}
	assertTruth(t, e)
	if n := count(t, e.pool, `SELECT count(*) FROM open_ticket_snapshots WHERE run_id = $1 AND seen_open + seen_request = $2 AND api_open_tickets = $2`, first.RunID, open); n != 1 {
		t.Errorf("snapshot of run %d missing or wrong", first.RunID)
	}
	xmin := count(t, e.pool, `SELECT sum(xmin::text::bigint) FROM tickets`)
	before := e.fake.Requests()["ticket"]
	second := e.sync(t)
	if second.Counts.Unchanged != open || second.Counts.Inserted+second.Counts.Updated != 0 {
		t.Fatalf("second sync should change nothing: %+v", second.Counts)
	}
	if got := count(t, e.pool, `SELECT sum(xmin::text::bigint) FROM tickets`); got != xmin {
		t.Error("second sync rewrote ticket rows")
	}
	if after := e.fake.Requests()["ticket"]; after != before {
		t.Errorf("no-change sync made %d i= lookups", after-before)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM sync_runs WHERE status = 'succeeded'`); n != 2 {
		t.Errorf("%d succeeded runs, want 2", n)
	}
}

// TestSyncHistoryScenario runs a scripted sequence of syncs in which tickets
// arrive, are resolved, closed, quarantined, reopened and deleted, and the
// list shifts between page requests; after each quiet run the database
// equals the simulator, and ticket_history holds exactly the transitions.
func TestSyncHistoryScenario(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 7, Tickets: 900})
	var h historyTracker
	step := func(name string) {
		t.Helper()
		e.sync(t)
		assertTruth(t, e)
		h.observe(t, e.pool)
		if t.Failed() {
			t.Fatalf("after step %q", name)
		}
	}
	step("initial")
	open := e.fake.Open()
	e.fake.SetState(open[0].ID, 2, "fixer")   // resolved
	e.fake.SetState(open[5].ID, 0, "closer")  // closed
	e.fake.SetState(open[10].ID, 4, "mod")    // quarantined
	e.fake.SetState(open[150].ID, 2, "fixer") // resolved, deep in the list
	e.fake.Delete(open[20].ID)                // 404 from now on
	e.fake.AddTickets(30)
	step("resolutions")
	e.fake.SetState(open[0].ID, 1, "")   // reopened
	e.fake.SetState(open[150].ID, 3, "") // reopened as request
	step("reopen")
	step("quiet") // nothing changes: no history row is added
	// Churn between every page request: the scan sees a moving list.
	rng := rand.New(rand.NewSource(3))
	var mu sync.Mutex
	e.fake.SetHook(func(r *http.Request) {
		if r.URL.Query().Get("i") != "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		e.fake.Churn(rng, 6)
	})
	if _, err := pipeline.Sync(context.Background(), e.cfg); err != nil {
		t.Fatalf("sync under churn: %v", err)
	}
	e.fake.SetHook(nil)
	h.observe(t, e.pool)
	step("converge")
	h.check(t, e.pool)
	if n := count(t, e.pool, `SELECT count(*) FROM tickets WHERE vanished_at IS NOT NULL`); n < 1 {
		t.Error("the deleted ticket was not marked vanished")
	}
}

// TestSyncMissesNothingOpenForTheWholeScan: under heavy churn, every ticket
// that stays open for the whole scan lands in that scan.
func TestSyncMissesNothingOpenForTheWholeScan(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 11, Tickets: 2000})
	e.sync(t) // so that tickets resolved mid-scan are known, and reconciled
	rng := rand.New(rand.NewSource(5))
	touched := map[int64]bool{}
	var mu sync.Mutex
	startOpen := map[int64]bool{}
	for _, f := range e.fake.Open() {
		startOpen[f.ID] = true
	}
	e.fake.SetHook(func(r *http.Request) {
		if r.URL.Query().Get("i") != "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		// resolve a few tickets near the scan's likely position and add new ones
		open := e.fake.Open()
		for i := 0; i < 8 && len(open) > 0; i++ {
			f := open[rng.Intn(len(open))]
			touched[f.ID] = true
			e.fake.SetState(f.ID, 2, "fixer")
		}
		for _, id := range e.fake.AddTickets(5) {
			touched[id] = true
		}
	})
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.fake.SetHook(nil)
	var missed int
	for id := range startOpen {
		if touched[id] {
			continue
		}
		if n := count(t, e.pool, `SELECT count(*) FROM ticket_sightings WHERE ticket_id = $1 AND last_listed_run_id = $2`, id, sum.RunID); n != 1 {
			missed++
		}
	}
	if missed > 0 {
		t.Fatalf("%d tickets open for the whole scan were not seen by it (%d rereads)", missed, sum.Rereads)
	}
	if sum.Reconciled == 0 {
		t.Error("tickets resolved during the scan should have been reconciled")
	}
	e.sync(t)
	assertTruth(t, e)
}

// TestPageLimitReconcilesNothing: a scan stopped by --max-pages stores what
// it read but marks nothing resolved, and takes no snapshot.
func TestPageLimitReconcilesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 13, Tickets: 800})
	e.sync(t)
	open := e.fake.Open()
	e.fake.SetState(open[len(open)-1].ID, 2, "fixer") // the oldest: beyond the limit
	e.fake.AddTickets(3)
	e.cfg.Scan.MaxPages = 2
	sum, err := pipeline.Sync(context.Background(), e.cfg)
	if err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("limited sync: %q %v", sum.Status, err)
	}
	if sum.ScanComplete || sum.Reconciled != 0 || sum.Counts.Inserted != 3 {
		t.Fatalf("limited sync summary %+v", sum)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM tickets WHERE report_state = 'resolved'`); n != 0 {
		t.Errorf("%d tickets marked resolved by a partial scan", n)
	}
	if n := count(t, e.pool, `SELECT count(*) FROM open_ticket_snapshots WHERE run_id = $1`, sum.RunID); n != 0 {
		t.Error("a partial scan took a snapshot")
	}
	e.cfg.Scan.MaxPages = 0
	e.sync(t)
	assertTruth(t, e)
}
