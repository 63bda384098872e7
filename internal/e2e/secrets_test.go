package e2e

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// runLockKey is load's advisory lock key ("ratick"); the test holds it to
// play the other run.
const runLockKey int64 = 0x7261_7469_636b

// TestSecretsNeverLeak drives every error path with a recognisable API key
// and database password, and asserts that neither shows up, in any
// spelling, in stdout, stderr (every run's output is checked by the
// harness, panics included) or anywhere in the database (pg_dump).
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 91, Tickets: 1200})
	d := newDB(t)
	c := newCLI(t, w, d)
	debug := []string{"--log-level", "debug", "--batch-size", "50"}
	type step struct {
		name  string
		setup func() func() // returns its undo
		args  []string
		code  int
		want  string // in stdout+stderr
	}
	none := func() func() { return func() {} }
	script := func(s func(int, *http.Request) *fakeapi.Fault) func() func() {
		return func() func() { w.setScript(s); return func() { w.setScript(nil) } }
	}
	env := func(kv ...string) func() func() {
		return func() func() {
			old := map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				old[kv[i]] = c.env[kv[i]]
				c.env[kv[i]] = kv[i+1]
			}
			return func() {
				for k, v := range old {
					c.env[k] = v
				}
			}
		}
	}
	closed := closedPort(t)
	every := func(n int, faults ...fakeapi.Fault) func(int, *http.Request) *fakeapi.Fault {
		return func(i int, _ *http.Request) *fakeapi.Fault {
			if i%n == 0 && i/n <= len(faults) {
				return &faults[i/n-1]
			}
			return nil
		}
	}
	steps := []step{
		{name: "wrong key", setup: env("RA_API_KEY", wrongKey), args: debug, code: 1, want: "credentials refused"},
		{name: "wrong key, backfill", setup: env("RA_API_KEY", wrongKey), code: 1, want: "credentials refused",
			args: []string{"backfill", "--from-id", "1", "--to-id", "20", "--log-level", "debug"}},
		{name: "every transient fault", setup: script(every(2,
			fakeapi.Fault{Kind: fakeapi.FaultTooManyRequests, RetryAfter: time.Second},
			fakeapi.Fault{Kind: fakeapi.FaultServerError, Status: 502},
			fakeapi.Fault{Kind: fakeapi.FaultHTML}, fakeapi.Fault{Kind: fakeapi.FaultTruncated},
			fakeapi.Fault{Kind: fakeapi.FaultSlow, Delay: 3 * time.Second},
			fakeapi.Fault{Kind: fakeapi.FaultReset}, fakeapi.Fault{Kind: fakeapi.FaultServerError, Status: 500})),
			args: append([]string{"--timeout", "1s"}, debug...), code: 0, want: "succeeded"},
		// A reset on the first (fresh) connection reaches the client, whose
		// error quotes the request URL: it is stored with y=REDACTED.
		{name: "retry budget spent", setup: script(faultsOn(1, fakeapi.Fault{Kind: fakeapi.FaultReset})),
			args: append([]string{"--max-retries", "0"}, debug...), code: 1, want: "y=REDACTED"},
		{name: "bad records", setup: func() func() {
			m := rawTicket(8_000_000, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
			m["ReportState"] = "open-ish"
			w.fake.PutRaw(8_000_000, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), marshal(t, m))
			return func() { w.fake.Delete(8_000_000) }
		}, args: debug, code: 0, want: "record set aside"},
		{name: "run lock held", setup: func() func() {
			conn, err := d.pool.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_lock($1)", runLockKey); err != nil {
				t.Fatal(err)
			}
			return func() {
				_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", runLockKey)
				conn.Release()
			}
		}, args: debug, code: 0, want: "holds the lock"},
		{name: "database at a closed port", setup: env("DATABASE_URL",
			"postgres://postgres:"+passwordInURL()+"@127.0.0.1:"+strconv.Itoa(closed)+"/ratickets?sslmode=disable&connect_timeout=2"),
			args: debug, code: 1, want: "database"},
		{name: "PGPASSWORD and a closed port", setup: env("DATABASE_URL", "", "PGHOST", "127.0.0.1",
			"PGPORT", strconv.Itoa(closed), "PGUSER", "postgres", "PGPASSWORD", dbPass, "PGCONNECT_TIMEOUT", "2"),
			args: debug, code: 1, want: "database"},
		{name: "database that does not exist", setup: env("DATABASE_URL", strings.Replace(d.url, "/"+d.name+"?", "/nonexistent_db?", 1)),
			args: debug, code: 1, want: "nonexistent_db"},
		{name: "malformed database URL", setup: env("DATABASE_URL",
			"postgres://postgres:"+passwordInURL()+"@127.0.0.1:notaport/x"),
			args: debug, code: 2, want: "database-url"},
		// Malformed in ways the strict parser's own redaction misses:
		// spaces around '=' and a second '@'.
		{name: "malformed keyword/value string", setup: env("DATABASE_URL",
			"host=127.0.0.1 password = '"+dbPass+"' port=notaport"),
			args: debug, code: 2, want: "database-url"},
		{name: "malformed URL with an unescaped password", setup: env("DATABASE_URL",
			"postgres://postgres:"+dbPass+"@127.0.0.1:5432/x?port=zz"),
			args: debug, code: 2, want: "database-url"},
		{name: "migrate status", setup: none, args: []string{"migrate", "status"}, code: 0, want: "applied"},
	}
	for _, s := range steps {
		undo := s.setup()
		args := s.args
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			args = append([]string{"sync"}, args...)
		}
		res := c.run(args...)
		undo()
		if res.code != s.code || !strings.Contains(res.stdout+res.stderr, s.want) {
			t.Errorf("%s: want exit %d and %q:\n%s", s.name, s.code, s.want, res)
		}
	}

	// SIGINT in the middle of a run.
	w.fake.SetLatency(100 * time.Millisecond)
	p := c.start(append([]string{"sync"}, debug...)...)
	waitFor(t, 30*time.Second, "a batch of the run to be interrupted", func() bool {
		return d.count(t, `SELECT count(*) FROM sync_runs WHERE status = 'running' AND tickets_seen > 0`) > 0
	})
	p.signal(syscall.SIGINT)
	if res := p.wait(time.Minute); res.code != 1 || !strings.Contains(res.stderr, "cancelled") {
		t.Errorf("interrupted run:\n%s", res)
	}

	dump := pgDump(t, d)
	assertNoSecret(t, "the database (pg_dump)", dump)
	// The dump holds what the failed runs recorded, so the check above
	// looked at the right text.
	for _, want := range []string{"credentials refused", "y=REDACTED", "open-ish", "context canceled"} {
		if !strings.Contains(dump, want) {
			t.Errorf("the dump lacks %q: the error paths did not all leave their trace", want)
		}
	}
}

// closedPort returns a loopback TCP port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
