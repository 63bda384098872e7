package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeTicket is one item of the fake open list.
type fakeTicket struct {
	id      int64
	at      string // ReportedAt
	strID   bool   // sent as "ID":"123" like older servers
	keyless bool   // sent without ReportedAt
}

// before reports whether a sorts above b: (ReportedAt desc, ID desc).
func (a fakeTicket) before(b fakeTicket) bool {
	if a.at != b.at {
		return a.at > b.at
	}
	return a.id > b.id
}

// fakeList serves o/c windows of a sorted in-memory open list. hook runs
// before every request but the first and may change the list, modelling
// what happens on the server between two requests. It records what a
// checker needs: the list at the first request and every ID ever listed or
// removed afterwards.
type fakeList struct {
	mu           sync.Mutex
	items        []fakeTicket
	gone         []fakeTicket // removed, candidates for reopening
	ever         map[int64]bool
	initial      map[int64]bool
	removedSince map[int64]bool
	started      bool
	requests     int
	offsets      []int
	counts       []int

	noOpenTickets bool                               // omit OpenTickets from bodies
	openTickets   int                                // when > 0, reported instead of the list length
	gameKey       bool                               // list under "Tickets" (game mode)
	failAt        int                                // answer 401 to this request (1-based)
	shuffleTies   *rand.Rand                         // reorder same-second tickets on every request
	hook          func(f *fakeList, req, offset int) // mutations between requests
	capC          int                                // when > 0, the server's cap on c (below 100)
	// afterCount, when set, runs after OpenTickets is counted and before
	// the list is read, like a ticket created between RAWeb's two queries.
	afterCount func(f *fakeList, req int)
	nextID     int64
	newest     time.Time
}

var fakeBase = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// newFakeList makes n tickets, newest first, one second apart; tieEvery>0
// puts runs of up to tieEvery tickets in the same second.
func newFakeList(n int, r *rand.Rand, tieEvery int) *fakeList {
	f := &fakeList{ever: map[int64]bool{}, removedSince: map[int64]bool{}, nextID: int64(n) + 1000, newest: fakeBase}
	at := fakeBase
	for i := 0; i < n; i++ {
		if tieEvery <= 1 || r == nil || r.IntN(tieEvery) == 0 {
			at = at.Add(-time.Duration(1+i%7) * time.Second)
		}
		t := fakeTicket{id: int64(n-i) + 999, at: at.Format(time.DateTime)}
		if r != nil && r.IntN(5) == 0 {
			t.strID = true
		}
		f.items = append(f.items, t)
		f.ever[t.id] = true
	}
	f.sort()
	return f
}

func (f *fakeList) sort() {
	slices.SortStableFunc(f.items, func(a, b fakeTicket) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
}

func (f *fakeList) removeAt(pos int) {
	if pos < 0 || pos >= len(f.items) {
		return
	}
	t := f.items[pos]
	f.items = slices.Delete(f.items, pos, pos+1)
	f.gone = append(f.gone, t)
	if f.started {
		f.removedSince[t.id] = true
	}
}

// removeRange removes positions [from, to) (clamped).
func (f *fakeList) removeRange(from, to int) {
	from, to = max(from, 0), min(to, len(f.items))
	for i := to - 1; i >= from; i-- {
		f.removeAt(i)
	}
}

// insertTop adds a brand-new ticket above everything.
func (f *fakeList) insertTop() {
	f.newest = f.newest.Add(time.Second)
	f.nextID++
	t := fakeTicket{id: f.nextID, at: f.newest.Format(time.DateTime)}
	f.items = slices.Insert(f.items, 0, t)
	f.ever[t.id] = true
}

// reopen puts a removed ticket back at its own place.
func (f *fakeList) reopen(i int) {
	if i < 0 || i >= len(f.gone) {
		return
	}
	t := f.gone[i]
	f.gone = slices.Delete(f.gone, i, i+1)
	pos, _ := slices.BinarySearchFunc(f.items, t, func(a, b fakeTicket) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	f.items = slices.Insert(f.items, pos, t)
}

func (f *fakeList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	q := r.URL.Query()
	o, _ := strconv.Atoi(q.Get("o"))
	c, err := strconv.Atoi(q.Get("c"))
	if err != nil {
		c = 10
	}
	c = min(c, 100)
	if f.capC > 0 {
		c = min(c, f.capC)
	}
	f.offsets = append(f.offsets, o)
	f.counts = append(f.counts, c)
	if f.started && f.hook != nil {
		f.hook(f, f.requests, o)
	}
	if !f.started {
		f.started = true
		f.initial = map[int64]bool{}
		for _, t := range f.items {
			f.initial[t.id] = true
		}
	}
	if f.gameKey && (q.Get("g") != "7" || q.Get("d") != "1" || q.Get("f") != "5") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if f.requests == f.failAt {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Unauthenticated."}`))
		return
	}
	ot := len(f.items)
	if f.openTickets > 0 {
		ot = f.openTickets
	}
	if f.afterCount != nil {
		f.afterCount(f, f.requests)
	}
	if f.shuffleTies != nil {
		for i := 0; i < len(f.items); {
			j := i + 1
			for j < len(f.items) && f.items[j].at == f.items[i].at {
				j++
			}
			block := f.items[i:j]
			f.shuffleTies.Shuffle(len(block), func(a, b int) { block[a], block[b] = block[b], block[a] })
			i = j
		}
	}
	var b bytes.Buffer
	if f.gameKey {
		b.WriteString(`{"GameID":7,"Tickets":[`)
	} else {
		b.WriteString(`{"RecentTickets":[`)
	}
	for i := o; i < min(o+c, len(f.items)); i++ {
		if i > o {
			b.WriteByte(',')
		}
		t := f.items[i]
		id := strconv.FormatInt(t.id, 10)
		if t.strID {
			id = strconv.Quote(id)
		}
		fmt.Fprintf(&b, `{"ID":%s,"AchievementID":%d,`, id, 1000+t.id%97)
		if !t.keyless {
			fmt.Fprintf(&b, `"ReportedAt":%q,`, t.at)
		}
		b.WriteString(`"ReportType":2,"ReportNotes":"Emulator: RALibRetro","ReportState":1}`)
	}
	b.WriteString(`]`)
	if !f.noOpenTickets {
		fmt.Fprintf(&b, `,"OpenTickets":%d`, ot)
	}
	b.WriteString(`,"URL":"https://retroachievements.org/ticketmanager.php"}`)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b.Bytes())
}

// handlerTransport serves requests in-process: the whole client stack runs,
// without sockets, so hundreds of scans stay fast.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func fakeClient(t testing.TB, f *fakeList) *Client {
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

// scanResult is what a scan yielded.
type scanResult struct {
	counts   map[int64]int // times each ID was yielded
	pages    []*Page
	err      error
	afterErr int // yields after the error (must be 0)
}

func runScan(seq func(func(*Page, error) bool)) scanResult {
	res := scanResult{counts: map[int64]int{}}
	for p, err := range seq {
		if res.err != nil {
			res.afterErr++
		}
		if err != nil {
			res.err = err
			continue
		}
		res.pages = append(res.pages, p)
		for _, raw := range p.Tickets {
			res.counts[rawID(raw)]++
		}
	}
	return res
}

// rawID reads a yielded ticket's ID independently of the code under test.
func rawID(raw json.RawMessage) int64 {
	var v struct {
		ID any `json:"ID"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return -1
	}
	switch id := v.ID.(type) {
	case float64:
		return int64(id)
	case string:
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}

// check asserts the scan guarantees: nothing yielded twice, nothing yielded
// that was never listed, and, for a scan that ended without error, every
// ticket listed for the whole scan yielded. It returns the number of
// tickets that should have been yielded.
func (f *fakeList) check(t *testing.T, res scanResult, keylessOK bool) int {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if res.afterErr > 0 {
		t.Errorf("%d pages yielded after an error", res.afterErr)
	}
	keyless := map[int64]bool{}
	for _, it := range append(append([]fakeTicket(nil), f.items...), f.gone...) {
		if it.keyless {
			keyless[it.id] = true
		}
	}
	for id, n := range res.counts {
		if !f.ever[id] {
			t.Errorf("ticket %d yielded but never listed", id)
		}
		if n > 1 && !(keylessOK && keyless[id]) {
			t.Errorf("ticket %d yielded %d times", id, n)
		}
	}
	persistent := 0
	for id := range f.initial {
		if f.removedSince[id] {
			continue
		}
		persistent++
		if res.err == nil && res.counts[id] == 0 {
			t.Errorf("ticket %d listed for the whole scan but not yielded", id)
		}
	}
	return persistent
}
