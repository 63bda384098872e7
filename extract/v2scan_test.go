package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"testing"
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// gapIDs counts the ids missing from the id sequence right after the last
// item of each full page of 100 (what ScanV2All fetches on a quiet list).
func gapIDs(f *fakeV2, size int) int {
	n := 0
	for i := size; i < len(f.items); i += size {
		n += int(f.items[i].id - f.items[i-1].id - 1)
	}
	return n
}

func TestV2AllQuietRequestCount(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 99, 100, 101, 200, 1000, 2345} {
		for _, gapEvery := range []int{0, 10} {
			t.Run(fmt.Sprintf("n=%d/gaps=%d", n, gapEvery), func(t *testing.T) {
				t.Parallel()
				f := newFakeV2(t, n, rand.New(rand.NewPCG(uint64(n), 1)), gapEvery, 0.5)
				c := fakeV2Client(t, f)
				res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{}))
				if res.err != nil {
					t.Fatal(res.err)
				}
				if got := f.check(t, res); got != n || len(res.counts) != n {
					t.Errorf("yielded %d of %d", len(res.counts), n)
				}
				pages := max(1, ceilDiv(n, 100))
				want := pages + ceilDiv(gapIDs(f, 100), 100)
				if n > 0 && n%100 == 0 {
					want += 2 // the empty page after a full last one, then a tail probe
				}
				if f.requests != want {
					t.Errorf("%d requests, want %d (%d gap ids)", f.requests, want, gapIDs(f, 100))
				}
				// The requirement: ~1.02 x ceil(N/100) plus a few.
				if bound := int(math.Floor(1.02*float64(pages))) + 3; f.requests > bound {
					t.Errorf("%d requests for %d tickets, over 1.02 x %d + 3", f.requests, n, pages)
				}
			})
		}
	}
}

func TestV2AllAdversarial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		n       int
		hook    func(f *fakeV2, req int)
		opts    V2ScanOptions
		noTotal bool
	}{
		{name: "shrinks below the position, no meta.page.total", n: 900, noTotal: true, hook: func(f *fakeV2, req int) {
			if req == 4 {
				f.removeViewRange(0, 700) // page 4 then lies past the end
			}
		}},
		{name: "removals right before the position", n: 1500, hook: func(f *fakeV2, req int) {
			if req < 12 {
				f.removeViewRange((req-1)*100-30, (req-1)*100)
			}
		}},
		{name: "removals of a whole page before the position", n: 1500, hook: func(f *fakeV2, req int) {
			if req < 8 {
				f.removeViewRange((req-1)*100-150, (req-1)*100)
			}
		}},
		{name: "arrivals every request", n: 800, hook: func(f *fakeV2, req int) {
			if req < 30 {
				for range 7 {
					f.add()
				}
			}
		}},
		{name: "removals and arrivals at once", n: 1200, hook: func(f *fakeV2, req int) {
			if req < 20 {
				f.removeViewRange((req-1)*100-20, (req-1)*100-5)
				f.add()
				f.add()
			}
		}},
		{name: "list shrinks below the position", n: 600, hook: func(f *fakeV2, req int) {
			if req == 4 {
				f.removeViewRange(0, 450)
			}
		}},
		{name: "list shrinks to a multiple of the page size", n: 700, hook: func(f *fakeV2, req int) {
			if req == 6 {
				f.removeViewRange(100, 300)
			}
		}},
		{name: "items come back before the position", n: 900, hook: func(f *fakeV2, req int) {
			switch {
			case req == 2:
				f.removeViewRange(0, 300)
			case req < 8:
				r := rand.New(rand.NewPCG(uint64(req), 5))
				for range 40 {
					f.restore(r)
				}
			}
		}},
		{name: "small pages and batches", n: 300, opts: V2ScanOptions{PageSize: 7, IDBatch: 3}, hook: func(f *fakeV2, req int) {
			if req < 30 {
				f.removeViewRange((req-1)*7-3, (req-1)*7)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeV2(t, tt.n, rand.New(rand.NewPCG(1, 2)), 10, 0.5)
			f.hook, f.noTotal = tt.hook, tt.noTotal
			c := fakeV2Client(t, f)
			res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, tt.opts))
			if res.err != nil {
				t.Fatal(res.err)
			}
			want := f.check(t, res)
			if want == 0 {
				t.Fatal("test lost all its persistent tickets")
			}
			t.Logf("%d persistent, %d yielded, %d requests (%d by id)", want, len(res.counts), f.requests, f.byID)
		})
	}
}

// TestV2AllIDGapFetchIsNeeded: without the gap fetch, removals before the
// position lose tickets; the scan asks for exactly the slid-past ids.
func TestV2AllIDGapFetchIsNeeded(t *testing.T) {
	t.Parallel()
	f := newFakeV2(t, 500, nil, 0, 1)
	f.hook = func(f *fakeV2, req int) {
		if req == 2 {
			f.removeViewRange(50, 60) // page 2 then starts 10 tickets late
		}
	}
	c := fakeV2Client(t, f)
	res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{}))
	if res.err != nil {
		t.Fatal(res.err)
	}
	f.check(t, res)
	var gapPage *V2Page
	for _, p := range res.pages {
		if p.Number == 0 {
			gapPage = p
		}
	}
	if f.byID != 1 || gapPage == nil || len(gapPage.IDs) != 10 || gapPage.IDs[0] != 1101 || gapPage.IDs[9] != 1110 {
		t.Fatalf("%d by-id requests, gap page %+v", f.byID, gapPage)
	}
}

func TestV2AllResume(t *testing.T) {
	t.Parallel()
	for seed := uint64(0); seed < 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(seed, 7))
			f := newFakeV2(t, 300+r.IntN(900), r, 8, 0.5)
			f.hook = func(f *fakeV2, req int) {
				if r.IntN(3) == 0 {
					p := r.IntN(max(1, len(f.items)))
					f.removeViewRange(p, p+r.IntN(30))
				}
				if r.IntN(3) == 0 {
					f.add()
				}
			}
			c := fakeV2Client(t, f)
			stopAfter := 1 + r.IntN(8)
			var cur V2Cursor
			first := runV2Scan(func(yield func(*V2Page, error) bool) {
				k := 0
				for p, err := range c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{IDBatch: 20}) {
					if err == nil {
						cur = p.Cursor
					}
					if !yield(p, err) {
						return
					}
					if k++; k == stopAfter {
						return // the crash
					}
				}
			})
			if first.err != nil {
				t.Fatal(first.err)
			}
			// While stopped: more removals and arrivals.
			f.mu.Lock()
			f.removeViewRange(r.IntN(200), r.IntN(200)+r.IntN(300))
			f.add()
			f.mu.Unlock()
			second := runV2Scan(c.ScanV2All(context.Background(), cur, V2ScanOptions{IDBatch: 20}))
			if second.err != nil {
				t.Fatal(second.err)
			}
			for id, n := range first.counts {
				second.counts[id] += n
			}
			second.pages = append(first.pages, second.pages...)
			f.check(t, second)
		})
	}
}

// TestV2AllProperties: random churn (removals anywhere and around the
// scan's position, arrivals, returns); whatever happens no ticket is
// yielded twice or without being listed, and a complete scan yields every
// ticket listed for the whole scan.
func TestV2AllProperties(t *testing.T) {
	t.Parallel()
	const seeds = 300
	var complete atomic.Int64
	t.Run("seeds", func(t *testing.T) {
		for seed := uint64(0); seed < seeds; seed++ {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				r := rand.New(rand.NewPCG(seed, 99))
				pageSize := []int{4, 5, 10, 25, 100}[r.IntN(5)]
				f := newFakeV2(t, r.IntN(20*pageSize), r, []int{0, 3, 10}[r.IntN(3)], 0.5)
				pRemove, pAdd, pNear, pBack := r.Float64(), r.Float64()*0.6, r.Float64()*0.6, r.Float64()*0.3
				f.hook = func(f *fakeV2, req int) {
					pos := 0
					if q := f.queries[len(f.queries)-1]; q != "" {
						var n, s int
						fmt.Sscanf(valueOf(q, "page%5Bnumber%5D"), "%d", &n)
						fmt.Sscanf(valueOf(q, "page%5Bsize%5D"), "%d", &s)
						pos = (n - 1) * s
					}
					if r.Float64() < pRemove {
						for range r.IntN(4) {
							p := r.IntN(max(1, len(f.items)))
							f.removeViewRange(p, p+1)
						}
					}
					if r.Float64() < pAdd {
						for range r.IntN(3) {
							f.add()
						}
					}
					if r.Float64() < pNear {
						k := r.IntN(pageSize + 3)
						f.removeViewRange(pos-k, pos)
					}
					if r.Float64() < pBack {
						f.restore(r)
					}
				}
				c := fakeV2Client(t, f)
				res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{PageSize: pageSize, IDBatch: []int{3, 10, 100}[r.IntN(3)], MaxPages: 5000}))
				if res.err != nil && !errors.Is(res.err, ErrScanIncomplete) {
					t.Fatalf("unexpected error: %v", res.err)
				}
				f.check(t, res)
				if res.err == nil {
					complete.Add(1)
				}
			})
		}
	})
	if got := complete.Load(); got < seeds*9/10 {
		t.Errorf("only %d of %d random scans completed", got, seeds)
	}
}

// valueOf reads one raw query value (the fake's recorded RawQuery).
func valueOf(rawQuery, key string) string {
	for _, kv := range splitAmp(rawQuery) {
		if len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '=' {
			return kv[len(key)+1:]
		}
	}
	return ""
}

func splitAmp(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '&' {
			i++
		}
		out = append(out, s[:i])
		if i == len(s) {
			break
		}
		s = s[i+1:]
	}
	return out
}

func TestV2WindowQuietRequestCount(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 99, 100, 101, 196, 1000, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			f := newFakeV2(t, n, nil, 0, 1)
			f.openView = true
			c := fakeV2Client(t, f)
			res := runV2Scan(c.ScanV2Open(context.Background(), V2ScanOptions{}))
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got := f.check(t, res); got != n || len(res.counts) != n {
				t.Errorf("yielded %d of %d", len(res.counts), n)
			}
			pages := max(1, ceilDiv(n, 100))
			if bound := int(math.Ceil(1.2*float64(pages))) + 1; f.requests > bound || c.Stats().Rereads != 0 {
				t.Errorf("%d requests (%d rereads) for %d open tickets, over 1.2 x %d + 1", f.requests, c.Stats().Rereads, n, pages)
			}
			t.Logf("%d tickets: %d requests", n, f.requests)
		})
	}
}

func TestV2WindowAdversarial(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		n           int
		hook        func(f *fakeV2, req int)
		wantRereads bool
	}{
		{name: "one removal before the window", n: 1000, hook: func(f *fakeV2, req int) {
			if req < 10 {
				f.removeViewRange(0, 1)
			}
		}},
		{name: "many removals before the window", n: 1000, wantRereads: true, hook: func(f *fakeV2, req int) {
			if req < 10 {
				f.removeViewRange(0, 25)
			}
		}},
		{name: "arrivals at the end", n: 600, hook: func(f *fakeV2, req int) {
			if req < 40 {
				for range 5 {
					f.add()
				}
			}
		}},
		{name: "shrinks to nothing", n: 500, wantRereads: true, hook: func(f *fakeV2, req int) {
			f.removeViewRange(0, 60)
		}},
		{name: "returns before the window", n: 700, hook: func(f *fakeV2, req int) {
			if req == 2 {
				f.removeViewRange(0, 100)
			}
			if req > 2 && req < 6 {
				r := rand.New(rand.NewPCG(uint64(req), 3))
				for range 30 {
					f.restore(r)
				}
			}
		}, wantRereads: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeV2(t, tt.n, nil, 0, 1)
			f.openView, f.hook = true, tt.hook
			c := fakeV2Client(t, f)
			res := runV2Scan(c.ScanV2Open(context.Background(), V2ScanOptions{}))
			if res.err != nil {
				t.Fatal(res.err)
			}
			want := f.check(t, res)
			if want == 0 && tt.name != "shrinks to nothing" {
				t.Fatal("test lost all its persistent tickets")
			}
			if got := c.Stats().Rereads > 0; got != tt.wantRereads {
				t.Errorf("rereads %d, want some: %v", c.Stats().Rereads, tt.wantRereads)
			}
			t.Logf("%d persistent, %d yielded, %d requests, %d rereads", want, len(res.counts), f.requests, c.Stats().Rereads)
		})
	}
}

func TestV2WindowProperties(t *testing.T) {
	t.Parallel()
	const seeds = 300
	var complete atomic.Int64
	t.Run("seeds", func(t *testing.T) {
		for seed := uint64(0); seed < seeds; seed++ {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				r := rand.New(rand.NewPCG(seed, 42))
				pageSize := []int{8, 10, 25, 100}[r.IntN(4)]
				overlap := 1 + r.IntN(pageSize/4)
				f := newFakeV2(t, r.IntN(20*pageSize), r, 0, 0.6)
				f.openView = true
				pRemove, pAdd, pNear, pBack := r.Float64(), r.Float64()*0.6, r.Float64()*0.5, r.Float64()*0.3
				f.hook = func(f *fakeV2, req int) {
					if r.Float64() < pRemove {
						for range r.IntN(4) {
							p := r.IntN(max(1, len(f.view())))
							f.removeViewRange(p, p+1)
						}
					}
					if r.Float64() < pAdd {
						for range r.IntN(3) {
							f.add()
						}
					}
					if r.Float64() < pNear {
						q := f.queries[len(f.queries)-1]
						var n, s int
						fmt.Sscanf(valueOf(q, "page%5Bnumber%5D"), "%d", &n)
						fmt.Sscanf(valueOf(q, "page%5Bsize%5D"), "%d", &s)
						k := r.IntN(overlap + 3)
						if r.IntN(2) == 0 {
							f.removeViewRange((n-1)*s-k, (n-1)*s)
						} else {
							f.removeViewRange((n-1)*s, (n-1)*s+k)
						}
					}
					if r.Float64() < pBack {
						f.restore(r)
					}
				}
				c := fakeV2Client(t, f)
				res := runV2Scan(c.ScanV2Open(context.Background(), V2ScanOptions{PageSize: pageSize, MinOverlap: overlap, MaxPages: 5000}))
				if res.err != nil && !errors.Is(res.err, ErrScanIncomplete) {
					t.Fatalf("unexpected error: %v", res.err)
				}
				f.check(t, res)
				if res.err == nil {
					complete.Add(1)
				}
			})
		}
	})
	if got := complete.Load(); got < seeds*9/10 {
		t.Errorf("only %d of %d random scans completed", got, seeds)
	}
}

func TestV2ScanOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []V2ScanOptions{{PageSize: 3}, {MinOverlap: 26}, {MinOverlap: -1}, {MaxPages: -1}, {IDBatch: -2}} {
		f := newFakeV2(t, 10, nil, 0, 1)
		c := fakeV2Client(t, f)
		for _, seq := range []func(func(*V2Page, error) bool){c.ScanV2All(context.Background(), V2Cursor{}, o), c.ScanV2Open(context.Background(), o)} {
			if res := runV2Scan(seq); res.err == nil || f.requests != 0 {
				t.Errorf("%+v: err %v after %d requests; want an error before any", o, res.err, f.requests)
			}
		}
	}
	f := newFakeV2(t, 1000, nil, 0, 1)
	c := fakeV2Client(t, f)
	res := runV2Scan(c.ScanV2All(context.Background(), V2Cursor{}, V2ScanOptions{MaxPages: 3}))
	if !errors.Is(res.err, ErrScanIncomplete) || f.requests != 3 || len(res.counts) != 300 {
		t.Errorf("page limit: err %v, %d requests, %d yielded", res.err, f.requests, len(res.counts))
	}
}

// TestV2CursorIsACheckpoint: the cursor survives a JSON round trip (the
// checkpoint table stores it as jsonb) and its zero value starts a scan.
func TestV2CursorIsACheckpoint(t *testing.T) {
	t.Parallel()
	in := V2Cursor{Next: 12, LastID: 4711, Gaps: []IDRange{{From: 5, To: 9}, {From: 4000, To: 4000}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out V2Cursor
	if err := json.Unmarshal(b, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip %s: %+v, %v", b, out, err)
	}
	if z, _ := json.Marshal(V2Cursor{}); string(z) != `{"next":0,"last_id":0}` {
		t.Errorf("zero cursor %s", z)
	}
}
