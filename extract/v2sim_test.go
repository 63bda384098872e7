package extract

import (
	"context"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// simV2 mounts the simulator under a prefix and returns a client for it.
func simV2(t *testing.T, srv *fakeapi.Server) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ra/", http.StripPrefix("/ra", srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	c, err := New(Config{BaseURL: ts.URL + "/ra", Username: testUser, APIKey: "fake-api-key", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// persistence records, at every request, which tickets v2 shows, so a test
// knows the tickets shown for the whole scan.
type persistence struct {
	mu     sync.Mutex
	always map[int64]bool
	ever   map[int64]bool
}

func (p *persistence) observe(srv *fakeapi.Server, keep func(fakeapi.Ticket) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := map[int64]bool{}
	for _, tk := range srv.AllV2() {
		if fakeapi.VisibleV2(tk) && keep(tk) {
			now[tk.ID] = true
		}
	}
	if p.always == nil {
		p.always, p.ever = now, map[int64]bool{}
	}
	for id := range p.always {
		if !now[id] {
			delete(p.always, id)
		}
	}
	for id := range now {
		p.ever[id] = true
	}
}

// TestV2AllAgainstTheSimulator: a full-history scan of the simulator under
// churn (quarantines, arrivals, leaderboard tickets moving) yields every
// ticket shown for the whole scan, leaderboard ones included, once; on a
// quiet world it equals the world within 1.02 x ceil(N/100) + 3 requests.
func TestV2AllAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	t.Run("quiet", func(t *testing.T) {
		t.Parallel()
		srv := fakeapi.New(fakeapi.Options{Seed: 31, Tickets: 2500})
		c := simV2(t, srv)
		want := map[int64]bool{}
		lb := 0
		for _, tk := range srv.AllV2() {
			if fakeapi.VisibleV2(tk) {
				want[tk.ID] = true
				if tk.LeaderboardID != 0 {
					lb++
				}
			}
		}
		res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{}))
		if res.err != nil {
			t.Fatal(res.err)
		}
		for id, n := range res.counts {
			if !want[id] || n != 1 {
				t.Errorf("ticket %d yielded %d times (shown: %v)", id, n, want[id])
			}
		}
		if len(res.counts) != len(want) || lb == 0 {
			t.Errorf("yielded %d of %d (%d leaderboard)", len(res.counts), len(want), lb)
		}
		pages := int(math.Ceil(float64(len(want)) / 100))
		if got := srv.Requests()["v2_list"]; got > int(1.02*float64(pages))+3 {
			t.Errorf("%d requests for %d tickets (%d pages)", got, len(want), pages)
		}
		t.Logf("%d tickets, %d requests, minimum %d", len(want), srv.Requests()["v2_list"], pages)
	})
	t.Run("churn", func(t *testing.T) {
		t.Parallel()
		srv := fakeapi.New(fakeapi.Options{Seed: 32, Tickets: 1500})
		c := simV2(t, srv)
		var p persistence
		rng := rand.New(rand.NewSource(4))
		srv.SetHook(func(*http.Request) {
			srv.Churn(rng, 40)
			srv.AddLeaderboardTickets(1)
			p.observe(srv, func(fakeapi.Ticket) bool { return true })
		})
		res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{}))
		if res.err != nil {
			t.Fatal(res.err)
		}
		p.observe(srv, func(fakeapi.Ticket) bool { return true })
		for id := range p.always {
			if res.counts[id] != 1 {
				t.Errorf("ticket %d shown throughout, yielded %d times", id, res.counts[id])
			}
		}
		for id, n := range res.counts {
			if n != 1 || !p.ever[id] {
				t.Errorf("ticket %d yielded %d times, ever shown %v", id, n, p.ever[id])
			}
		}
		t.Logf("%d shown throughout, %d yielded, requests %v", len(p.always), len(res.counts), srv.Requests())
	})
}

func TestV2OpenAndGameAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	srv := fakeapi.New(fakeapi.Options{Seed: 33, Tickets: 1500})
	c := simV2(t, srv)
	var p persistence
	rng := rand.New(rand.NewSource(5))
	isOpen := func(tk fakeapi.Ticket) bool {
		return tk.ReportState == fakeapi.StateOpen || tk.ReportState == fakeapi.StateRequest
	}
	srv.SetHook(func(*http.Request) {
		srv.Churn(rng, 30)
		p.observe(srv, isOpen)
	})
	res := runV2Scan(c.ScanV2Open(context.Background(), V2ScanOptions{}))
	if res.err != nil {
		t.Fatal(res.err)
	}
	p.observe(srv, isOpen)
	for id := range p.always {
		if res.counts[id] != 1 {
			t.Errorf("ticket %d open throughout, yielded %d times", id, res.counts[id])
		}
	}
	if len(p.always) < 300 {
		t.Errorf("only %d tickets open throughout", len(p.always))
	}
	t.Logf("%d open throughout, %d yielded, %d requests, %d rereads", len(p.always), len(res.counts), srv.Requests()["v2_list"], c.Stats().Rereads)

	// One game, every state, leaderboard tickets included.
	srv.SetHook(nil)
	counts := map[int64]int{}
	for _, tk := range srv.AllV2() {
		if fakeapi.VisibleV2(tk) {
			counts[tk.GameID]++
		}
	}
	var game int64
	for g, n := range counts {
		if n > counts[game] {
			game = g
		}
	}
	want := map[int64]bool{}
	for _, tk := range srv.AllV2() {
		if tk.GameID == game && fakeapi.VisibleV2(tk) {
			want[tk.ID] = true
		}
	}
	g := runV2Scan(c.ScanV2Game(context.Background(), game, V2ScanOptions{}))
	if g.err != nil || len(g.counts) != len(want) {
		t.Fatalf("game %d: %v, %d of %d", game, g.err, len(g.counts), len(want))
	}
	for id := range g.counts {
		if !want[id] {
			t.Errorf("ticket %d is not of game %d", id, game)
		}
	}
}

// TestLookupV2AgainstTheSimulator: ids of quarantined, deleted and missing
// tickets come back Missing; the others, leaderboard ones included, found.
func TestLookupV2AgainstTheSimulator(t *testing.T) {
	t.Parallel()
	srv := fakeapi.New(fakeapi.Options{Seed: 34, Tickets: 600})
	c := simV2(t, srv)
	all := srv.AllV2()
	srv.Delete(all[3].ID)
	var ids []int64
	wantMissing := 0
	for id := all[0].ID; id <= all[len(all)-1].ID; id++ {
		ids = append(ids, id)
		tk, ok := srv.Get(id)
		if !ok || !fakeapi.VisibleV2(tk) {
			wantMissing++
		}
	}
	found, missing := 0, 0
	for b, err := range c.LookupV2(context.Background(), ids) {
		if err != nil {
			t.Fatal(err)
		}
		found += len(b.IDs)
		missing += len(b.Missing)
	}
	if missing != wantMissing || found+missing != len(ids) {
		t.Errorf("%d found, %d missing of %d; want %d missing", found, missing, len(ids), wantMissing)
	}
	if got, want := srv.Requests()["v2_list"], (len(ids)+99)/100; got != want {
		t.Errorf("%d requests for %d ids, want %d", got, len(ids), want)
	}
}
