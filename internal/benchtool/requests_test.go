package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// The request figures of a 3,000-ticket world against its truth, read from
// an untouched twin of the world: N is the tickets v2 shows (leaderboard
// tickets in, quarantined out); a quiet v2 backfill --all costs between
// ceil(N/100) and 1.02 x ceil(N/100) + 3 requests; v1's full history is one
// request per id up to the highest and finds every achievement ticket;
// reconciling 250 departed tickets costs 250 requests with v1 and 3 with
// v2; the printed ratios divide by ceil(N/100).
func TestRequestFigures(t *testing.T) {
	t.Parallel()
	const tickets, seed, departed = 3000, 7, 250
	twin := fakeapi.New(requestWorld(tickets, seed))
	var shown, lb, achievements int
	var highest int64
	for _, tk := range twin.AllV2() {
		highest = max(highest, tk.ID)
		if fakeapi.VisibleV2(tk) {
			shown++
			if tk.LeaderboardID != 0 {
				lb++
			}
		}
		if tk.LeaderboardID == 0 && !tk.Deleted {
			achievements++
		}
	}
	if lb == 0 || shown == achievements {
		t.Fatalf("the world should have leaderboard and quarantined tickets: %d shown, %d leaderboard, %d achievement", shown, lb, achievements)
	}
	f, err := measureRequests(context.Background(), tickets, seed, departed, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	least := (shown + 99) / 100
	q := f.quiet
	if q.tickets != shown || q.requests < least || float64(q.requests) > 1.02*float64(least)+3 || q.list+q.ids != q.requests {
		t.Errorf("quiet v2: %+v; want %d tickets in %d..%.0f requests", q, shown, least, 1.02*float64(least)+3)
	}
	if c := f.churn; c.tickets <= shown || c.requests < fewest(c.tickets) || c.churn != churnPerRequest {
		t.Errorf("churning v2: %+v; want more than %d tickets (new ones arrive), at least ceil(N/100) requests", c, shown)
	}
	if f.v1.highestID != int(highest) || f.v1.requests != int(highest) || f.v1.found != achievements {
		t.Errorf("v1: %+v; want %d requests finding %d tickets", f.v1, highest, achievements)
	}
	if r := f.reconcile; r.departed != departed || r.v1Requests != departed || r.v2Requests != 3 || r.v2Absent <= r.v1Absent {
		t.Errorf("reconciliation: %+v; want %d v1 requests, 3 v2, v2 missing the quarantined too", r, departed)
	}

	var out bytes.Buffer
	f.print(&out)
	for name, want := range map[string]string{
		"requests_backfill_all_v2": fmt.Sprintf("requests=%d .*ceil_per_100=%d ratio=%.3f ", q.requests, least, float64(q.requests)/float64(least)),
		"requests_full_history_v1": fmt.Sprintf("requests=%d .*ceil_per_100=%d ratio=%.1f hours_at_1rps=%.3f ", highest, least, float64(highest)/float64(least), float64(highest)/3600),
		"requests_reconcile":       "v1_per_100=100.0 v2_per_100=1.200 ",
	} {
		if !regexp.MustCompile(`(?m)^BENCH name=` + name + ` .*` + want).Match(out.Bytes()) {
			t.Errorf("no line %s with %q in\n%s", name, want, out.String())
		}
	}
}
