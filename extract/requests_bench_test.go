package extract_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
)

// BenchmarkRequests gives the request figures of BENCHMARKS.md: what each
// way to the full history, and to reconcile tickets that left the open
// list, costs in requests, against the fewest that can do the job,
// ceil(N/100) (x-minimum: pages or id batches of 100, N the tickets v2
// shows), and in hours at the site's one request a second. The client
// (no rate limit, no retries) runs against the simulator's default mix of
// states, a world of RATICKETS_BENCH_TICKETS tickets (default 200,000);
// requests are counted on the simulator's side. The figures are counts:
// one iteration (-benchtime 1x) gives them; ns/op means nothing here.
//
//	v2_backfill_all        ScanV2All from the start, what v2 backfill --all
//	                       does; it must yield the tickets shown, once each
//	v2_backfill_all_churn  the same while the world churns: 10 simulator
//	                       events before every request
//	v1_full_history        one i= per id from 1 to the highest, every one
//	                       run and counted
//	reconcile              1,000 tickets of the open list made to leave it
//	                       (5 % deleted, 10 % quarantined, 25 % closed, 60 %
//	                       resolved), looked up one i= each (v1) and 100 ids
//	                       a request (v2)
func BenchmarkRequests(b *testing.B) {
	n := 200_000
	if s := os.Getenv("RATICKETS_BENCH_TICKETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("v2_backfill_all", func(b *testing.B) { scanAll(b, newSim(b, n), 0) })
	b.Run("v2_backfill_all_churn", func(b *testing.B) { scanAll(b, newSim(b, n), 10) })
	b.Run("v1_full_history", func(b *testing.B) { v1FullHistory(b, newSim(b, n)) })
	b.Run("reconcile", func(b *testing.B) { reconcile(b, n, 1000) })
}

// sim is the simulator over HTTP and a client counting its v2 attempts.
type sim struct {
	srv       *fakeapi.Server
	c         *extract.Client
	list, ids atomic.Int64
}

func newSim(b *testing.B, tickets int) *sim {
	b.Helper()
	s := &sim{srv: fakeapi.New(fakeapi.Options{Seed: 1, Tickets: tickets, APIKey: "bench-key"})}
	hs := httptest.NewServer(s.srv)
	b.Cleanup(hs.Close)
	count := func(a extract.Attempt) {
		switch a.Mode {
		case extract.ModeV2List:
			s.list.Add(1)
		case extract.ModeV2IDs:
			s.ids.Add(1)
		}
	}
	var err error
	s.c, err = extract.New(extract.Config{BaseURL: hs.URL, Username: "bench", APIKey: "bench-key", MaxRetries: -1, OnAttempt: count})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// since is the requests of mode the simulator answered since before.
func (s *sim) since(before map[string]int, mode string) int {
	return s.srv.Requests()[mode] - before[mode]
}

// shown is how many tickets v2 shows; highest the highest id of any.
func (s *sim) shown() (shown int, highest int64) {
	for _, t := range s.srv.AllV2() {
		highest = max(highest, t.ID)
		if fakeapi.VisibleV2(t) {
			shown++
		}
	}
	return shown, highest
}

// fewest is the fewest requests for n tickets, ceil(n/100).
func fewest(n int) float64 { return math.Ceil(float64(n) / extract.MaxIDsPerRequest) }

func reportRequests(b *testing.B, requests int, minimum float64) {
	perOp := float64(requests) / float64(b.N)
	b.ReportMetric(perOp, "requests")
	b.ReportMetric(perOp/minimum, "x-minimum")
	b.ReportMetric(perOp/3600, "hours-at-1rps")
}

// scanAll scans the whole history with churn simulator events before
// every request (0: a quiet world, whose scan must yield exactly the tickets
// shown). Every ticket must come once.
func scanAll(b *testing.B, s *sim, churn int) {
	shown, _ := s.shown()
	if churn > 0 {
		rng := rand.New(rand.NewSource(1)) // the same churn every run
		s.srv.SetHook(func(*http.Request) { s.srv.Churn(rng, churn) })
	}
	var requests, list, ids, yielded int
	var minimum float64
	for b.Loop() {
		before, list0, ids0 := s.srv.Requests(), s.list.Load(), s.ids.Load()
		seen := map[int64]bool{}
		for p, err := range s.c.ScanV2All(context.Background(), extract.V2Cursor{}, extract.V2ScanOptions{}) {
			if err != nil {
				b.Fatal(err)
			}
			for _, id := range p.IDs {
				if seen[id] {
					b.Fatalf("ticket %d yielded twice", id)
				}
				seen[id] = true
			}
		}
		n, l, i := s.since(before, "v2_list"), int(s.list.Load()-list0), int(s.ids.Load()-ids0)
		if l+i != n {
			b.Fatalf("the client made %d+%d requests, the simulator counted %d", l, i, n)
		}
		if churn == 0 && len(seen) != shown {
			b.Fatalf("yielded %d tickets of the %d shown", len(seen), shown)
		}
		requests, list, ids, yielded = requests+n, list+l, ids+i, yielded+len(seen)
		minimum += fewest(len(seen))
	}
	reportRequests(b, requests, minimum/float64(b.N))
	b.ReportMetric(float64(list)/float64(b.N), "list-requests")
	b.ReportMetric(float64(ids)/float64(b.N), "id-requests")
	b.ReportMetric(float64(yielded)/float64(b.N), "tickets")
}

// v1FullHistory asks i= for every id from 1 to the highest, as backfill
// --all does with v1 only; the minimum is v2's, for the tickets it shows.
func v1FullHistory(b *testing.B, s *sim) {
	shown, highest := s.shown()
	var requests, found int
	for b.Loop() {
		before := s.srv.Requests()
		var hits atomic.Int64 // answers that were tickets (not 404)
		g, ctx := errgroup.WithContext(context.Background())
		g.SetLimit(4) // for speed: the count does not depend on it
		for id := int64(1); id <= highest && ctx.Err() == nil; id++ {
			g.Go(func() error {
				_, err := s.c.Ticket(ctx, id)
				switch {
				case err == nil:
					hits.Add(1)
				case !errors.Is(err, extract.ErrNotFound):
					return fmt.Errorf("i=%d: %w", id, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		if n := s.since(before, "ticket"); n != int(highest) {
			b.Fatalf("%d requests for the ids 1..%d", n, highest)
		}
		requests, found = requests+int(highest), found+int(hits.Load())
	}
	reportRequests(b, requests, fewest(shown))
	b.ReportMetric(float64(found)/float64(b.N), "tickets-found")
}

// reconcile makes departed tickets of the open list of a fresh world leave
// it and looks them all up with each API.
func reconcile(b *testing.B, tickets, departed int) {
	var v1, v2, total int
	var v1Min, v2Min float64
	for b.Loop() {
		b.StopTimer()
		s := newSim(b, tickets)
		open := s.srv.Open()
		k := min(departed, len(open))
		if k == 0 {
			b.Fatal("no open tickets")
		}
		ids := make([]int64, k)
		var deleted, quarantined int
		for i := range ids {
			ids[i] = open[i*len(open)/k].ID
			switch i % 20 {
			case 0:
				s.srv.Delete(ids[i])
				deleted++
			case 1, 2:
				s.srv.SetState(ids[i], fakeapi.StateQuarantined, "")
				quarantined++
			case 3, 4, 5, 6, 7:
				s.srv.SetState(ids[i], fakeapi.StateClosed, "")
			default:
				s.srv.SetState(ids[i], fakeapi.StateResolved, "")
			}
		}
		before := s.srv.Requests()
		b.StartTimer()
		var v1Absent, v2Absent int // i= answers 404; ids absent from v2's answers
		for _, id := range ids {
			if _, err := s.c.Ticket(context.Background(), id); errors.Is(err, extract.ErrNotFound) {
				v1Absent++
			} else if err != nil {
				b.Fatal(err)
			}
		}
		for batch, err := range s.c.LookupV2(context.Background(), ids) {
			if err != nil {
				b.Fatal(err)
			}
			v2Absent += len(batch.Missing)
		}
		if v1Absent != deleted || v2Absent != deleted+quarantined {
			b.Fatalf("absent: v1 %d (want %d deleted), v2 %d (want %d deleted or quarantined)",
				v1Absent, deleted, v2Absent, deleted+quarantined)
		}
		n1, n2 := s.since(before, "ticket"), s.since(before, "v2_list")
		v1, v2, total = v1+n1, v2+n2, total+k
		v1Min, v2Min = v1Min+float64(n1)/fewest(k), v2Min+float64(n2)/fewest(k)
	}
	b.ReportMetric(float64(v1)*100/float64(total), "v1-requests/100-departed")
	b.ReportMetric(float64(v2)*100/float64(total), "v2-requests/100-departed")
	b.ReportMetric(v1Min/float64(b.N), "v1-x-minimum")
	b.ReportMetric(v2Min/float64(b.N), "v2-x-minimum")
}
