package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// TestAPIUsageErrors: a wrong --api or RA_API, and --all with another
// selection, are usage errors (exit 2) that say what is wrong.
func TestAPIUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"sync", "--api", "v3"}, "", "--api"},
		{[]string{"sync"}, "v3", "--api"},
		{[]string{"serve", "--api", "auto2"}, "", "--api"},
		{[]string{"backfill", "--all", "--games"}, "v1", "only one of --all"},
		{[]string{"backfill", "--all", "--from-id", "1", "--to-id", "5"}, "v1", "only one of --all"},
		{[]string{"backfill"}, "v1", "--all"},
	} {
		c := &cli{t: t, env: map[string]string{"RA_API_KEY": testKey, "RA_USERNAME": "me", "RA_API": tc.env}}
		code, stdout, stderr := c.run(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v (RA_API=%q): exit %d, stderr %q (want %q)\n%s", tc.args, tc.env, code, stderr, tc.want, stdout)
		}
	}
	for _, cmd := range []string{"sync", "backfill", "serve"} {
		c := &cli{t: t, env: map[string]string{}}
		code, stdout, _ := c.run(cmd, "--help")
		if code != 0 || !strings.Contains(stdout, "--api") || !strings.Contains(stdout, "$RA_API)") {
			t.Errorf("%s --help: exit %d, no --api ($RA_API) in\n%s", cmd, code, stdout)
		}
	}
	if _, stdout, _ := (&cli{t: t, env: map[string]string{}}).run("backfill", "--help"); !strings.Contains(stdout, "--all") {
		t.Errorf("backfill --help does not show --all:\n%s", stdout)
	}
}

// TestBackfillAllV1SaysHowLong: backfill --all with v1 prints the id range
// and how long it takes at --rps, then fetches every id up to the highest
// the database knows.
func TestBackfillAllV1SaysHowLong(t *testing.T) {
	t.Parallel()
	c := newCLI(t, fakeapi.Options{Seed: 7, Tickets: 120})
	if code, stdout, stderr := c.run("sync"); code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	max := c.count(`SELECT max(id) FROM tickets`)
	c.env["RA_RPS"] = "500"
	code, stdout, stderr := c.run("backfill", "--all", "--log-format", "json")
	if code != 0 {
		t.Fatalf("backfill --all: exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := fmt.Sprintf("ids 1..%d one request each (%d requests), about ", max, max)
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "at 500 requests/s") {
		t.Errorf("stdout %q does not say %q … at 500 requests/s", stdout, want)
	}
	if !strings.Contains(stdout, "backfill run 2 succeeded in ") || !strings.Contains(stdout, " with v1: ") {
		t.Errorf("summary line does not name the API: %q", stdout)
	}
	if got := c.fake.Requests()["ticket"]; got != int(max) {
		t.Errorf("%d i= requests, want %d", got, max)
	}
	var all int64
	for _, f := range c.fake.All() {
		if f.ID <= max && !f.Deleted {
			all++
		}
	}
	if n := c.count(`SELECT count(*) FROM tickets`); n != all {
		t.Errorf("%d tickets stored, the simulator has %d up to id %d", n, all, max)
	}
	if n := c.count(`SELECT count(*) FROM sync_runs WHERE kind = 'backfill' AND api = 'v1' AND status = 'succeeded'`); n != 1 {
		t.Errorf("%d succeeded v1 backfill runs recorded", n)
	}
}

// TestFakeapiNoV2: `fakeapi --no-v2` answers 404 on /api/v2, and a sync
// with the default --api auto against it falls back to v1, in one log line.
func TestFakeapiNoV2(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"fakeapi", "--listen", "127.0.0.1:0", "--no-v2", "--tickets", "80", "--api-key", testKey},
			func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("fakeapi: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base := strings.Fields(strings.TrimPrefix(line, "fakeapi listening on "))[0]
	resp, err := http.Get(base + "/api/v2/tickets")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/api/v2/tickets with --no-v2: %d, want 404", resp.StatusCode)
	}

	c := newCLI(t, fakeapi.Options{Seed: 1, Tickets: 1})
	c.env["RA_BASE_URL"] = base
	delete(c.env, "RA_API") // the default, auto
	code, stdout, stderr := c.run("sync", "--log-format", "json")
	if code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := strings.Count(stderr, "using v1"); n != 1 {
		t.Errorf("%d fallback lines, want 1:\n%s", n, stderr)
	}
	if n := c.count(`SELECT count(*) FROM sync_runs WHERE api = 'v1'`); n != 1 {
		t.Errorf("sync_runs.api not v1")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("fakeapi exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Error("fakeapi did not stop")
	}
}
