package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// The request figures of a 3,000-ticket world against its truth, read from
// an untouched twin of the world: N is the tickets v2 shows (leaderboard
// tickets in, quarantined out); a quiet v2 backfill --all costs between
// ceil(N/100) and 1.02 x ceil(N/100) + 3 requests; v1's full history is one
// request per id up to the highest and finds every achievement ticket;
// reconciling 250 departed tickets costs 250 requests with v1 and 3 with
// v2 (the tool itself checks that v2 also misses the quarantined ones); the
// printed ratios divide by ceil(N/100).
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
	figs, err := measureRequests(context.Background(), tickets, seed, departed, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	r := &results{requests: figs}
	var out bytes.Buffer
	r.print(&out)
	// fields reads the printed line of a figure.
	fields := func(name string) map[string]float64 {
		m := regexp.MustCompile(`(?m)^BENCH name=` + name + ` (.*)$`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no line %s in\n%s", name, out.String())
		}
		kv := map[string]float64{}
		for _, f := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(f, "=")
			kv[k], _ = strconv.ParseFloat(v, 64)
		}
		return kv
	}
	least := float64((shown + 99) / 100)
	q := fields("requests_backfill_all_v2")
	if q["tickets"] != float64(shown) || q["requests"] < least || q["requests"] > 1.02*least+3 ||
		q["list_requests"]+q["id_requests"] != q["requests"] || q["ceil_per_100"] != least {
		t.Errorf("quiet v2: %v; want %d tickets in %.0f..%.0f requests", q, shown, least, 1.02*least+3)
	}
	if c := fields("requests_backfill_all_v2_churn"); c["tickets"] <= float64(shown) ||
		c["requests"] < math.Ceil(c["tickets"]/100) || c["churn_per_request"] != churnPerRequest {
		t.Errorf("churning v2: %v; want more than %d tickets (new ones arrive), at least ceil(N/100) requests", c, shown)
	}
	if v1 := fields("requests_full_history_v1"); v1["highest_id"] != float64(highest) || v1["requests"] != float64(highest) ||
		v1["tickets_found"] != float64(achievements) || v1["v2_tickets"] != float64(shown) {
		t.Errorf("v1: %v; want %d requests finding %d tickets", v1, highest, achievements)
	}
	if r := fields("requests_reconcile"); r["departed"] != departed || r["v1_requests"] != departed || r["v2_requests"] != 3 {
		t.Errorf("reconciliation: %v; want %d v1 requests, 3 v2", r, departed)
	}
	for name, want := range map[string]string{
		"requests_backfill_all_v2": fmt.Sprintf("requests=%.0f .*ceil_per_100=%.0f ratio=%.3f ", q["requests"], least, q["requests"]/least),
		"requests_full_history_v1": fmt.Sprintf("requests=%d .*ceil_per_100=%.0f ratio=%.1f hours_at_1rps=%.3f ", highest, least, float64(highest)/least, float64(highest)/3600),
		"requests_reconcile":       "v1_per_100=100.0 v2_per_100=1.200 ",
	} {
		if !regexp.MustCompile(`(?m)^BENCH name=` + name + ` .*` + want).Match(out.Bytes()) {
			t.Errorf("no line %s with %q in\n%s", name, want, out.String())
		}
	}
}
