package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"sync"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
)

// The "requests" group: how many requests each way to the full history,
// and to reconcile tickets that left the open list, costs, against the
// fewest that can do the job (ceil(N/100): pages or id batches of 100).
// Measured in this process with the extract client (no rate limit, no
// retries) against the simulator, counted on the simulator's side; no
// database and no binary, so it does not depend on the CLI. The world is
// the simulator's default mix of states (some quarantined, hidden from v2),
// with its leaderboard tickets (only v2 sees them).
//
//   - v2 `backfill --all`: extract.ScanV2All over the quiet world, then
//     again while the world churns (churnPerRequest simulator events, new,
//     resolved, closed, quarantined and reopened tickets, before every
//     request).
//   - v1 full history: one i= per id from 1 to the highest id, every one of
//     them run (the count is measured, not computed).
//   - reconciliation: the same departed tickets (resolved, closed,
//     quarantined, deleted) looked up one i= each (v1) and with
//     extract.LookupV2, 100 ids a request (v2).

const (
	// churnPerRequest is how many fakeapi.Churn events happen before each
	// request of the churning scan.
	churnPerRequest = 10
	// v1Workers run the v1 full history's lookups (the count does not
	// depend on them).
	v1Workers = 4
)

// requestFigures are the request counts of one world.
type requestFigures struct {
	quiet, churn v2Scan
	v1           v1History
	reconcile    reconcileCount
}

// v2Scan is one ScanV2All.
type v2Scan struct {
	tickets int // N: shown by v2 (quiet: all of them, checked), or yielded (churn)
	// requests is the simulator's count; list and ids split it by the
	// client's request modes (pages of the list, batches of gap ids).
	requests, list, ids int
	churn               int // simulator events per request
}

// v1History is the v1 way to the full history: i= for every id.
type v1History struct {
	highestID, requests int
	found               int // answers that were tickets (not 404)
}

// reconcileCount is one reconciliation of the same departed tickets by
// each API.
type reconcileCount struct {
	departed             int
	v1Requests, v1Absent int // i= answers 404 (deleted)
	v2Requests, v2Absent int // ids absent from the answers (deleted, quarantined)
}

// fewest is the minimum number of requests for n tickets: ceil(n/100).
func fewest(n int) int { return (n + extract.MaxIDsPerRequest - 1) / extract.MaxIDsPerRequest }

// requestWorld is the simulator's default mix of states.
func requestWorld(tickets int, seed int64) fakeapi.Options {
	return fakeapi.Options{Seed: seed, Tickets: tickets, APIKey: apiKey, Username: username}
}

// measureRequests builds a world of tickets tickets and measures its
// request figures, departed of them for the reconciliation.
func measureRequests(ctx context.Context, tickets int, seed int64, departed int, logf func(string, ...any)) (*requestFigures, error) {
	w, err := serve(fakeapi.New(requestWorld(tickets, seed)))
	if err != nil {
		return nil, err
	}
	defer w.close()
	modes := &attempts{n: map[string]int{}}
	c, err := extract.New(extract.Config{BaseURL: w.url, Username: username, APIKey: apiKey, MaxRetries: -1, OnAttempt: modes.add})
	if err != nil {
		return nil, err
	}
	var f requestFigures
	if f.v1, err = v1FullHistory(ctx, w, c); err != nil {
		return nil, fmt.Errorf("v1 full history: %w", err)
	}
	logf("requests: v1 full history %d", f.v1.requests)
	if f.quiet, err = scanAll(ctx, w, c, modes, 0); err != nil {
		return nil, fmt.Errorf("v2 backfill --all: %w", err)
	}
	logf("requests: v2 backfill --all %d for %d tickets", f.quiet.requests, f.quiet.tickets)
	if f.churn, err = scanAll(ctx, w, c, modes, churnPerRequest); err != nil {
		return nil, fmt.Errorf("v2 backfill --all under churn: %w", err)
	}
	logf("requests: v2 backfill --all under churn %d for %d tickets", f.churn.requests, f.churn.tickets)
	if f.reconcile, err = reconcile(ctx, w, c, departed); err != nil {
		return nil, fmt.Errorf("reconciliation: %w", err)
	}
	return &f, nil
}

// attempts counts the client's HTTP attempts by mode.
type attempts struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *attempts) add(at extract.Attempt) {
	a.mu.Lock()
	a.n[at.Mode]++
	a.mu.Unlock()
}

func (a *attempts) get(mode string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[mode]
}

// shownV2 is the set of tickets v2 shows now.
func shownV2(srv *fakeapi.Server) map[int64]bool {
	out := map[int64]bool{}
	for _, t := range srv.AllV2() {
		if fakeapi.VisibleV2(t) {
			out[t.ID] = true
		}
	}
	return out
}

// scanAll runs ScanV2All from the start, with churn simulator events
// before every request (0: a quiet world, whose scan must yield exactly the
// tickets shown). Every ticket must come once.
func scanAll(ctx context.Context, w *world, c *extract.Client, modes *attempts, churn int) (v2Scan, error) {
	shown := shownV2(w.srv)
	if churn > 0 {
		rng := rand.New(rand.NewSource(1)) // the same churn every run
		w.srv.SetHook(func(*http.Request) { w.srv.Churn(rng, churn) })
		defer w.srv.SetHook(nil)
	}
	before := w.srv.Requests()
	list0, ids0 := modes.get(extract.ModeV2List), modes.get(extract.ModeV2IDs)
	seen := make(map[int64]bool, len(shown))
	for p, err := range c.ScanV2All(ctx, extract.V2Cursor{}, extract.V2ScanOptions{}) {
		if err != nil {
			return v2Scan{}, err
		}
		for _, id := range p.IDs {
			if seen[id] {
				return v2Scan{}, fmt.Errorf("ticket %d yielded twice", id)
			}
			seen[id] = true
		}
	}
	s := v2Scan{tickets: len(seen), requests: int(w.requestsSince(before)["v2_list"]),
		list: modes.get(extract.ModeV2List) - list0, ids: modes.get(extract.ModeV2IDs) - ids0, churn: churn}
	if s.list+s.ids != s.requests {
		return s, fmt.Errorf("the client made %d+%d requests, the simulator counted %d", s.list, s.ids, s.requests)
	}
	if churn == 0 && len(seen) != len(shown) {
		return s, fmt.Errorf("yielded %d tickets of the %d shown", len(seen), len(shown))
	}
	return s, nil
}

// v1FullHistory asks i= for every id from 1 to the highest id in the
// world, as `backfill --all` does with v1 only.
func v1FullHistory(ctx context.Context, w *world, c *extract.Client) (v1History, error) {
	var h v1History
	for _, t := range w.srv.AllV2() {
		h.highestID = max(h.highestID, int(t.ID))
	}
	before := w.srv.Requests()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range v1Workers {
		wg.Go(func() {
			for id := range next {
				_, err := c.Ticket(ctx, id)
				switch {
				case err == nil:
					mu.Lock()
					h.found++
					mu.Unlock()
				case !errors.Is(err, extract.ErrNotFound):
					cancel(fmt.Errorf("i=%d: %w", id, err))
				}
			}
		})
	}
feed:
	for id := int64(1); id <= int64(h.highestID); id++ {
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return h, err
	}
	h.requests = int(w.requestsSince(before)["ticket"])
	return h, nil
}

// reconcile makes departed tickets of the open list leave it (deleted,
// quarantined, closed, resolved) and looks them all up with each API.
func reconcile(ctx context.Context, w *world, c *extract.Client, departed int) (reconcileCount, error) {
	open := w.srv.Open()
	r := reconcileCount{departed: min(departed, len(open))}
	if r.departed == 0 {
		return r, fmt.Errorf("no open tickets")
	}
	ids := make([]int64, r.departed)
	var deleted, quarantined int
	for i := range ids {
		ids[i] = open[i*len(open)/r.departed].ID
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
	for _, id := range ids {
		if _, err := c.Ticket(ctx, id); errors.Is(err, extract.ErrNotFound) {
			r.v1Absent++
		} else if err != nil {
			return r, err
		}
	}
	for b, err := range c.LookupV2(ctx, ids) {
		if err != nil {
			return r, err
		}
		r.v2Absent += len(b.Missing)
	}
	n := w.requestsSince(before)
	r.v1Requests, r.v2Requests = int(n["ticket"]), int(n["v2_list"])
	if r.v1Absent != deleted || r.v2Absent != deleted+quarantined {
		return r, fmt.Errorf("absent: v1 %d (want %d deleted), v2 %d (want %d deleted or quarantined)",
			r.v1Absent, deleted, r.v2Absent, deleted+quarantined)
	}
	return r, nil
}

// hours is how long n requests take at one request a second.
func hours(n int) float64 { return float64(n) / 3600 }

// print writes the request figures' BENCH lines. Each ratio
// divides by ceil(N/100), N the tickets v2 shows (for the churning scan,
// the tickets it yielded).
func (f *requestFigures) print(w io.Writer) {
	for _, s := range []struct {
		name string
		scan v2Scan
	}{{"requests_backfill_all_v2", f.quiet}, {"requests_backfill_all_v2_churn", f.churn}} {
		kv := []any{"tickets", s.scan.tickets}
		if s.scan.churn > 0 {
			kv = append(kv, "churn_per_request", s.scan.churn)
		}
		least := fewest(s.scan.tickets)
		line(w, s.name, append(kv, "requests", s.scan.requests, "list_requests", s.scan.list, "id_requests", s.scan.ids,
			"ceil_per_100", least, "ratio", float64(s.scan.requests)/float64(least), "hours_at_1rps", hours(s.scan.requests))...)
	}
	least := fewest(f.quiet.tickets)
	line(w, "requests_full_history_v1", "highest_id", f.v1.highestID, "requests", f.v1.requests, "tickets_found", f.v1.found,
		"v2_tickets", f.quiet.tickets, "ceil_per_100", least, "ratio", float64(f.v1.requests)/float64(least),
		"hours_at_1rps", hours(f.v1.requests), "counted", "measured")
	r := f.reconcile
	per100 := func(n int) float64 { return float64(n) * 100 / float64(r.departed) }
	line(w, "requests_reconcile", "departed", r.departed, "v1_requests", r.v1Requests, "v2_requests", r.v2Requests,
		"v1_per_100", per100(r.v1Requests), "v2_per_100", per100(r.v2Requests), "ceil_per_100", fewest(r.departed),
		"ratio_v1", float64(r.v1Requests)/float64(fewest(r.departed)), "ratio_v2", float64(r.v2Requests)/float64(fewest(r.departed)),
		"v1_hours_at_1rps", hours(r.v1Requests), "v2_hours_at_1rps", hours(r.v2Requests))
}
