package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/metrics"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/internal/redact"
	"github.com/ratickets/ratickets/internal/testlog"
	"github.com/ratickets/ratickets/load"
)

// served is a `ratickets serve` running in a goroutine.
type served struct {
	t              *testing.T
	addr           string
	cancel         context.CancelFunc // what SIGTERM does in main
	done           chan int
	stdout, stderr *testlog.Buffer
}

var servingLine = regexp.MustCompile(`serving on http://(\S+)`)

// startServe runs serve with env and waits for its "serving on" line.
func startServe(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{t: t, cancel: cancel, done: make(chan int, 1), stdout: &testlog.Buffer{}, stderr: &testlog.Buffer{}}
	go func() {
		s.done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...),
			func(k string) string { return env[k] }, s.stdout, s.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	waitFor(t, 30*time.Second, "serve to listen", func() bool {
		select {
		case code := <-s.done:
			t.Fatalf("serve exited %d before listening\nstdout: %s\nstderr: %s", code, s.stdout, s.stderr)
		default:
		}
		m := servingLine.FindStringSubmatch(s.stdout.String())
		if m != nil {
			s.addr = m[1]
		}
		return m != nil
	})
	return s
}

// stop cancels serve's context and returns its exit code.
func (s *served) stop() int {
	s.t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		return code
	case <-time.After(30 * time.Second):
		s.t.Fatalf("serve did not stop within 30s after cancel\nstderr: %s", s.stderr)
		return -1
	}
}

func (s *served) get(path string) (int, string) {
	s.t.Helper()
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (s *served) scrape() map[string]float64 {
	s.t.Helper()
	code, body := s.get("/metrics")
	if code != http.StatusOK {
		s.t.Fatalf("/metrics: %d %s", code, body)
	}
	return parseMetrics(s.t, body)
}

// parseMetrics reads the Prometheus text format into "name{labels}" -> value.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holdLock takes the writers' advisory lock, waiting for a run in flight to
// end: while the test holds it, serve's runs are skipped and nothing moves.
func holdLock(t *testing.T, pool *pgxpool.Pool) *load.Lock {
	t.Helper()
	store := load.New(pool, zerolog.Nop())
	var lock *load.Lock
	waitFor(t, 30*time.Second, "the advisory lock", func() bool {
		l, ok, err := store.TryLock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		lock = l
		return ok
	})
	return lock
}

// runTotals is what sync_runs says serve did.
type runTotals struct {
	succeeded, started, inserted, updated, unchanged, rejected, requests int64
}

func (c *cli) runTotals() runTotals {
	c.t.Helper()
	var r runTotals
	err := c.db.Pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*),
		coalesce(sum(inserted), 0), coalesce(sum(updated), 0), coalesce(sum(unchanged), 0),
		coalesce(sum(rejected), 0), coalesce(sum(requests), 0) FROM sync_runs WHERE kind = 'sync'`).
		Scan(&r.succeeded, &r.started, &r.inserted, &r.updated, &r.unchanged, &r.rejected, &r.requests)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

func sumValues(m map[string]int) int64 {
	var n int64
	for _, v := range m {
		n += int64(v)
	}
	return n
}

// frozen holds the lock and returns the metrics and the database totals once
// the metrics have caught up with the last recorded run (serve observes a
// run just after it releases the lock).
func frozen(t *testing.T, c *cli, s *served) (*load.Lock, map[string]float64, runTotals, map[string]int) {
	t.Helper()
	lock := holdLock(t, c.db.Pool)
	db := c.runTotals()
	var m map[string]float64
	waitFor(t, 10*time.Second, "the metrics to count every recorded run", func() bool {
		m = s.scrape()
		return int64(m[`ratickets_runs_total{status="succeeded"}`]) == db.succeeded
	})
	return lock, m, db, c.fake.Requests()
}

func TestServeRunsOnScheduleAndStopsCleanly(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 11, Tickets: 400})
	testStart := time.Now()
	s := startServe(t, c.env, "--interval", "300ms", "--jitter", "0s", "--log-format", "json", "--batch-size", "100")

	if code, body := s.get("/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	waitFor(t, 30*time.Second, "the first run", func() bool {
		return s.scrape()[`ratickets_runs_total{status="succeeded"}`] >= 1
	})
	if code, body := s.get("/readyz"); code != 200 || !strings.HasPrefix(body, "ready") {
		t.Errorf("/readyz after a run: %d %q", code, body)
	}

	lock, a, dbA, fakeA := frozen(t, c, s)
	// Runs that find the lock taken are skipped, not run alongside.
	waitFor(t, 10*time.Second, "a skipped run", func() bool {
		return s.scrape()[`ratickets_runs_total{status="skipped"}`] > a[`ratickets_runs_total{status="skipped"}`]
	})
	if n := c.count(`SELECT count(*) FROM sync_runs`); n != dbA.started {
		t.Fatalf("a run was recorded while the lock was held: %d rows, %d before", n, dbA.started)
	}

	// Change the world: 7 new tickets, 3 resolved, and one 500 to retry.
	added := c.fake.AddTickets(7)
	isNew := map[int64]bool{}
	for _, id := range added {
		isNew[id] = true
	}
	resolved := 0
	for _, tk := range c.fake.Open() {
		if resolved < 3 && !isNew[tk.ID] {
			c.fake.SetState(tk.ID, fakeapi.StateResolved, "")
			resolved++
		}
	}
	c.fake.Enqueue(fakeapi.Fault{Kind: fakeapi.FaultServerError, Status: 500})
	lock.Release()
	waitFor(t, 30*time.Second, "a run after the change", func() bool {
		return s.scrape()[`ratickets_runs_total{status="succeeded"}`] > a[`ratickets_runs_total{status="succeeded"}`]
	})
	lock, b, dbB, fakeB := frozen(t, c, s)

	delta := func(k string) float64 { return b[k] - a[k] }
	checks := []struct {
		metric string
		want   int64
	}{
		{`ratickets_runs_total{status="succeeded"}`, dbB.succeeded - dbA.succeeded},
		{`ratickets_runs_total{status="failed"}`, 0},
		{`ratickets_run_duration_seconds_count`, dbB.started - dbA.started},
		{`ratickets_tickets_total{outcome="inserted"}`, 7},
		{`ratickets_tickets_total{outcome="inserted"}`, dbB.inserted - dbA.inserted},
		{`ratickets_tickets_total{outcome="updated"}`, 3},
		{`ratickets_tickets_total{outcome="updated"}`, dbB.updated - dbA.updated},
		{`ratickets_tickets_total{outcome="unchanged"}`, dbB.unchanged - dbA.unchanged},
		{`ratickets_tickets_total{outcome="rejected"}`, dbB.rejected - dbA.rejected},
		{`ratickets_api_requests_total{code="500"}`, 1},
		{`ratickets_api_retries_total`, 1},
	}
	for _, ck := range checks {
		if got := delta(ck.metric); got != float64(ck.want) {
			t.Errorf("%s moved by %v, want %d", ck.metric, got, ck.want)
		}
	}
	if got := delta(`ratickets_api_requests_total{code="200"}`) + delta(`ratickets_api_requests_total{code="500"}`); got != float64(sumValues(fakeB)-sumValues(fakeA)) ||
		got != float64(dbB.requests-dbA.requests) {
		t.Errorf("API requests moved by %v; the simulator answered %d, sync_runs recorded %d",
			got, sumValues(fakeB)-sumValues(fakeA), dbB.requests-dbA.requests)
	}
	if got, want := b[`ratickets_open_tickets`], float64(len(c.fake.Open())); got != want {
		t.Errorf("ratickets_open_tickets %v, the API has %v", got, want)
	}
	if b[`ratickets_rows_per_second`] <= 0 {
		t.Errorf("ratickets_rows_per_second %v", b[`ratickets_rows_per_second`])
	}
	last := b[`ratickets_last_success_timestamp_seconds`]
	if last <= a[`ratickets_last_success_timestamp_seconds`] || last < float64(testStart.Unix()) || last > float64(time.Now().Unix()+1) {
		t.Errorf("last success %v: not after the first scrape's %v, or outside the test", last, a[`ratickets_last_success_timestamp_seconds`])
	}

	// SIGTERM in the middle of a run: every request now takes 300ms (a scan
	// is 5 pages or more), and the signal comes as the first one is answered.
	c.fake.SetLatency(300 * time.Millisecond)
	inFlight := make(chan struct{})
	var once sync.Once
	c.fake.SetHook(func(*http.Request) { once.Do(func() { close(inFlight) }) })
	lock.Release()
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatal("no run started after the lock was released")
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0\nstderr: %s", code, s.stderr)
	}
	if n := c.count(`SELECT count(*) FROM sync_runs WHERE status = 'running'`); n != 0 {
		t.Errorf("%d runs left 'running'", n)
	}
	var status string
	if err := c.db.Pool.QueryRow(context.Background(), `SELECT status FROM sync_runs ORDER BY id DESC LIMIT 1`).Scan(&status); err != nil || status != load.StatusCancelled {
		t.Errorf("the interrupted run is %q (%v), want cancelled", status, err)
	}
	if _, err := http.Get("http://" + s.addr + "/healthz"); err == nil {
		t.Error("the HTTP server still answers after shutdown")
	}

	checkRunLogs(t, s.stderr.String(), c.count(`SELECT count(*) FROM sync_runs`))
}

// checkRunLogs checks that every log line is JSON, that every line a run
// writes carries its run_id, and that each run has one summary line.
func checkRunLogs(t *testing.T, stderr string, runs int64) {
	t.Helper()
	var finished, scheduled int64
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		switch m["message"] {
		case "run finished":
			finished++
		case "next sync scheduled":
			scheduled++
		case "another ratickets run holds the lock; nothing to do":
			continue // a skipped run has no run_id: it never started
		}
		switch m["stage"] {
		case "sync", "extract", "load":
			if _, ok := m["run_id"]; !ok {
				t.Errorf("log line of a run without run_id: %s", line)
			}
		}
	}
	if finished != runs {
		t.Errorf("%d 'run finished' summary lines for %d runs", finished, runs)
	}
	if scheduled == 0 {
		t.Error("serve never logged its next run")
	}
}

func TestServeReadinessFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	pg := pgtest.NewServer(t)
	ctx := context.Background()
	dbURL := pg.URL("postgres")
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	mig, err := load.NewMigrator(pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mig.Close() })
	if _, err := mig.Up(ctx); err != nil {
		t.Fatal(err)
	}

	fake := fakeapi.New(fakeapi.Options{Seed: 3, Tickets: 60, APIKey: testKey})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	env := map[string]string{
		"RA_BASE_URL": api.URL, "RA_USERNAME": "demo", "RA_API_KEY": testKey, "RA_RPS": "0",
		"DATABASE_URL": dbURL, "RATICKETS_INTERVAL": "1h", "RATICKETS_LOG_FORMAT": "json",
		"RA_API": "v1",
	}
	s := startServe(t, env)
	waitFor(t, 30*time.Second, "the first run", func() bool {
		return s.scrape()[`ratickets_runs_total{status="succeeded"}`] == 1
	})
	ready := func(want int, text string) func() bool {
		return func() bool {
			code, body := s.get("/readyz")
			return code == want && strings.Contains(body, text)
		}
	}
	waitFor(t, 10*time.Second, "/readyz ready", ready(200, "ok   schema"))

	// A schema behind the binary is not ready.
	if err := mig.Down(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "/readyz to see the old schema", ready(503, "FAIL schema"))
	if _, err := mig.Up(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "/readyz ready after migrate up", ready(200, "ready"))

	// The database goes away, and comes back.
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "/readyz to see the database gone", ready(503, "FAIL database"))
	if code, _ := s.get("/healthz"); code != 200 {
		t.Errorf("/healthz %d while the database is down: the process is alive", code)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "/readyz ready after the database returned", ready(200, "ready"))
	if code := s.stop(); code != 0 {
		t.Errorf("exit %d, want 0\nstderr: %s", code, s.stderr)
	}
}

func TestReadinessChecks(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	const interval = 15 * time.Minute
	cases := []struct {
		name     string
		lastEnd  time.Duration // before now
		cur, lat int64
		ok       bool
		want     string
	}{
		{"fresh", 10 * time.Minute, 4, 4, true, "ok   runs: last ended 10m0s ago"},
		{"just within 3 intervals", 45 * time.Minute, 4, 4, true, "ok   runs"},
		{"no run for more than 3 intervals", 46 * time.Minute, 4, 4, false, "FAIL runs: none ended in the last 46m0s"},
		{"schema behind", time.Minute, 3, 4, false, "FAIL schema: at version 3, this binary expects 4"},
		{"schema ahead", time.Minute, 6, 5, false, "FAIL schema: version 6 is newer than this binary's 5"},
	}
	for _, tc := range cases {
		s := &scheduler{
			interval: interval, cfg: pipeline.Config{Store: load.New(db.Pool, zerolog.Nop())}, redact: redact.New().String,
			now:      func() time.Time { return now },
			lastEnd:  now.Add(-tc.lastEnd),
			versions: func(context.Context) (int64, int64, error) { return tc.cur, tc.lat, nil },
		}
		lines, ok := s.readiness(context.Background())
		text := strings.Join(lines, "\n")
		if ok != tc.ok || !strings.Contains(text, tc.want) {
			t.Errorf("%s: ready %v, want %v; report:\n%s\nwant a line with %q", tc.name, ok, tc.ok, text, tc.want)
		}
	}
}

// TestJobsRefuseNewerSchema: sync, backfill and serve exit 1 against a
// database migrated by a newer ratickets, with or without --no-migrate,
// naming both versions, and write nothing to it.
func TestJobsRefuseNewerSchema(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 8, Tickets: 50})
	future := load.SchemaVersion() + 1
	if _, err := c.db.Pool.Exec(context.Background(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, future); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"sync"}, {"sync", "--no-migrate"},
		{"backfill", "--from-id", "1", "--to-id", "5"}, {"backfill", "--no-migrate", "--from-id", "1", "--to-id", "5"},
		{"serve", "--listen", "127.0.0.1:0", "--interval", "1h"}, {"serve", "--no-migrate", "--listen", "127.0.0.1:0", "--interval", "1h"},
	} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			defer close(done)
			code, _, stderr = c.run(args...)
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%v against a newer schema still running after 30s", args)
		}
		want := fmt.Sprintf("version %d, newer than this binary's %d", future, future-1)
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit %d, want 1 with %q; stderr:\n%s", args, code, want, stderr)
		}
	}
	if n := c.count(`SELECT (SELECT count(*) FROM sync_runs) + (SELECT count(*) FROM tickets)`); n != 0 {
		t.Errorf("%d rows written to a database with a newer schema", n)
	}
}

func TestNextWait(t *testing.T) {
	t.Parallel()
	const iv = 10 * time.Minute
	half := func(d time.Duration) time.Duration { return d / 2 }
	cases := []struct {
		name     string
		jitter   time.Duration
		failures int
		elapsed  time.Duration
		want     time.Duration
	}{
		{"interval from the start of the run", 0, 0, 2 * time.Minute, 8 * time.Minute},
		{"one failure doubles", 0, 1, 0, 20 * time.Minute},
		{"two failures: 4 intervals", 0, 2, 0, 40 * time.Minute},
		{"capped at 4 intervals", 0, 9, 0, 40 * time.Minute},
		{"a run that overran starts the next at once", 0, 0, 11 * time.Minute, 0},
		{"jitter is added", time.Minute, 0, 0, iv + 30*time.Second},
		{"jitter after an overrun", time.Minute, 0, time.Hour, 30 * time.Second},
	}
	for _, tc := range cases {
		if got := nextWait(iv, tc.jitter, tc.failures, tc.elapsed, half); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestServeUsageErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 1, Tickets: 10})
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--interval", "0s"}, 2, "--interval must be more than 0"},
		{[]string{"serve", "--interval", "soon"}, 2, "--interval"},
		{[]string{"serve", "--jitter=-1s"}, 2, "--jitter must not be negative"},
		{[]string{"serve", "--jitter", "soon"}, 2, "not a duration"},
		{[]string{"serve", "--help"}, 0, "--listen"},
		{[]string{"serve", "--listen", "127.0.0.1:99999"}, 1, "--listen"},
	}
	for _, tc := range cases {
		code, stdout, stderr := c.run(tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("ratickets %v: exit %d, output %q; want exit %d and %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
	}
}

func TestSyncMetricsFileAndPushgateway(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 8, Tickets: 150})
	var (
		mu     sync.Mutex
		pushes []string
	)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if bytes.Contains(b, []byte(metrics.RunsTotal)) {
			pushes = append(pushes, r.Method+" "+r.URL.Path)
		}
		mu.Unlock()
	}))
	t.Cleanup(gw.Close)
	dir := t.TempDir()
	file := filepath.Join(dir, "ratickets.prom")
	readFile := func() map[string]float64 {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return parseMetrics(t, string(b))
	}

	code, stdout, stderr := c.run("sync", "--log-format", "json", "--metrics-file", file, "--pushgateway", gw.URL)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	open := int64(len(c.fake.Open()))
	got := readFile()
	for k, want := range map[string]float64{
		`ratickets_runs_total{status="succeeded"}`:     1,
		`ratickets_runs_total{status="failed"}`:        0,
		`ratickets_tickets_total{outcome="inserted"}`:  float64(open),
		`ratickets_open_tickets`:                       float64(open),
		`ratickets_api_requests_total{code="200"}`:     float64(c.count(`SELECT requests FROM sync_runs WHERE id = 1`)),
		`ratickets_run_duration_seconds_count`:         1,
		`ratickets_tickets_total{outcome="unchanged"}`: 0,
	} {
		if got[k] != want {
			t.Errorf("metrics file: %s = %v, want %v", k, got[k], want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the metrics directory holds %d entries, want only the file", len(entries))
	}
	mu.Lock()
	if len(pushes) != 1 || pushes[0] != "PUT /metrics/job/ratickets" {
		t.Errorf("pushes %v, want one PUT /metrics/job/ratickets", pushes)
	}
	mu.Unlock()

	// A failing run still writes its metrics, and the last success is the
	// database's, not "never".
	var firstSuccess float64
	if err := c.db.Pool.QueryRow(context.Background(), `SELECT extract(epoch FROM finished_at)::float8 FROM sync_runs WHERE id = 1`).Scan(&firstSuccess); err != nil {
		t.Fatal(err)
	}
	c.env["RA_API_KEY"] = "WRONG-key-0000"
	if code, _, stderr := c.run("sync", "--log-format", "json", "--metrics-file", file); code != 1 {
		t.Fatalf("sync with a wrong key: exit %d, want 1\n%s", code, stderr)
	}
	got = readFile()
	if got[`ratickets_runs_total{status="failed"}`] != 1 || got[`ratickets_runs_total{status="succeeded"}`] != 0 {
		t.Errorf("failed run not in the metrics file: %v", got)
	}
	if d := math.Abs(got[metrics.LastSuccessTimestamp] - firstSuccess); d > 0.001 {
		t.Errorf("last success %v after a failed run, want the first run's %v", got[metrics.LastSuccessTimestamp], firstSuccess)
	}
	if got[`ratickets_api_requests_total{code="401"}`] != 1 {
		t.Errorf("the refused request is not counted: %v", got)
	}
}

func TestLogFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		format  string
		noColor string
		colour  bool
		json    bool
	}{
		{"console", "", true, false},
		{"console", "1", false, false},
		{"json", "", false, true},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		getenv := func(k string) string {
			if k == "NO_COLOR" {
				return tc.noColor
			}
			return ""
		}
		log, err := newLogger(tc.format, "info", &buf, redact.New(testKey), getenv)
		if err != nil {
			t.Fatal(err)
		}
		log.Info().Int64("run_id", 7).Str("stage", "sync").Msg("run finished")
		log.Warn().Str("error", "bad key "+testKey).Msg("run failed")
		out := buf.String()
		if got := strings.Contains(out, "\x1b["); got != tc.colour {
			t.Errorf("%s NO_COLOR=%q: colour escapes %v, want %v:\n%q", tc.format, tc.noColor, got, tc.colour, out)
		}
		if strings.Contains(out, testKey) {
			t.Errorf("%s: the key is in the log", tc.format)
		}
		if !strings.Contains(out, "run_id") || !strings.Contains(out, "run finished") {
			t.Errorf("%s: fields missing: %q", tc.format, out)
		}
		if tc.json {
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Errorf("not a JSON log line: %q (%v)", line, err)
				}
			}
		}
	}
}

// TestHTTPServerTimeouts: serve's HTTP server drops a client that sends its
// request too slowly and a keep-alive connection left idle, each after its
// timeout (shortened here); the defaults set every timeout.
func TestHTTPServerTimeouts(t *testing.T) {
	t.Parallel()
	d := newHTTPServer(nil)
	if d.ReadHeaderTimeout <= 0 || d.ReadTimeout < d.ReadHeaderTimeout || d.WriteTimeout <= readyTimeout || d.IdleTimeout <= 0 {
		t.Fatalf("default timeouts read header %s, read %s, write %s, idle %s: each must be set, write longer than /readyz's %s",
			d.ReadHeaderTimeout, d.ReadTimeout, d.WriteTimeout, d.IdleTimeout, readyTimeout)
	}
	start := func(readHeader, read, idle time.Duration) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			fmt.Fprintln(w, "ok")
		}))
		srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = readHeader, read, time.Minute, idle
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		return ln.Addr().String()
	}
	// Each case leaves the other timeouts long, so that only one can fire
	// (an unset IdleTimeout falls back to ReadTimeout).
	slowRead := start(time.Second, 300*time.Millisecond, time.Minute)
	shortIdle := start(time.Minute, time.Minute, 300*time.Millisecond)

	// closedWithin reports whether the server closes conn within d.
	closedWithin := func(conn net.Conn, d time.Duration) bool {
		_ = conn.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, conn)
		return err == nil // EOF: the server closed it; a timeout is an error
	}

	// A body that never finishes arriving.
	conn, err := net.Dial("tcp", slowRead)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	if !closedWithin(conn, 3*time.Second) {
		t.Error("a request body stalled past the read timeout kept its connection")
	}

	// An idle keep-alive connection.
	conn2, err := net.Dial("tcp", shortIdle)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	fmt.Fprintf(conn2, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn2), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v %v", resp, err)
	}
	if !closedWithin(conn2, 3*time.Second) {
		t.Error("an idle keep-alive connection outlived the idle timeout")
	}
}
