package fakeapi

import (
	"encoding/json"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type v2Doc struct {
	Meta struct {
		Page struct {
			CurrentPage, LastPage, PerPage, Total int
			From, To                              *int
		}
	}
	Links struct {
		First, Last, Next string
	}
	Data   []v2Item
	Errors []struct{ Status, Title, Detail string }
}

type v2Item struct {
	Type       string
	ID         string
	Attributes struct {
		State, Type, Body, ReportedAt string
		ResolvedAt                    *string
		Hardcore                      *bool
		TicketableType                string
		TicketableID                  int64
		TicketableTitle               string
		GameID                        *int64
		GameIconURL                   *string
		ReporterDisplayName           *string
		ResolverDisplayName           *string
	}
}

func (it v2Item) id(t *testing.T) int64 {
	n, err := strconv.ParseInt(it.ID, 10, 64)
	if err != nil {
		t.Fatalf("id %q: %v", it.ID, err)
	}
	return n
}

// getV2 requests base+path?query with the key in X-API-Key (key "" sends
// no header).
func getV2(t *testing.T, base, path, query, key string) (reply, v2Doc) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path+"?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := newClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, body: body}
	if !json.Valid(body) {
		t.Fatalf("%s?%s: not JSON: %.200s", path, query, body)
	}
	var doc v2Doc
	_ = json.Unmarshal(body, &doc) // a single ticket's data is an object
	return r, doc
}

func list(t *testing.T, base, query string) v2Doc {
	t.Helper()
	r, doc := getV2(t, base, "/api/v2/tickets", query, testKey)
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", query, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.api+json" {
		t.Errorf("content type %q", ct)
	}
	return doc
}

// scanV2 pages through query (sort=id, 100 a page) and returns the items.
func scanV2(t *testing.T, base, query string) []v2Item {
	t.Helper()
	var out []v2Item
	for n := 1; ; n++ {
		doc := list(t, base, query+"&sort=id&page[size]=100&page[number]="+strconv.Itoa(n))
		out = append(out, doc.Data...)
		if doc.Links.Next == "" {
			return out
		}
	}
}

func TestV2AuthAndSwitch(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 3, Tickets: 100, APIKey: "k2"})
	base := mount(t, srv)
	for _, key := range []string{"", "wrong", "K2"} {
		r, doc := getV2(t, base, "/api/v2/tickets", "", key)
		if r.status != http.StatusUnauthorized || len(doc.Errors) != 1 || doc.Errors[0].Status != "401" {
			t.Errorf("key %q: status %d, %s", key, r.status, r.body)
		}
	}
	// The v1 parameter does not authenticate v2.
	if r, _ := getV2(t, base, "/api/v2/tickets", "y=k2", ""); r.status != http.StatusUnauthorized {
		t.Errorf("y= on v2: status %d", r.status)
	}
	if r, _ := getV2(t, base, "/api/v2/tickets", "", "k2"); r.status != http.StatusOK {
		t.Fatalf("right key: status %d", r.status)
	}
	if got := srv.Requests()["v2_unauthorized"]; got != 4 {
		t.Errorf("v2_unauthorized = %d, want 4", got)
	}

	off := mount(t, New(Options{Seed: 3, Tickets: 10, DisableV2: true}))
	for _, p := range []string{"/api/v2/tickets", "/api/v2/tickets/1001"} {
		if r, doc := getV2(t, off, p, "", testKey); r.status != http.StatusNotFound || len(doc.Errors) != 1 {
			t.Errorf("v2 off, %s: status %d %s", p, r.status, r.body)
		}
	}
	if r := get(t, off, ""); r.status != http.StatusOK {
		t.Errorf("v1 with v2 off: %d", r.status)
	}
}

func TestV2BadParameters(t *testing.T) {
	t.Parallel()
	base := mount(t, New(Options{Seed: 4, Tickets: 50}))
	for _, q := range []string{"page[size]=101", "page[size]=0", "page[size]=x", "page[number]=0",
		"filter[state]=bogus", "filter[state]=open,nope", "filter[state]=", "sort=title", "sort=-nope",
		"filter[gameId]=x", "filter[id]=1,a", "filter[ticketableType]=game", "filter[type]=x", "filter[nope]=1"} {
		r, doc := getV2(t, base, "/api/v2/tickets", q, testKey)
		if r.status != http.StatusBadRequest || len(doc.Errors) != 1 || doc.Errors[0].Status != "400" {
			t.Errorf("%s: status %d, %s", q, r.status, r.body)
		}
	}
	for _, q := range []string{"page[size]=100", "page[size]=1&page[number]=999", "sort=-resolvedAt,state",
		"filter[state]=all", "filter[state]=resolved,closed&sort=reportedAt", "include=achievement"} {
		if r, _ := getV2(t, base, "/api/v2/tickets", q, testKey); r.status != http.StatusOK {
			t.Errorf("%s: status %d %s", q, r.status, r.body)
		}
	}
}

// TestV2PageNumberTooLarge: a page number whose offset does not fit an int
// is a bad parameter like any other (it used to panic the handler).
func TestV2PageNumberTooLarge(t *testing.T) {
	t.Parallel()
	base := mount(t, New(Options{Seed: 4, Tickets: 50}))
	for _, n := range []string{"9223372036854775807", "92233720368547758", "99999999999999999999"} {
		r, doc := getV2(t, base, "/api/v2/tickets", "page[size]=100&page[number]="+n, testKey)
		if r.status != http.StatusBadRequest || len(doc.Errors) != 1 || !strings.Contains(doc.Errors[0].Detail, "page[number]") {
			t.Errorf("page[number]=%s: status %d, %s", n, r.status, r.body)
		}
	}
}

// TestV2SeveralBadParameters: with several bad parameters the answer names
// the same one every time (the first in parameter-name order).
func TestV2SeveralBadParameters(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 4, Tickets: 50})
	const q = "sort=nope&page[size]=0&filter[type]=zzz&filter[id]=a&filter[state]=weird&page[number]=0&filter[foo]=1"
	var details []string
	for range 40 {
		req := httptest.NewRequest(http.MethodGet, "/api/v2/tickets?"+q, nil)
		req.Header.Set("X-API-Key", testKey)
		details = append(details, string(srv.respondV2(req).body))
	}
	if c := slices.Compact(slices.Clone(details)); len(c) != 1 {
		t.Fatalf("answers differ between identical requests: %q", c)
	}
	if !strings.Contains(details[0], "filter[foo]") {
		t.Errorf("reported %s, want filter[foo] (first by name)", details[0])
	}
}

// TestV2OneWorld: v2 serves the world v1 serves, plus leaderboard tickets,
// minus quarantined ones; the paging metadata is consistent.
func TestV2OneWorld(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 5, Tickets: 700})
	base := mount(t, srv)
	all := srv.AllV2()
	var want, wantOpen []int64
	lb := 0
	for _, tk := range all {
		if tk.LeaderboardID != 0 {
			lb++
			if r := get(t, base, "i="+strconv.FormatInt(tk.ID, 10)); r.status != http.StatusNotFound {
				t.Errorf("v1 i= for leaderboard ticket %d: %d", tk.ID, r.status)
			}
		}
		if VisibleV2(tk) {
			want = append(want, tk.ID)
			if isOpenState(tk.ReportState) {
				wantOpen = append(wantOpen, tk.ID)
			}
		}
	}
	if lb < 10 || len(all)-lb != len(srv.All()) {
		t.Fatalf("%d leaderboard tickets; AllV2 %d, All %d", lb, len(all), len(srv.All()))
	}
	items := scanV2(t, base, "filter[state]=all")
	got := make([]int64, len(items))
	seen := map[string]bool{}
	for i, it := range items {
		got[i] = it.id(t)
		tk, _ := srv.Get(got[i])
		a := it.Attributes
		seen[a.TicketableType+" "+a.Type+" "+a.State] = true
		if it.Type != "tickets" || a.State != v2Name(v2States, tk.ReportState) || a.Type != v2Name(v2Types, tk.ReportType) ||
			a.Body != tk.ReportNotes || a.ReportedAt != tk.ReportedAt.Format("2006-01-02T15:04:05.000000Z") ||
			(a.ResolvedAt == nil) != (tk.ResolvedAt == nil) || (a.Hardcore == nil) != (tk.Hardcore == nil) ||
			a.GameID == nil || *a.GameID != tk.GameID || *a.GameIconURL != mediaURL+tk.GameIcon {
			t.Fatalf("ticket %d served as %+v, world %+v", got[i], a, tk)
		}
		if (a.TicketableType == "leaderboard") != (tk.LeaderboardID != 0) ||
			(tk.LeaderboardID != 0 && (a.TicketableID != tk.LeaderboardID || a.TicketableTitle != tk.LeaderboardTitle)) ||
			(tk.LeaderboardID == 0 && a.TicketableID != tk.AchievementID) {
			t.Fatalf("ticket %d ticketable %s %d %q", got[i], a.TicketableType, a.TicketableID, a.TicketableTitle)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("filter[state]=all scan: %d tickets, want the %d visible ones in ID order", len(got), len(want))
	}
	for _, k := range []string{"leaderboard did_not_start open", "achievement did_not_trigger resolved", "achievement triggered_at_wrong_time closed"} {
		if !seen[k] {
			t.Errorf("no %q ticket served", k)
		}
	}
	open := scanV2(t, base, "")
	gotOpen := make([]int64, len(open))
	for i, it := range open {
		gotOpen[i] = it.id(t)
	}
	if !slices.Equal(gotOpen, wantOpen) {
		t.Errorf("default (open,request) scan: %d tickets, want %d", len(gotOpen), len(wantOpen))
	}

	// Metadata and links.
	doc := list(t, base, "filter[state]=all&sort=id&page[size]=100&page[number]=2")
	m := doc.Meta.Page
	if m.CurrentPage != 2 || m.PerPage != 100 || m.Total != len(want) || m.LastPage != (len(want)+99)/100 ||
		m.From == nil || *m.From != 101 || *m.To != 200 || doc.Links.Next == "" || doc.Data[0].id(t) != want[100] {
		t.Errorf("page 2 meta %+v links %+v", m, doc.Links)
	}
	if u, err := url.Parse(doc.Links.Next); err != nil || u.Query().Get("page[number]") != "3" || u.Query().Get("filter[state]") != "all" {
		t.Errorf("next link %q", doc.Links.Next)
	}
	last := list(t, base, "filter[state]=all&sort=id&page[size]=100&page[number]="+strconv.Itoa(m.LastPage))
	if last.Links.Next != "" || len(last.Data) != len(want)-(m.LastPage-1)*100 {
		t.Errorf("last page: next %q, %d items", last.Links.Next, len(last.Data))
	}
	past := list(t, base, "filter[state]=all&page[size]=100&page[number]=999")
	if len(past.Data) != 0 || past.Meta.Page.From != nil || past.Meta.Page.Total != len(want) {
		t.Errorf("past the end: %+v", past.Meta.Page)
	}
	// Default sort is -reportedAt, default size 25.
	def := list(t, base, "filter[state]=all")
	if len(def.Data) != 25 || def.Data[0].Attributes.ReportedAt < def.Data[24].Attributes.ReportedAt {
		t.Errorf("default page: %d items, not newest first", len(def.Data))
	}
}

func TestV2FiltersAndSingle(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 6, Tickets: 500})
	base := mount(t, srv)
	all := srv.AllV2()
	var quarantined, lbTicket, resolved Ticket
	for _, tk := range all {
		switch {
		case tk.ReportState == StateQuarantined && quarantined.ID == 0:
			quarantined = tk
		case tk.LeaderboardID != 0 && lbTicket.ID == 0:
			lbTicket = tk
		case tk.ReportState == StateResolved && tk.LeaderboardID == 0 && resolved.ID == 0:
			resolved = tk
		}
	}
	missing := all[len(all)-1].ID + 7
	ids := []int64{resolved.ID, quarantined.ID, lbTicket.ID, missing, resolved.ID}
	var csv []string
	for _, id := range ids {
		csv = append(csv, strconv.FormatInt(id, 10))
	}
	doc := list(t, base, "filter[id]="+strings.Join(csv, ",")+"&filter[state]=all&page[size]=100")
	var got []int64
	for _, it := range doc.Data {
		got = append(got, it.id(t))
	}
	slices.Sort(got)
	wantIDs := []int64{resolved.ID, lbTicket.ID}
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("filter[id] with state=all: %v, want %v (quarantined and missing absent)", got, wantIDs)
	}
	// Without filter[state] only open ones come back.
	doc = list(t, base, "filter[id]="+strconv.FormatInt(resolved.ID, 10))
	if len(doc.Data) != 0 {
		t.Errorf("resolved ticket listed without filter[state]=all")
	}
	doc = list(t, base, "filter[state]=all&filter[ticketableType]=leaderboard&page[size]=100")
	for _, it := range doc.Data {
		if it.Attributes.TicketableType != "leaderboard" {
			t.Errorf("ticketableType filter let %s through", it.ID)
		}
	}
	g := strconv.FormatInt(resolved.GameID, 10)
	items := scanV2(t, base, "filter[state]=all&filter[gameId]="+g)
	n := 0
	for _, tk := range all {
		if tk.GameID == resolved.GameID && VisibleV2(tk) {
			n++
		}
	}
	if len(items) != n || n == 0 {
		t.Errorf("filter[gameId]: %d items, want %d", len(items), n)
	}

	for id, want := range map[int64]int{resolved.ID: 200, lbTicket.ID: 200, quarantined.ID: 404, missing: 404} {
		r, doc := getV2(t, base, "/api/v2/tickets/"+strconv.FormatInt(id, 10), "", testKey)
		if r.status != want {
			t.Errorf("/tickets/%d: status %d, want %d", id, r.status, want)
		}
		if want == 404 && len(doc.Errors) != 1 {
			t.Errorf("/tickets/%d: no errors document: %s", id, r.body)
		}
	}
	var single struct{ Data v2Item }
	r, _ := getV2(t, base, "/api/v2/tickets/"+strconv.FormatInt(lbTicket.ID, 10), "", testKey)
	if err := json.Unmarshal(r.body, &single); err != nil || single.Data.Attributes.TicketableTitle != lbTicket.LeaderboardTitle {
		t.Errorf("single leaderboard ticket: %v %s", err, r.body)
	}
}

// TestV2SharesFaultsAndHook: the fault queue, latency and hook apply to v2.
func TestV2SharesFaultsAndHook(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 8, Tickets: 50})
	base := mount(t, srv)
	srv.Enqueue(Fault{Kind: FaultTooManyRequests, RetryAfter: 3 * time.Second}, Fault{Kind: FaultServerError, Status: 502})
	r, _ := tryGetV2(t, base)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3" {
		t.Errorf("first: %d %q", r.status, r.header.Get("Retry-After"))
	}
	if r, _ = tryGetV2(t, base); r.status != http.StatusBadGateway {
		t.Errorf("second: %d", r.status)
	}
	hooked := 0
	srv.SetHook(func(*http.Request) { hooked++ })
	if r, _ = tryGetV2(t, base); r.status != http.StatusOK || hooked != 1 {
		t.Errorf("third: %d, hook ran %d times", r.status, hooked)
	}
}

func tryGetV2(t *testing.T, base string) (reply, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v2/tickets", nil)
	req.Header.Set("X-API-Key", testKey)
	resp, err := newClient(t).Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// TestV2ChurnAndArrivals: churn moves leaderboard tickets too (some get
// quarantined and disappear from v2), leaderboard arrivals get new IDs, and
// v1's open list is not disturbed.
func TestV2ChurnAndArrivals(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 9, Tickets: 800})
	before := map[int64]int{}
	for _, tk := range srv.AllV2() {
		before[tk.ID] = tk.ReportState
	}
	rng := rand.New(rand.NewSource(2))
	for range 10 {
		srv.Churn(rng, 100)
		checkOpenInvariant(t, srv)
	}
	moved, quarantined := 0, 0
	for _, tk := range srv.AllV2() {
		if st, ok := before[tk.ID]; ok && tk.LeaderboardID != 0 && st != tk.ReportState {
			moved++
			if tk.ReportState == StateQuarantined {
				quarantined++
			}
		}
	}
	if moved == 0 || quarantined == 0 {
		t.Errorf("churn moved %d leaderboard tickets, quarantined %d", moved, quarantined)
	}
	maxID := srv.AllV2()[len(srv.AllV2())-1].ID
	added := srv.AddLeaderboardTickets(2)
	if len(added) != 2 || added[0] <= maxID || added[1] <= added[0] {
		t.Errorf("AddLeaderboardTickets: %v after max %d", added, maxID)
	}
	items := scanV2(t, mount(t, srv), "filter[state]=all")
	if last := items[len(items)-1]; last.id(t) != added[1] || last.Attributes.TicketableType != "leaderboard" {
		t.Errorf("newest leaderboard ticket not last by ID: %s", last.ID)
	}
}
