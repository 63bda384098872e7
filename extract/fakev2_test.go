package extract

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeV2Item is one ticket of the fake v2 world.
type fakeV2Item struct {
	id     int64
	open   bool
	hidden bool // quarantined or deleted: in no list
}

// fakeV2 serves the v2 collection over an in-memory world sorted by id:
// filter[state] (all, or the default / open,request), filter[id], sort=id
// only, page[size] 1..100, page[number]. hook runs before every request but
// the first and may change the world. It records what a checker needs: the
// scanned view at the first request and every id that left that view
// afterwards.
type fakeV2 struct {
	mu       sync.Mutex
	items    []fakeV2Item // ascending id
	openView bool         // the view the scan under test reads (for check)
	initial  map[int64]bool
	left     map[int64]bool
	ever     map[int64]bool
	started  bool
	requests int
	byID     int // requests with filter[id]
	queries  []string
	hook     func(f *fakeV2, req int)
	noTotal  bool
	t        testing.TB
}

// newFakeV2 makes n tickets with ids from 1000, a gap before about one in
// gapEvery ids (0: none), and the given share open.
func newFakeV2(t testing.TB, n int, r *rand.Rand, gapEvery int, openShare float64) *fakeV2 {
	f := &fakeV2{left: map[int64]bool{}, ever: map[int64]bool{}, t: t}
	id := int64(1000)
	for range n {
		id++
		if gapEvery > 0 && r.IntN(gapEvery) == 0 {
			id += 1 + int64(r.IntN(3))
		}
		open := r == nil || r.Float64() < openShare
		f.items = append(f.items, fakeV2Item{id: id, open: open})
	}
	return f
}

func (f *fakeV2) inView(it fakeV2Item) bool { return !it.hidden && (!f.openView || it.open) }

// set changes item i, recording whether it left the scanned view.
func (f *fakeV2) set(i int, fn func(*fakeV2Item)) {
	if i < 0 || i >= len(f.items) {
		return
	}
	was := f.inView(f.items[i])
	fn(&f.items[i])
	now := f.inView(f.items[i])
	if f.started && was && !now {
		f.left[f.items[i].id] = true
	}
	if now {
		f.ever[f.items[i].id] = true
	}
}

// view returns the positions in f.items of the scanned view.
func (f *fakeV2) view() []int {
	var out []int
	for i, it := range f.items {
		if f.inView(it) {
			out = append(out, i)
		}
	}
	return out
}

// removeViewRange removes view positions [from, to) from the view (hides
// them in the all view, closes them in the open view).
func (f *fakeV2) removeViewRange(from, to int) {
	v := f.view()
	from = min(max(from, 0), len(v))
	to = min(max(to, from), len(v))
	for _, i := range v[from:to] {
		f.set(i, func(it *fakeV2Item) {
			if f.openView {
				it.open = false
			} else {
				it.hidden = true
			}
		})
	}
}

// add appends a new ticket (higher id than any), open.
func (f *fakeV2) add() {
	id := f.items[len(f.items)-1].id + 1
	f.items = append(f.items, fakeV2Item{id: id, open: true})
	f.ever[id] = true
}

// restore brings a random removed item back into the view.
func (f *fakeV2) restore(r *rand.Rand) {
	var out []int
	for i, it := range f.items {
		if !f.inView(it) {
			out = append(out, i)
		}
	}
	if len(out) > 0 {
		f.set(out[r.IntN(len(out))], func(it *fakeV2Item) { it.hidden, it.open = false, true })
	}
}

func (f *fakeV2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	q := r.URL.Query()
	f.queries = append(f.queries, r.URL.RawQuery)
	if r.URL.Path != "/api/v2/tickets" || r.Header.Get("X-API-Key") != testKey || strings.Contains(r.URL.RawQuery, "k3y") {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"status":"401","title":"Unauthenticated"}]}`))
		return
	}
	if f.started && f.hook != nil {
		f.hook(f, f.requests)
	}
	if !f.started {
		f.started = true
		f.initial = map[int64]bool{}
		for _, it := range f.items {
			f.ever[it.id] = true
			if f.inView(it) {
				f.initial[it.id] = true
			}
		}
	}
	size, err1 := strconv.Atoi(q.Get("page[size]"))
	number, err2 := strconv.Atoi(q.Get("page[number]"))
	if err1 != nil || err2 != nil || size < 1 || size > 100 || number < 1 || q.Get("sort") != "id" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"errors":[{"status":"400","title":"Invalid Query Parameter"}]}`))
		return
	}
	all := q.Get("filter[state]") == "all"
	if st := q.Get("filter[state]"); !all && st != "open,request" && st != "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var want map[int64]bool
	if v := q.Get("filter[id]"); v != "" {
		f.byID++
		want = map[int64]bool{}
		for _, s := range strings.Split(v, ",") {
			n, _ := strconv.ParseInt(s, 10, 64)
			want[n] = true
		}
	}
	// Count the matches; keep only the page's.
	lo, total := (number-1)*size, 0
	var page []int64
	for _, it := range f.items {
		if it.hidden || (!all && !it.open) || (want != nil && !want[it.id]) {
			continue
		}
		if total >= lo && total < lo+size {
			page = append(page, it.id)
		}
		total++
	}
	var b bytes.Buffer
	lastPage := max(1, (total+size-1)/size)
	if f.noTotal {
		b.WriteString(`{"meta":{"page":{}},"links":{`)
	} else {
		fmt.Fprintf(&b, `{"meta":{"page":{"currentPage":%d,"lastPage":%d,"perPage":%d,"total":%d}},"links":{`, number, lastPage, size, total)
	}
	b.WriteString(`"first":"https://retroachievements.org/api/v2/tickets?page%5Bnumber%5D=1"`)
	if number < lastPage {
		fmt.Fprintf(&b, `,"next":"https://retroachievements.org/api/v2/tickets?page%%5Bnumber%%5D=%d"`, number+1)
	}
	b.WriteString(`},"data":[`)
	for i, id := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"tickets","id":"%d","attributes":{"state":"open","type":"did_not_trigger"}}`, id)
	}
	b.WriteString(`]}`)
	w.Header().Set("Content-Type", "application/vnd.api+json")
	_, _ = w.Write(b.Bytes())
}

func fakeV2Client(t testing.TB, f *fakeV2) *Client {
	t.Helper()
	c, err := New(Config{
		BaseURL:    "http://fake.invalid",
		Username:   testUser,
		APIKey:     testKey,
		HTTPClient: &http.Client{Transport: handlerTransport{f}},
		MaxRetries: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type v2Result struct {
	counts   map[int64]int
	pages    []*V2Page
	err      error
	afterErr int
}

func runV2Scan(seq func(func(*V2Page, error) bool)) v2Result {
	res := v2Result{counts: map[int64]int{}}
	for p, err := range seq {
		if res.err != nil {
			res.afterErr++
		}
		if err != nil {
			res.err = err
			continue
		}
		res.pages = append(res.pages, p)
		for i, raw := range p.Tickets {
			id, ok := resourceID(raw)
			if !ok || id != p.IDs[i] {
				res.counts[-1]++
			}
			res.counts[id]++
		}
	}
	return res
}

// check asserts the scan guarantees (see fakeList.check) and returns the
// number of tickets in the view for the whole scan.
func (f *fakeV2) check(t *testing.T, res v2Result) int {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if res.afterErr > 0 {
		t.Errorf("%d pages yielded after an error", res.afterErr)
	}
	for id, n := range res.counts {
		if !f.ever[id] {
			t.Errorf("ticket %d yielded but never listed", id)
		}
		if n > 1 {
			t.Errorf("ticket %d yielded %d times", id, n)
		}
	}
	persistent := 0
	for id := range f.initial {
		if f.left[id] {
			continue
		}
		persistent++
		if res.err == nil && res.counts[id] == 0 {
			t.Errorf("ticket %d listed for the whole scan but not yielded", id)
		}
	}
	return persistent
}
