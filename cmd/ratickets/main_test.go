package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const testKey = "KEY-7f3a9c-do-not-leak"

type cli struct {
	t    *testing.T
	env  map[string]string
	fake *fakeapi.Server
	db   *pgtest.DB
}

func newCLI(t *testing.T, opts fakeapi.Options) *cli {
	t.Helper()
	opts.APIKey = testKey
	fake := fakeapi.New(opts)
	mux := http.NewServeMux()
	mux.Handle("/ra/", http.StripPrefix("/ra", fake))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	db := pgtest.NewDB(t)
	return &cli{t: t, fake: fake, db: db, env: map[string]string{
		"RA_BASE_URL":  srv.URL + "/ra",
		"RA_USERNAME":  "demo",
		"RA_API_KEY":   testKey,
		"RA_RPS":       "0",
		"DATABASE_URL": db.URL,
		"RA_API":       "v1", // the v2 tests set it themselves
	}}
}

func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return c.env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func (c *cli) count(sql string, args ...any) int64 {
	c.t.Helper()
	var n int64
	if err := c.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

var stateLabels = map[int]string{0: "closed", 1: "open", 2: "resolved", 3: "request", 4: "quarantined"}
var hashLine = regexp.MustCompile(`RetroAchievements Hash: ([0-9a-fA-F]{32})`)

func TestSyncCommandLandsTheOpenList(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 5, Tickets: 700})
	code, stdout, stderr := c.run("sync", "--log-format", "json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "sync run 1 succeeded") {
		t.Errorf("summary line missing: %q", stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	open := c.fake.Open()
	if n := c.count(`SELECT count(*) FROM tickets`); n != int64(len(open)) {
		t.Fatalf("%d tickets in the database, simulator has %d open", n, len(open))
	}
	type row struct {
		state, typ               string
		stateCode, typeCode      int16
		reportedAt               time.Time
		hardcore                 *bool
		romHash, emulator, notes *string
		rawID                    int64
	}
	var unknownTypes, nullHardcore, hashes int
	for _, f := range open {
		var r row
		err := c.db.Pool.QueryRow(context.Background(), `SELECT report_state::text, report_type::text, report_state_code,
			report_type_code, reported_at, hardcore, rom_hash, emulator, report_notes, (raw->>'ID')::bigint FROM tickets WHERE id = $1`, f.ID).
			Scan(&r.state, &r.typ, &r.stateCode, &r.typeCode, &r.reportedAt, &r.hardcore, &r.romHash, &r.emulator, &r.notes, &r.rawID)
		if err != nil {
			t.Fatalf("ticket %d: %v", f.ID, err)
		}
		if r.state != stateLabels[f.ReportState] || int(r.stateCode) != f.ReportState {
			t.Errorf("ticket %d: state %s/%d, source %d", f.ID, r.state, r.stateCode, f.ReportState)
		}
		wantType := map[int]string{1: "triggered_at_wrong_time", 2: "did_not_trigger"}[f.ReportType]
		if wantType == "" {
			wantType = "unknown"
			unknownTypes++
		}
		if r.typ != wantType || int(r.typeCode) != f.ReportType {
			t.Errorf("ticket %d: type %s/%d, source %d", f.ID, r.typ, r.typeCode, f.ReportType)
		}
		if !r.reportedAt.Equal(f.ReportedAt) {
			t.Errorf("ticket %d: reported_at %v, source %v (UTC)", f.ID, r.reportedAt, f.ReportedAt)
		}
		switch {
		case f.Hardcore == nil:
			nullHardcore++
			if r.hardcore != nil {
				t.Errorf("ticket %d: hardcore %v, source null", f.ID, *r.hardcore)
			}
		case r.hardcore == nil || *r.hardcore != (*f.Hardcore == 1):
			t.Errorf("ticket %d: hardcore %v, source %d", f.ID, r.hardcore, *f.Hardcore)
		}
		if m := hashLine.FindStringSubmatch(f.ReportNotes); m != nil {
			hashes++
			if r.romHash == nil || *r.romHash != strings.ToLower(m[1]) {
				t.Errorf("ticket %d: rom_hash %v, notes say %s", f.ID, r.romHash, m[1])
			}
		}
		if r.notes == nil || *r.notes != f.ReportNotes {
			t.Errorf("ticket %d: notes did not round-trip", f.ID)
		}
		if r.rawID != f.ID {
			t.Errorf("ticket %d: raw JSON not kept", f.ID)
		}
	}
	if nullHardcore == 0 || hashes == 0 {
		t.Errorf("simulator world too plain to prove anything: %d null hardcore, %d hashes", nullHardcore, hashes)
	}
	if n := c.count(`SELECT count(*) FROM tickets WHERE raw ? 'ReportedByULID'`); n != int64(len(open)) {
		t.Errorf("unmodelled fields not kept in raw: %d of %d", n, len(open))
	}

	// A second sync rewrites no row.
	xmin := c.count(`SELECT sum(xmin::text::bigint) FROM tickets`)
	if code, stdout, stderr := c.run("sync", "--log-format", "json"); code != 0 {
		t.Fatalf("second sync exit %d: %s %s", code, stdout, stderr)
	}
	if got := c.count(`SELECT sum(xmin::text::bigint) FROM tickets`); got != xmin {
		t.Error("second sync rewrote ticket rows")
	}
	if n := c.count(`SELECT count(*) FROM sync_runs WHERE id = 2 AND unchanged = $1 AND inserted = 0 AND updated = 0`, len(open)); n != 1 {
		t.Error("second run's counters wrong")
	}
}

func TestWrongKeyFailsFastWithoutLeaking(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 1, Tickets: 50})
	c.env["RA_API_KEY"] = "WRONG-c0ffee-secret"
	code, stdout, stderr := c.run("sync", "--log-format", "json", "--log-level", "debug")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "credentials refused") {
		t.Errorf("stderr does not say the credentials were refused: %s", stderr)
	}
	for _, s := range []string{"WRONG-c0ffee-secret", testKey} {
		if strings.Contains(stdout+stderr, s) {
			t.Errorf("key %q appears in the output", s)
		}
	}
	if got := c.fake.Requests()["unauthorized"]; got != 1 {
		t.Errorf("%d requests with the wrong key, want exactly 1 (no retry)", got)
	}
	var errText string
	if err := c.db.Pool.QueryRow(context.Background(), `SELECT error FROM sync_runs WHERE status = 'failed'`).Scan(&errText); err != nil {
		t.Fatalf("failed run not recorded: %v", err)
	}
	if strings.Contains(errText, "WRONG-c0ffee-secret") || !strings.Contains(errText, "credentials refused") {
		t.Errorf("recorded error %q", errText)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{"RA_API_KEY": testKey}}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Commands:"},
		{[]string{"nope"}, 2, "unknown command"},
		{[]string{"help"}, 0, "Commands:"},
		{[]string{"version"}, 0, "ratickets "},
		{[]string{"sync", "--help"}, 0, "--base-url"},
		{[]string{"--help"}, 0, "Commands:"},
		{[]string{"--version"}, 0, "ratickets "},
		{[]string{"sync", "--bogus"}, 2, "unknown flag --bogus"},
		{[]string{"sync", "--username", "me", "--rps", "x"}, 2, "--rps"},
		{[]string{"sync"}, 2, "no username"},
		{[]string{"sync", "--username", "me", "--rps", "0"}, 2, "--allow-unlimited"},
		{[]string{"sync", "--username", "me", "--lock-timeout", "soon"}, 2, "--lock-timeout"},
		{[]string{"sync", "extra"}, 2, "unexpected argument extra"},
		{[]string{"migrate"}, 2, "migrate up|down|status"},
		{[]string{"migrate", "sideways"}, 2, "sideways"},
		{[]string{"backfill", "--username", "me"}, 2, "--from-id"},
		{[]string{"backfill", "--username", "me", "--from-id", "1", "--to-id", "2", "7"}, 2, "unexpected argument"},
		{[]string{"fakeapi", "--fault-rate", "2"}, 2, "--fault-rate"},
	}
	// --help exits 0 for every command, and lists the command's flags with
	// their environment variables.
	for cmd, want := range map[string]string{
		"sync": "$RA_API_KEY", "backfill": "--from-id", "serve": "$RATICKETS_INTERVAL", "report": "--out",
		"migrate": "$RATICKETS_STATEMENT_TIMEOUT", "fakeapi": "--fault-rate", "version": "--help",
	} {
		cases = append(cases, struct {
			args []string
			code int
			want string
		}{[]string{cmd, "--help"}, 0, want}, struct {
			args []string
			code int
			want string
		}{[]string{"help", cmd}, 0, want})
	}
	for _, tc := range cases {
		code, stdout, stderr := c.run(tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("ratickets %v: exit %d, output %q; want exit %d and %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
		if strings.Contains(stdout+stderr, testKey) {
			t.Errorf("ratickets %v printed the API key", tc.args)
		}
	}
}

// TestEnvironmentThroughGetenv: every setting is read from the environment
// run is given (not the process's), and a flag wins over it.
func TestEnvironmentThroughGetenv(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{"RA_API_KEY": testKey, "RA_USERNAME": "me",
		"RA_BASE_URL": "http://example.com", "DATABASE_URL": "postgres://u@127.0.0.1:" + closedPort(t) + "/x?connect_timeout=2"}}
	if code, _, stderr := c.run("sync"); code != 2 || !strings.Contains(stderr, "--allow-insecure") {
		t.Errorf("RA_BASE_URL http: exit %d, %q", code, stderr)
	}
	c.env["RA_ALLOW_INSECURE"] = "true"
	if code, _, stderr := c.run("sync", "--log-level", "error"); code != 1 || !strings.Contains(stderr, "database") {
		t.Errorf("RA_ALLOW_INSECURE: exit %d, want 1 (the database): %s", code, stderr)
	}
	c.env["RATICKETS_LOCK_TIMEOUT"] = "soon"
	if code, _, stderr := c.run("sync"); code != 2 || !strings.Contains(stderr, "lock-timeout") {
		t.Errorf("RATICKETS_LOCK_TIMEOUT=soon: exit %d, %q", code, stderr)
	}
	if code, _, stderr := c.run("sync", "--lock-timeout", "5s", "--log-level", "error"); code != 1 {
		t.Errorf("a flag must win over its variable: exit %d, %q", code, stderr)
	}
	c.env["RATICKETS_LOCK_TIMEOUT"] = ""
	c.env["RATICKETS_LOG_LEVEL"] = "loud"
	if code, _, stderr := c.run("sync"); code != 2 || !strings.Contains(stderr, "loud") {
		t.Errorf("RATICKETS_LOG_LEVEL=loud: exit %d, %q", code, stderr)
	}
}

// TestSessionTimeouts: connect sets lock_timeout and statement_timeout on
// every session of the pool.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		lock, stmt time.Duration
		want       [2]string
	}{
		{time.Minute, 15 * time.Minute, [2]string{"1min", "15min"}},
		{1500 * time.Millisecond, 0, [2]string{"1500ms", "0"}},
	} {
		pool, err := connect(ctx, dbFlags{DatabaseURL: db.URL, LockTimeout: tc.lock, StatementTimeout: tc.stmt}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got [2]string
		if err := pool.QueryRow(ctx, `SELECT current_setting('lock_timeout'), current_setting('statement_timeout')`).Scan(&got[0], &got[1]); err != nil {
			t.Fatal(err)
		}
		pool.Close()
		if got != tc.want {
			t.Errorf("lock %v, statement %v: session has %q, want %q", tc.lock, tc.stmt, got, tc.want)
		}
	}
	if _, err := connect(ctx, dbFlags{DatabaseURL: db.URL, LockTimeout: -time.Second}, nil); err == nil {
		t.Error("a negative timeout was accepted")
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	c := &cli{t: t, db: db, env: map[string]string{"DATABASE_URL": db.URL}}
	if code, out, errs := c.run("migrate", "status"); code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("status on empty db: %d %q %q", code, out, errs)
	}
	if code, out, errs := c.run("migrate", "up"); code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("up: %d %q %q", code, out, errs)
	}
	if code, out, _ := c.run("migrate", "status"); code != 0 || strings.Contains(out, "pending") {
		t.Fatalf("status after up: %d %q", code, out)
	}
	if code, _, errs := c.run("migrate", "down"); code != 0 {
		t.Fatalf("down: %d %q", code, errs)
	}
	if code, out, _ := c.run("migrate", "status"); code != 0 || strings.Count(out, "pending") != 1 {
		t.Fatalf("status after down: %d %q", code, out)
	}
}
