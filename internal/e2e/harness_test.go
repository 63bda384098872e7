package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
)

// The secrets every run of every test uses. They are recognisable, and
// hold characters that URLs escape, so that a leak in any spelling (raw,
// query-escaped, path-escaped) is caught.
const (
	apiKey   = "e2eKEY+7f3a/9c=SeCrEt"
	wrongKey = "e2eWRONG+c0ffee/KeY=x"
	dbPass   = "e2e-Pa55@w0rd!Db"
	username = "e2e-user"
)

// secretSpellings is every form under which a secret could leak.
func secretSpellings() []string {
	var out []string
	for _, s := range []string{apiKey, wrongKey, dbPass} {
		out = append(out, s, url.QueryEscape(s), url.PathEscape(s))
	}
	return append(out, passwordInURL())
}

// passwordInURL is dbPass as it is written inside a postgres:// URL.
func passwordInURL() string {
	return strings.TrimPrefix(url.UserPassword("postgres", dbPass).String(), "postgres:")
}

// assertNoSecret fails when text holds any spelling of a secret.
func assertNoSecret(t testing.TB, where, text string) {
	t.Helper()
	for _, s := range secretSpellings() {
		if strings.Contains(text, s) {
			t.Errorf("secret %q appears in %s", s, where)
		}
	}
}

// world is the simulator behind a loopback HTTP server, with a recorder in
// front that timestamps every request and can inject a fault into any one.
type world struct {
	fake *fakeapi.Server
	srv  *httptest.Server

	mu     sync.Mutex
	reqs   []request
	script func(n int, r *http.Request) *fakeapi.Fault
	onReq  func(n int, r *http.Request)
}

// request is one API request the simulator received.
type request struct {
	n     int // 1-based arrival order
	at    time.Time
	query url.Values // without the key
	fault fakeapi.FaultKind
}

func newWorld(t testing.TB, opts fakeapi.Options) *world {
	t.Helper()
	opts.APIKey = apiKey
	w := &world{fake: fakeapi.New(opts)}
	w.srv = httptest.NewServer(w)
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	q.Del("y")
	w.mu.Lock()
	n := len(w.reqs) + 1
	rec := request{n: n, at: time.Now(), query: q}
	var f *fakeapi.Fault
	if w.script != nil {
		f = w.script(n, r)
	}
	if f != nil {
		rec.fault = f.Kind
	}
	w.reqs = append(w.reqs, rec)
	onReq := w.onReq
	w.mu.Unlock()
	if onReq != nil {
		onReq(n, r)
	}
	if f != nil {
		// The client sends one request at a time, so the fault queued here
		// is the one this request takes.
		w.fake.Enqueue(*f)
	}
	w.fake.ServeHTTP(rw, r)
}

// setScript makes script choose a fault (or nil) for each request, by its
// arrival number; it also restarts the numbering.
func (w *world) setScript(script func(n int, r *http.Request) *fakeapi.Fault) {
	w.mu.Lock()
	w.script, w.reqs = script, nil
	w.mu.Unlock()
}

// setOnRequest makes f run on every request before it is served (it may
// block the request).
func (w *world) setOnRequest(f func(n int, r *http.Request)) {
	w.mu.Lock()
	w.onReq = f
	w.mu.Unlock()
}

func (w *world) requests() []request {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]request(nil), w.reqs...)
}

// faultsOn returns a script that gives the faults, in order, to the
// requests from number first on.
func faultsOn(first int, faults ...fakeapi.Fault) func(int, *http.Request) *fakeapi.Fault {
	return func(n int, _ *http.Request) *fakeapi.Fault {
		if i := n - first; i >= 0 && i < len(faults) {
			return &faults[i]
		}
		return nil
	}
}

// db is a database the binary writes to, reached with a password in its URL
// (the test servers trust every local connection, so any password works; the
// point is that it must never be printed).
type db struct {
	url  string // with the password
	pool *pgxpool.Pool
	name string
}

// newDB is a migrated database of the shared test server.
func newDB(t testing.TB) *db {
	t.Helper()
	d := pgtest.NewDB(t)
	return &db{url: withPassword(t, d.URL), pool: d.Pool, name: d.Name}
}

// newEmptyDB is a database of the shared server with no schema.
func newEmptyDB(t testing.TB) *db {
	t.Helper()
	d := pgtest.NewEmptyDB(t)
	return &db{url: withPassword(t, d.URL), pool: d.Pool, name: d.Name}
}

func withPassword(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPass)
	return u.String()
}

// cli runs the binary against one world and one database.
type cli struct {
	t   testing.TB
	w   *world
	db  *db
	env map[string]string
}

func newCLI(t testing.TB, w *world, d *db) *cli {
	t.Helper()
	c := &cli{t: t, w: w, db: d, env: map[string]string{
		"RA_USERNAME":          username,
		"RA_API_KEY":           apiKey,
		"RA_RPS":               "0",
		"RATICKETS_LOG_FORMAT": "json",
		"RA_API":               "v1", // the v2 tests set it themselves
	}}
	if w != nil {
		c.env["RA_BASE_URL"] = w.srv.URL
	}
	if d != nil {
		c.env["DATABASE_URL"] = d.url
	}
	return c
}

// result is how one run of the binary ended.
type result struct {
	args           []string
	code           int
	signaled       bool // ended by a signal (SIGKILL)
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("ratickets %s: exit %d after %v\nstdout: %s\nstderr: %s",
		strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// proc is a running binary.
type proc struct {
	t              testing.TB
	cmd            *exec.Cmd
	args           []string
	start          time.Time
	stdout, stderr bytes.Buffer
	done           chan struct{}
	res            result
}

// start runs the binary with args; it is killed when the test ends.
func (c *cli) start(args ...string) *proc {
	c.t.Helper()
	p := &proc{t: c.t, args: args, done: make(chan struct{})}
	p.cmd = exec.Command(binPath, args...)
	if c.env[peakRSSEnv] != "" { // through this test binary (TestMain), which measures it
		self, err := os.Executable()
		if err != nil {
			c.t.Fatal(err)
		}
		p.cmd = exec.Command(self, append([]string{binPath}, args...)...)
	}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TZ=UTC"}
	for k, v := range c.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	// Should this test process die, the kernel kills the child too.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		c.t.Fatalf("start %s: %v", binPath, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.res = result{args: args, code: p.cmd.ProcessState.ExitCode(), took: time.Since(p.start),
			stdout: p.stdout.String(), stderr: p.stderr.String()}
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.res.signaled = true
		}
		_ = err // the exit status is in res
		close(p.done)
	}()
	c.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to end (at most limit, then kills it and
// fails) and checks its output for secrets and panics.
func (p *proc) wait(limit time.Duration) result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("ratickets %v still running after %v; killed\n%s", p.args, limit, p.res)
	}
	checkOutput(p.t, p.res)
	return p.res
}

// run runs the binary to completion.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.start(args...).wait(2 * time.Minute)
}

// sync runs `ratickets sync` with args.
func (c *cli) sync(args ...string) result {
	c.t.Helper()
	return c.run(append([]string{"sync"}, args...)...)
}

// checkOutput asserts what holds for every run, whatever its outcome: no
// secret in any spelling, no panic, and a log of JSON lines (plus the final
// one-line "ratickets: reason" on failure).
func checkOutput(t testing.TB, r result) {
	t.Helper()
	assertNoSecret(t, "the output of "+strings.Join(r.args, " "), r.stdout+r.stderr)
	for _, bad := range []string{"panic:", "goroutine ", "runtime error"} {
		if strings.Contains(r.stdout+r.stderr, bad) {
			t.Errorf("output holds %q:\n%s", bad, r)
		}
	}
	if r.signaled {
		return // a killed process may have been cut mid-line
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if line == "" || strings.HasPrefix(line, "ratickets: ") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line is neither a JSON log line nor the final reason: %q", line)
		}
	}
}

// logLine is one JSON log line.
type logLine map[string]any

func (l logLine) str(k string) string { s, _ := l[k].(string); return s }

// logs returns the JSON log lines of stderr whose message is msg.
func logs(stderr, msg string) []logLine {
	var out []logLine
	for _, line := range strings.Split(stderr, "\n") {
		var m logLine
		if json.Unmarshal([]byte(line), &m) == nil && m.str("message") == msg {
			out = append(out, m)
		}
	}
	return out
}

// runRow is one row of sync_runs.
type runRow struct {
	ID                                     int64
	Status                                 string
	Error                                  *string
	Finished                               bool
	Requests, Retries, Pages, Seen         int64
	Inserted, Updated, Unchanged, Rejected int64
	Reconciled, Vanished                   int64
	ScanComplete                           bool
}

func (d *db) runs(t testing.TB) []runRow {
	t.Helper()
	rows, err := d.pool.Query(context.Background(), `SELECT id, status, error, finished_at IS NOT NULL,
		requests, retries, pages, tickets_seen, inserted, updated, unchanged, rejected, reconciled, vanished,
		scan_complete FROM sync_runs ORDER BY id`)
	if err != nil {
		t.Fatalf("sync_runs: %v", err)
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.ID, &r.Status, &r.Error, &r.Finished, &r.Requests, &r.Retries, &r.Pages, &r.Seen,
			&r.Inserted, &r.Updated, &r.Unchanged, &r.Rejected, &r.Reconciled, &r.Vanished, &r.ScanComplete); err != nil {
			t.Fatalf("sync_runs: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("sync_runs: %v", err)
	}
	return out
}

func (d *db) count(t testing.TB, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// ticketState is what ratickets stores of one ticket that the simulator
// also knows, for comparing the two.
type ticketState struct {
	StateCode, TypeCode int16
	ReportedAt          time.Time
	ResolvedAt          *time.Time
	ResolvedBy, Title   *string
	Notes               *string
	Points              *int32
	Hardcore            *bool
	Vanished            bool
}

func (s ticketState) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (d *db) tickets(t testing.TB) map[int64]ticketState {
	t.Helper()
	// The codes are NULL where v2 has none (leaderboard types): -1 here.
	rows, err := d.pool.Query(context.Background(), `SELECT id, coalesce(report_state_code, -1),
		coalesce(report_type_code, -1), reported_at, resolved_at, resolved_by, achievement_title, report_notes, points, hardcore,
		vanished_at IS NOT NULL FROM tickets`)
	if err != nil {
		t.Fatalf("tickets: %v", err)
	}
	defer rows.Close()
	out := map[int64]ticketState{}
	for rows.Next() {
		var id int64
		var s ticketState
		if err := rows.Scan(&id, &s.StateCode, &s.TypeCode, &s.ReportedAt, &s.ResolvedAt, &s.ResolvedBy,
			&s.Title, &s.Notes, &s.Points, &s.Hardcore, &s.Vanished); err != nil {
			t.Fatalf("tickets: %v", err)
		}
		s.ReportedAt = s.ReportedAt.UTC()
		if s.ResolvedAt != nil {
			r := s.ResolvedAt.UTC()
			s.ResolvedAt = &r
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("tickets: %v", err)
	}
	return out
}

// stateOf is what ratickets should store of a simulator ticket.
func stateOf(f fakeapi.Ticket) ticketState {
	s := ticketState{
		StateCode: int16(f.ReportState), TypeCode: int16(f.ReportType),
		ReportedAt: f.ReportedAt.UTC(), ResolvedAt: f.ResolvedAt, ResolvedBy: f.ResolvedBy,
		Title: ptr(strings.ReplaceAll(f.AchievementTitle, "\x00", "")), Notes: ptr(strings.ReplaceAll(f.ReportNotes, "\x00", "")),
		Points: ptr(int32(f.Points)), Vanished: f.Deleted,
	}
	if s.ResolvedAt != nil {
		r := s.ResolvedAt.UTC()
		s.ResolvedAt = &r
	}
	if f.Hardcore != nil {
		s.Hardcore = ptr(*f.Hardcore == 1)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// assertMatchesOpenList asserts that the database holds exactly the
// simulator's open list (PutRaw objects excepted), field by field.
func assertMatchesOpenList(t testing.TB, d *db, w *world) {
	t.Helper()
	got := d.tickets(t)
	want := map[int64]ticketState{}
	for _, f := range w.fake.Open() {
		if full, ok := w.fake.Get(f.ID); ok {
			want[f.ID] = stateOf(full)
		}
	}
	diffStates(t, got, want)
}

// assertConverged asserts that the database holds every ticket of the open
// list and that every ticket it holds is in its current state at the
// source: what an uninterrupted sync from an empty database, followed by
// the same earlier syncs, would give.
func assertConverged(t testing.TB, d *db, w *world) {
	t.Helper()
	got := d.tickets(t)
	want := map[int64]ticketState{}
	for _, f := range w.fake.Open() {
		if full, ok := w.fake.Get(f.ID); ok {
			want[f.ID] = stateOf(full)
		}
	}
	for id := range got {
		if _, ok := want[id]; ok {
			continue
		}
		full, ok := w.fake.Get(id)
		if !ok {
			t.Errorf("ticket %d is in the database but unknown to the simulator", id)
			continue
		}
		want[id] = stateOf(full)
	}
	diffStates(t, got, want)
}

func diffStates(t testing.TB, got, want map[int64]ticketState) {
	t.Helper()
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("ticket %d missing from the database", id)
		case g.String() != w.String():
			t.Errorf("ticket %d:\n got %s\nwant %s", id, g, w)
		default:
			continue
		}
		if bad++; bad > 10 {
			t.Fatalf("more differences follow; %d tickets in the database, %d expected", len(got), len(want))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("ticket %d is in the database but not expected", id)
		}
	}
}

// assertConsistent checks invariants that hold after any sequence of runs,
// however they ended, because every batch commits with its counters:
// no half-written batch, no duplicate, a coherent history.
func assertConsistent(t testing.TB, d *db) {
	t.Helper()
	if n, sum := d.count(t, `SELECT count(*) FROM tickets`), d.count(t, `SELECT coalesce(sum(inserted), 0) FROM sync_runs`); n != sum {
		t.Errorf("%d tickets, but the runs' counters say %d were inserted: a batch was half written", n, sum)
	}
	if n, sum := d.count(t, `SELECT count(*) FROM rejected_records WHERE field IS NULL`), d.count(t, `SELECT coalesce(sum(rejected), 0) FROM sync_runs`); n != sum {
		t.Errorf("%d rejected records, but the runs' counters say %d", n, sum)
	}
	if n := d.count(t, `SELECT count(*) FROM tickets t WHERE (SELECT count(*) FROM ticket_history h
		WHERE h.ticket_id = t.id AND h.valid_to IS NULL) <> 1`); n != 0 {
		t.Errorf("%d tickets without exactly one current history version", n)
	}
	if n := d.count(t, `SELECT count(*) FROM tickets t JOIN ticket_history h ON h.ticket_id = t.id AND h.valid_to IS NULL
		WHERE (h.report_state_code, h.report_type_code, h.resolved_at, h.resolved_by, h.report_notes, h.achievement_title, h.points)
		IS DISTINCT FROM (t.report_state_code, t.report_type_code, t.resolved_at, t.resolved_by, t.report_notes, t.achievement_title, t.points)
		OR (h.vanished_at IS NULL) <> (t.vanished_at IS NULL)`); n != 0 {
		t.Errorf("%d tickets whose current history version differs from the ticket", n)
	}
	if n := d.count(t, `SELECT count(*) FROM ticket_history a JOIN ticket_history b ON a.ticket_id = b.ticket_id AND a.id < b.id
		WHERE tstzrange(a.valid_from, a.valid_to) && tstzrange(b.valid_from, b.valid_to)`); n != 0 {
		t.Errorf("%d overlapping history versions", n)
	}
	if n := d.count(t, `SELECT count(*) FROM ticket_sightings s LEFT JOIN tickets t ON t.id = s.ticket_id WHERE t.id IS NULL`); n != 0 {
		t.Errorf("%d sightings of unknown tickets", n)
	}
}

// snapshot renders everything ratickets stores about the tickets except
// the wall-clock times, which differ between two databases fed the same
// source at different moments: the tickets' columns, and each ticket's
// sequence of history versions.
func (d *db) snapshot(t testing.TB) []string {
	t.Helper()
	rows, err := d.pool.Query(context.Background(), `
		SELECT 'ticket ' || (to_jsonb(t) - 'first_seen_at' - 'updated_at' - 'vanished_at'
		        || jsonb_build_object('vanished', t.vanished_at IS NOT NULL))::text
		FROM tickets t
		UNION ALL
		SELECT 'history ' || ticket_id || ': ' || string_agg(concat_ws('|', report_state_code, report_type_code,
		        resolved_at, resolved_by, md5(report_notes), achievement_title, points, vanished_at IS NOT NULL),
		        ' > ' ORDER BY valid_from, id)
		FROM ticket_history GROUP BY ticket_id
		ORDER BY 1`)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return out
}

// diffSnapshots reports the first differences between two snapshots.
func diffSnapshots(t testing.TB, what string, got, want []string) {
	t.Helper()
	gs, ws := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		gs[s] = true
	}
	for _, s := range want {
		ws[s] = true
	}
	n := 0
	for _, s := range got {
		if !ws[s] && n < 5 {
			t.Errorf("%s: only in the interrupted database: %.300s", what, s)
			n++
		}
	}
	for _, s := range want {
		if !gs[s] && n < 10 {
			t.Errorf("%s: only in the control database: %.300s", what, s)
			n++
		}
	}
	if n == 0 && len(got) != len(want) {
		t.Errorf("%s: %d rows, control has %d", what, len(got), len(want))
	}
}

// pgDump returns a plain-text dump of the database.
func pgDump(t testing.TB, d *db) string {
	t.Helper()
	bin, err := pgtest.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "pg_dump"), "--no-owner", "--dbname", d.url)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	if err := cmd.Run(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, errb.String())
	}
	return out.String()
}

// waitFor polls cond until it holds or the deadline passes, and fails the
// test then. Only for the test's goroutine: hooks use poll.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// poll polls cond until it holds (true) or the deadline passes (false).
func poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
