package e2e

import (
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

func visibleV2IDs(w *world) map[int64]bool {
	out := map[int64]bool{}
	for _, f := range w.fake.AllV2() {
		if fakeapi.VisibleV2(f) {
			out[f.ID] = true
		}
	}
	return out
}

// assertHoldsExactly checks that the database holds exactly the tickets
// ids.
func assertHoldsExactly(t *testing.T, d *db, ids map[int64]bool) {
	t.Helper()
	got := d.tickets(t)
	for id := range ids {
		if _, ok := got[id]; !ok {
			t.Errorf("ticket %d missing", id)
		}
	}
	if len(got) != len(ids) {
		t.Errorf("the database holds %d tickets, v2 shows %d", len(got), len(ids))
	}
}

// TestV2BackfillAllSurvivesSIGKILL: the binary's `backfill --all` with the
// default --api auto uses v2 (sync_runs.api), is killed part way, and the
// same command run again resumes from its checkpoint: the database then
// holds exactly the tickets v2 shows, within 1.02 × ceil(N/100) requests
// plus a few over both runs.
func TestV2BackfillAllSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	w := newWorld(t, fakeapi.Options{Seed: 71, Tickets: 4000})
	c := newCLI(t, w, d)
	delete(c.env, "RA_API") // auto
	c.env["RATICKETS_BATCH_SIZE"] = "100"
	w.fake.SetLatency(30 * time.Millisecond)
	p := c.start("backfill", "--all")
	waitFor(t, time.Minute, "a checkpoint", func() bool {
		return d.count(t, `SELECT count(*) FROM backfill_checkpoints WHERE name = 'all:v2' AND (position->>'next')::int >= 8`) == 1
	})
	p.signal(syscall.SIGKILL)
	if res := p.wait(time.Minute); !res.signaled {
		t.Fatalf("not killed: %s", res)
	}
	w.fake.SetLatency(0)
	res := c.run("backfill", "--all")
	if res.code != 0 {
		t.Fatalf("resumed backfill: %s", res)
	}
	if len(logs(res.stderr, "resuming from checkpoint")) != 1 {
		t.Errorf("the second run did not resume:\n%s", res.stderr)
	}
	ids := visibleV2IDs(w)
	assertHoldsExactly(t, d, ids)
	n := len(ids)
	var v2 int
	for _, r := range w.requests() {
		if r.query.Has("page[number]") {
			v2++
		}
	}
	bound := int(math.Ceil(float64(n)/100)*1.02) + 4 // and one probe per run
	if v2 > bound || v2 < (n+99)/100 {
		t.Errorf("%d v2 requests over both runs for %d tickets, bound %d", v2, n, bound)
	}
	if got := d.count(t, `SELECT count(*) FROM sync_runs WHERE api = 'v2'`); got != 2 {
		t.Errorf("%d runs recorded with api v2, want 2", got)
	}
	for _, l := range logs(res.stderr, "run finished") {
		if l.str("api") != "v2" {
			t.Errorf("run line without api v2: %v", l)
		}
	}
}

// TestAutoFallsBackToV1ThroughTheBinary: against a site without v2, the
// binary's sync (default --api auto) probes once, says so in one log line,
// and syncs with v1.
func TestAutoFallsBackToV1ThroughTheBinary(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	w := newWorld(t, fakeapi.Options{Seed: 73, Tickets: 300, DisableV2: true})
	c := newCLI(t, w, d)
	delete(c.env, "RA_API")
	res := c.sync()
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	var fallback int
	for _, line := range strings.Split(res.stderr, "\n") {
		if strings.Contains(line, "using v1") {
			fallback++
			if !strings.Contains(line, `"api":"v1"`) || !strings.Contains(line, "404") {
				t.Errorf("fallback line %s", line)
			}
		}
	}
	if fallback != 1 {
		t.Errorf("%d fallback lines, want 1", fallback)
	}
	if got := w.fake.Requests()["v2_disabled"]; got != 1 {
		t.Errorf("%d v2 requests, want the one probe", got)
	}
	if got := d.count(t, `SELECT count(*) FROM sync_runs WHERE api = 'v1' AND status = 'succeeded'`); got != 1 {
		t.Errorf("sync_runs.api is not v1")
	}
	assertMatchesOpenList(t, d, w)

}
