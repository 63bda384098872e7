package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"slices"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
)

// The "requests" group (doc.go, BENCHMARKS.md), measured in this process
// with the extract client (no rate limit, no retries) against the
// simulator's default mix of states: some quarantined (hidden from v2), and
// leaderboard tickets (only v2 sees them).

const (
	// churnPerRequest is how many fakeapi.Churn events (new, resolved,
	// closed, quarantined and reopened tickets) happen before each request
	// of the churning scan.
	churnPerRequest = 10
	// v1Workers run the v1 full history's lookups (the count does not
	// depend on them).
	v1Workers = 4
)

// figure is one BENCH line: its name and its fields, in order.
type figure struct {
	name string
	kv   []any
}

// get is the value of field key (nil when there is none).
func (f figure) get(key string) any {
	if i := slices.Index(f.kv, any(key)); i >= 0 && i%2 == 0 {
		return f.kv[i+1]
	}
	return nil
}

// fewest is the minimum number of requests for n tickets: ceil(n/100).
func fewest(n int) int { return (n + extract.MaxIDsPerRequest - 1) / extract.MaxIDsPerRequest }

// hours is how long n requests take at one request a second.
func hours(n int) float64 { return float64(n) / 3600 }

// ratio is n requests over the fewest for tickets tickets.
func ratio(n, tickets int) float64 { return float64(n) / float64(fewest(tickets)) }

// requestWorld is the simulator's default mix of states.
func requestWorld(tickets int, seed int64) fakeapi.Options {
	return fakeapi.Options{Seed: seed, Tickets: tickets, APIKey: apiKey, Username: username}
}

// measureRequests builds a world of tickets tickets and measures its
// request figures, departed of them for the reconciliation. Each ratio
// divides by ceil(N/100), N the tickets v2 shows (for the churning scan,
// the tickets it yielded).
func measureRequests(ctx context.Context, tickets int, seed int64, departed int, logf func(string, ...any)) ([]figure, error) {
	w := serve(fakeapi.New(requestWorld(tickets, seed)))
	defer w.hs.Close()
	modes := &attempts{}
	c, err := extract.New(extract.Config{BaseURL: w.hs.URL, Username: username, APIKey: apiKey, MaxRetries: -1, OnAttempt: modes.add})
	if err != nil {
		return nil, err
	}
	shown := 0 // the tickets v2 shows before the churn
	for _, t := range w.srv.AllV2() {
		if fakeapi.VisibleV2(t) {
			shown++
		}
	}
	v1, err := v1FullHistory(ctx, w, c, shown)
	if err != nil {
		return nil, fmt.Errorf("v1 full history: %w", err)
	}
	logf("requests: v1 full history %v", v1.get("requests"))
	quiet, err := scanAll(ctx, w, c, modes, 0, shown)
	if err != nil {
		return nil, fmt.Errorf("v2 backfill --all: %w", err)
	}
	logf("requests: v2 backfill --all %v for %d tickets", quiet.get("requests"), shown)
	churn, err := scanAll(ctx, w, c, modes, churnPerRequest, 0)
	if err != nil {
		return nil, fmt.Errorf("v2 backfill --all under churn: %w", err)
	}
	logf("requests: v2 backfill --all under churn %v for %v tickets", churn.get("requests"), churn.get("tickets"))
	r, err := reconcile(ctx, w, c, departed)
	if err != nil {
		return nil, fmt.Errorf("reconciliation: %w", err)
	}
	return []figure{quiet, churn, v1, r}, nil
}

// attempts counts the client's HTTP attempts of the two v2 scan modes.
type attempts struct{ list, ids atomic.Int64 }

func (a *attempts) add(at extract.Attempt) {
	switch at.Mode {
	case extract.ModeV2List:
		a.list.Add(1)
	case extract.ModeV2IDs:
		a.ids.Add(1)
	}
}

// scanAll runs ScanV2All from the start, with churn simulator events
// before every request (0: a quiet world, whose scan must yield exactly the
// shown tickets). Every ticket must come once.
func scanAll(ctx context.Context, w *world, c *extract.Client, modes *attempts, churn, shown int) (figure, error) {
	if churn > 0 {
		rng := rand.New(rand.NewSource(1)) // the same churn every run
		w.srv.SetHook(func(*http.Request) { w.srv.Churn(rng, churn) })
		defer w.srv.SetHook(nil)
	}
	before := w.srv.Requests()
	list0, ids0 := modes.list.Load(), modes.ids.Load()
	seen := make(map[int64]bool, shown)
	for p, err := range c.ScanV2All(ctx, extract.V2Cursor{}, extract.V2ScanOptions{}) {
		if err != nil {
			return figure{}, err
		}
		for _, id := range p.IDs {
			if seen[id] {
				return figure{}, fmt.Errorf("ticket %d yielded twice", id)
			}
			seen[id] = true
		}
	}
	n := int(w.requestsSince(before)["v2_list"])
	list, ids := int(modes.list.Load()-list0), int(modes.ids.Load()-ids0)
	if list+ids != n {
		return figure{}, fmt.Errorf("the client made %d+%d requests, the simulator counted %d", list, ids, n)
	}
	f := figure{"requests_backfill_all_v2", []any{"tickets", len(seen)}}
	if churn > 0 {
		f = figure{"requests_backfill_all_v2_churn", append(f.kv, "churn_per_request", churn)}
	} else if len(seen) != shown {
		return figure{}, fmt.Errorf("yielded %d tickets of the %d shown", len(seen), shown)
	}
	f.kv = append(f.kv, "requests", n, "list_requests", list, "id_requests", ids,
		"ceil_per_100", fewest(len(seen)), "ratio", ratio(n, len(seen)), "hours_at_1rps", hours(n))
	return f, nil
}

// v1FullHistory asks i= for every id from 1 to the highest id in the
// world, as `backfill --all` does with v1 only, and compares the count with
// v2's for the shown tickets.
func v1FullHistory(ctx context.Context, w *world, c *extract.Client, shown int) (figure, error) {
	highest := 0
	for _, t := range w.srv.AllV2() {
		highest = max(highest, int(t.ID))
	}
	before := w.srv.Requests()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(v1Workers)
	var found atomic.Int64 // answers that were tickets (not 404)
	for id := int64(1); id <= int64(highest) && ctx.Err() == nil; id++ {
		g.Go(func() error {
			_, err := c.Ticket(ctx, id)
			switch {
			case err == nil:
				found.Add(1)
			case !errors.Is(err, extract.ErrNotFound):
				return fmt.Errorf("i=%d: %w", id, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return figure{}, err
	}
	n := int(w.requestsSince(before)["ticket"])
	return figure{"requests_full_history_v1", []any{"highest_id", highest, "requests", n, "tickets_found", int(found.Load()),
		"v2_tickets", shown, "ceil_per_100", fewest(shown), "ratio", ratio(n, shown),
		"hours_at_1rps", hours(n), "counted", "measured"}}, nil
}

// reconcile makes departed tickets of the open list leave it (deleted,
// quarantined, closed, resolved) and looks them all up with each API: one
// i= each (v1), 100 ids a request (v2).
func reconcile(ctx context.Context, w *world, c *extract.Client, departed int) (figure, error) {
	open := w.srv.Open()
	departed = min(departed, len(open))
	if departed == 0 {
		return figure{}, fmt.Errorf("no open tickets")
	}
	ids := make([]int64, departed)
	var deleted, quarantined int
	for i := range ids {
		ids[i] = open[i*len(open)/departed].ID
		switch i % 20 {
		case 0:
			w.srv.Delete(ids[i])
			deleted++
		case 1, 2:
			w.srv.SetState(ids[i], fakeapi.StateQuarantined, "")
			quarantined++
		case 3, 4, 5, 6, 7:
			w.srv.SetState(ids[i], fakeapi.StateClosed, "")
		default:
			w.srv.SetState(ids[i], fakeapi.StateResolved, "")
		}
	}
	before := w.srv.Requests()
	var v1Absent, v2Absent int // i= answers 404; ids absent from v2's answers
	for _, id := range ids {
		if _, err := c.Ticket(ctx, id); errors.Is(err, extract.ErrNotFound) {
			v1Absent++
		} else if err != nil {
			return figure{}, err
		}
	}
	for b, err := range c.LookupV2(ctx, ids) {
		if err != nil {
			return figure{}, err
		}
		v2Absent += len(b.Missing)
	}
	if v1Absent != deleted || v2Absent != deleted+quarantined {
		return figure{}, fmt.Errorf("absent: v1 %d (want %d deleted), v2 %d (want %d deleted or quarantined)",
			v1Absent, deleted, v2Absent, deleted+quarantined)
	}
	n := w.requestsSince(before)
	v1, v2 := int(n["ticket"]), int(n["v2_list"])
	per100 := func(n int) float64 { return float64(n) * 100 / float64(departed) }
	return figure{"requests_reconcile", []any{"departed", departed, "v1_requests", v1, "v2_requests", v2,
		"v1_per_100", per100(v1), "v2_per_100", per100(v2), "ceil_per_100", fewest(departed),
		"ratio_v1", ratio(v1, departed), "ratio_v2", ratio(v2, departed),
		"v1_hours_at_1rps", hours(v1), "v2_hours_at_1rps", hours(v2)}}, nil
}
