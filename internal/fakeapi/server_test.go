package fakeapi

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestListPagingFollowsPHPArithmetic(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 7, Tickets: 400})
	base := mount(t, srv)
	open := ids(srv.Open())
	n := len(open)
	if n < 150 {
		t.Fatalf("world too small for the test: %d open", n)
	}

	tests := []struct {
		name    string
		query   string
		wantLen int
		from    int // index in the open list of the first ticket
	}{
		{"defaults to 10 from the top", "", 10, 0},
		{"count", "c=5", 5, 0},
		{"count capped at 100", "c=500", 100, 0},
		{"offset", "c=100&o=20", 100, 20},
		{"negative offset is 0", "o=-5&c=3", 3, 0},
		{"garbage offset is 0", "o=x&c=3", 3, 0},
		{"garbage count is 0", "c=abc", 0, 0},
		{"empty count is 0", "c=", 0, 0},
		{"zero count", "c=0", 0, 0},
		{"leading digits count", "c=7abc", 7, 0},
		{"plus sign and spaces", "c=+4&o= 2", 4, 2},
		{"fraction truncated", "c=2.9", 2, 0},
		{"exponent", "c=1e1", 10, 0},
		{"last repeated value wins", "c=3&c=4", 4, 0},
		{"tail page", "c=10&o=" + strconv.Itoa(n-2), 2, n - 2},
		{"past the end", "o=" + strconv.Itoa(n), 0, n},
		{"huge offset", "o=99999999999999999999999", 0, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := get(t, base, tt.query)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			body := decode[listBody](t, r)
			if body.OpenTickets != n {
				t.Errorf("OpenTickets = %d, want %d", body.OpenTickets, n)
			}
			if body.URL != "https://retroachievements.org/tickets" {
				t.Errorf("URL = %q", body.URL)
			}
			if got, want := servedIDs(body.RecentTickets), open[tt.from:tt.from+tt.wantLen]; !equalIDs(got, want) {
				t.Errorf("ids = %v, want %v", got, want)
			}
		})
	}
}

func TestNegativeCountIsAServerError(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 50})
	base := mount(t, srv)
	g := strconv.FormatInt(srv.All()[0].GameID, 10)
	tests := []struct {
		query string
		want  int
	}{
		{"c=-1", http.StatusInternalServerError},
		{"c=-1&o=5", http.StatusInternalServerError},
		{"g=" + g + "&d=1&c=-3", http.StatusInternalServerError},
		{"g=" + g + "&c=-3", http.StatusOK}, // no ticket query runs without d=1
	}
	for _, tt := range tests {
		if r := get(t, base, tt.query); r.status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.query, r.status, tt.want)
		}
	}
}

func TestFullScanReturnsTheOpenListInOrder(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 3, Tickets: 2500})
	base := mount(t, srv)
	all := scanAll(t, base)
	if got, want := servedIDs(all), ids(srv.Open()); !equalIDs(got, want) {
		t.Fatalf("scan gave %d ids, open list has %d (or order differs)", len(got), len(want))
	}
	seen := map[int64]bool{}
	ties := 0
	for i, tk := range all {
		if seen[tk.ID] {
			t.Fatalf("ticket %d served twice", tk.ID)
		}
		seen[tk.ID] = true
		if tk.ReportState != StateOpen && tk.ReportState != StateRequest {
			t.Errorf("ticket %d has state %d in the open list", tk.ID, tk.ReportState)
		}
		if i == 0 {
			continue
		}
		prev := all[i-1]
		switch {
		case tk.ReportedAt > prev.ReportedAt:
			t.Errorf("ticket %d (%s) after newer-sorting %d (%s)", tk.ID, tk.ReportedAt, prev.ID, prev.ReportedAt)
		case tk.ReportedAt == prev.ReportedAt:
			ties++
			if tk.ID > prev.ID {
				t.Errorf("tie at %s not broken by ID desc: %d after %d", tk.ReportedAt, tk.ID, prev.ID)
			}
		}
	}
	if ties == 0 {
		t.Error("generated world has no ReportedAt ties; the tie-break is untested")
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	base := mount(t, New(Options{Seed: 1, Tickets: 30}))
	c := newClient(t)
	tests := []struct {
		path string
		want int
	}{
		{"/API/API_GetTicketData.php", http.StatusOK},
		{"/API/API_GetTicketData", http.StatusOK},
		{"/API/API_GetTicketData.phpx", http.StatusNotFound},
		{"/API/API_GetGame.php", http.StatusNotFound},
		{"/api/API_GetTicketData.php", http.StatusNotFound},
		{"/", http.StatusNotFound},
	}
	for _, tt := range tests {
		r, err := tryGet(c, base, tt.path, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.status != tt.want {
			t.Errorf("%s: status %d, want %d", tt.path, r.status, tt.want)
		}
		if tt.want == http.StatusOK && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: content type %q", tt.path, r.header.Get("Content-Type"))
		}
	}
	// Without the mount prefix nothing is served.
	r, err := tryGet(c, strings.TrimSuffix(base, "/ra"), "/API/API_GetTicketData.php", "")
	if err != nil || r.status != http.StatusNotFound {
		t.Errorf("unprefixed: %v %d", err, r.status)
	}
	resp, err := c.Post(base+"/API/API_GetTicketData.php?y="+testKey, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d", resp.StatusCode)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 30, APIKey: "k1"})
	hooked := 0
	srv.SetHook(func(*http.Request) { hooked++ })
	base := mount(t, srv)
	for _, q := range []string{"y=wrong", "y=", "y=k1x", "y=K1"} {
		r := get(t, base, q)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", q, r.status)
		}
		decode[map[string]any](t, r) // a JSON error body
	}
	r, err := tryGet(newClient(t), base, "/API/API_GetTicketData.php", "y=wrong&i=1001")
	if err != nil || r.status != http.StatusUnauthorized {
		t.Errorf("i= with a wrong key: %v %d", err, r.status)
	}
	if r := get(t, base, "y=k1&z=someone-else"); r.status != http.StatusOK {
		t.Errorf("right key: status %d (z is not checked)", r.status)
	}
	if got := srv.Requests()["unauthorized"]; got != 5 {
		t.Errorf("unauthorized count = %d, want 5", got)
	}
	if hooked != 1 {
		t.Errorf("hook ran %d times, want 1 (only for the authenticated request)", hooked)
	}
}

var singleKeys = []string{"ID", "AchievementID", "AchievementTitle", "AchievementDesc", "AchievementType", "Points",
	"BadgeName", "AchievementAuthor", "AchievementAuthorULID", "GameID", "ConsoleName", "GameTitle", "GameIcon",
	"ReportedAt", "ReportType", "ReportState", "Hardcore", "ReportNotes", "ReportedBy", "ReportedByULID",
	"ResolvedAt", "ResolvedBy", "ResolvedByULID", "ReportStateDescription", "ReportTypeDescription", "URL"}

var listKeys = []string{"ID", "AchievementID", "AchievementTitle", "AchievementDesc", "AchievementType", "Points",
	"BadgeName", "AchievementAuthor", "AchievementAuthorULID", "GameID", "ConsoleName", "GameTitle", "GameIcon",
	"ReportedAt", "ReportType", "ReportTypeDescription", "ReportNotes", "ReportedBy", "ReportedByULID",
	"ResolvedAt", "ResolvedBy", "ResolvedByULID", "ReportState", "ReportStateDescription", "Hardcore"}

func TestTicketMode(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 5, Tickets: 300})
	base := mount(t, srv)

	var resolved Ticket
	for _, tk := range srv.All() {
		if tk.ReportState == StateResolved && tk.ResolvedBy != nil && !tk.Promoted {
			resolved = tk
			break
		}
	}
	if resolved.ID == 0 {
		t.Fatal("no resolved ticket on an unofficial achievement in the world")
	}
	r := get(t, base, "i="+strconv.FormatInt(resolved.ID, 10))
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	if got := objectKeys(t, r.body); !slices.Equal(got, singleKeys) {
		t.Errorf("keys = %v\nwant %v", got, singleKeys)
	}
	got := decode[servedTicket](t, r)
	if got.ID != resolved.ID || got.ReportState != StateResolved || got.ReportStateDescription != "Resolved" {
		t.Errorf("got %+v", got)
	}
	if got.ResolvedAt == nil || *got.ResolvedAt != resolved.ResolvedAt.Format(timeLayout) {
		t.Errorf("ResolvedAt = %v, want %v", got.ResolvedAt, resolved.ResolvedAt)
	}
	if got.ResolvedBy == nil || *got.ResolvedBy != *resolved.ResolvedBy || got.ResolvedByULID == nil || *got.ResolvedByULID != ULIDFor(*resolved.ResolvedBy) {
		t.Errorf("resolver = %v / %v", got.ResolvedBy, got.ResolvedByULID)
	}
	if want := "https://retroachievements.org/ticket/" + strconv.FormatInt(resolved.ID, 10); got.URL != want {
		t.Errorf("URL = %q, want %q", got.URL, want)
	}

	r = get(t, base, "i=5")
	if r.status != http.StatusNotFound || string(r.body) != `{"error":"Ticket ID 5 not found"}` {
		t.Errorf("missing ticket: %d %s", r.status, r.body)
	}
	srv.Delete(resolved.ID)
	if r := get(t, base, "i="+strconv.FormatInt(resolved.ID, 10)); r.status != http.StatusNotFound {
		t.Errorf("deleted ticket: status %d", r.status)
	}
	// i that PHP casts to 0 is not a ticket request: the open list answers.
	for _, q := range []string{"i=0", "i=abc", "i=-4"} {
		if b := decode[listBody](t, get(t, base, q)); len(b.RecentTickets) != 10 {
			t.Errorf("%s: not answered with the open list", q)
		}
	}
	if n := srv.Requests()["ticket"]; n != 3 {
		t.Errorf("ticket requests = %d, want 3", n)
	}
}

func TestListElementKeyOrder(t *testing.T) {
	t.Parallel()
	base := mount(t, New(Options{Seed: 1, Tickets: 30}))
	r := get(t, base, "c=1")
	if got, want := objectKeys(t, r.body), []string{"OpenTickets", "URL", "RecentTickets"}; !slices.Equal(got, want) {
		t.Errorf("top-level keys = %v, want %v", got, want)
	}
	start := bytes.Index(r.body, []byte(`"RecentTickets":[`)) + len(`"RecentTickets":[`)
	elem := r.body[start : len(r.body)-2]
	if got := objectKeys(t, elem); !slices.Equal(got, listKeys) {
		t.Errorf("element keys = %v\nwant %v", got, listKeys)
	}
}

// gameWithBoth finds a game having tickets on promoted and on unofficial
// achievements, and tickets in several states.
func gameWithBoth(t *testing.T, srv *Server) int64 {
	t.Helper()
	type agg struct{ promoted, unofficial int }
	byGame := map[int64]*agg{}
	stateSeen := map[int64]map[int]bool{}
	for _, tk := range srv.All() {
		a := byGame[tk.GameID]
		if a == nil {
			a = &agg{}
			byGame[tk.GameID] = a
			stateSeen[tk.GameID] = map[int]bool{}
		}
		if tk.Promoted {
			a.promoted++
		} else {
			a.unofficial++
		}
		stateSeen[tk.GameID][tk.ReportState] = true
	}
	best, bestN := int64(0), 0
	for id, a := range byGame {
		if a.unofficial > 0 && len(stateSeen[id]) >= 3 && a.promoted > bestN && a.promoted > 100 {
			best, bestN = id, a.promoted
		}
	}
	if best == 0 {
		t.Fatal("no suitable game in the world")
	}
	return best
}

func TestGameMode(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 11, Tickets: 4000})
	base := mount(t, srv)
	gid := gameWithBoth(t, srv)
	g := strconv.FormatInt(gid, 10)

	want := map[bool][]int64{}
	var title string
	for _, tk := range srv.All() {
		if tk.GameID == gid && !tk.Deleted {
			want[tk.Promoted] = append(want[tk.Promoted], tk.ID)
			title = tk.GameTitle
		}
	}
	sortServed := func(promoted bool) []int64 {
		var ts []Ticket
		for _, id := range want[promoted] {
			tk, _ := srv.Get(id)
			ts = append(ts, tk)
		}
		slices.SortFunc(ts, func(a, b Ticket) int {
			if c := b.ReportedAt.Compare(a.ReportedAt); c != 0 {
				return c
			}
			return int(b.ID - a.ID)
		})
		return ids(ts)
	}

	tests := []struct {
		name     string
		flag     string
		promoted bool
	}{
		{"default is promoted", "", true},
		{"f=3 promoted", "&f=3", true},
		{"f=5 unofficial", "&f=5", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, base, "g="+g+"&d=1&c=100"+tt.flag)
			if r.status != http.StatusOK {
				t.Fatalf("status %d", r.status)
			}
			wantKeys := []string{"GameID", "GameTitle", "ConsoleName", "OpenTickets", "URL", "Tickets"}
			if got := objectKeys(t, r.body); !slices.Equal(got, wantKeys) {
				t.Errorf("keys = %v, want %v", got, wantKeys)
			}
			first := decode[gameBody](t, r)
			if first.GameID != gid || first.GameTitle != title || first.URL != "https://retroachievements.org/game/"+g+"/tickets" {
				t.Errorf("head = %+v", first)
			}
			// The source's "OpenTickets" is count() of the same query: every state.
			if first.OpenTickets != len(want[tt.promoted]) {
				t.Errorf("OpenTickets = %d, want %d", first.OpenTickets, len(want[tt.promoted]))
			}
			var got []int64
			for o := 0; ; o += 100 {
				page := decode[gameBody](t, get(t, base, "g="+g+"&d=1&c=100&o="+strconv.Itoa(o)+tt.flag)).Tickets
				if len(page) == 0 {
					break
				}
				got = append(got, servedIDs(page)...)
			}
			if w := sortServed(tt.promoted); !equalIDs(got, w) {
				t.Errorf("paged game tickets: got %d ids, want %d (or order differs)", len(got), len(w))
			}
		})
	}

	r := get(t, base, "g="+g)
	if keys := objectKeys(t, r.body); slices.Contains(keys, "Tickets") {
		t.Errorf("without d=1 the body has Tickets: %v", keys)
	}
	if b := decode[gameBody](t, get(t, base, "g="+g+"&d=1")); len(b.Tickets) != 10 {
		t.Errorf("default page size = %d, want 10", len(b.Tickets))
	}
	r = get(t, base, "g=1&d=1")
	if r.status != http.StatusNotFound || string(r.body) != `{"error":"Game ID 1 not found"}` {
		t.Errorf("unknown game: %d %s", r.status, r.body)
	}
}

func TestMostReportedGames(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 2, Tickets: 1500})
	base := mount(t, srv)
	counts := map[int64]int{}
	for _, tk := range srv.Open() {
		counts[tk.GameID]++
	}
	type game struct {
		GameID      int64
		Console     string
		OpenTickets int
	}
	body := decode[struct {
		MostReportedGames []game
		URL               string
	}](t, get(t, base, "f=1&c=5&g=123"))
	if len(body.MostReportedGames) != 5 || body.URL != "https://retroachievements.org/manage/most-reported-games" {
		t.Fatalf("got %+v", body)
	}
	for i, g := range body.MostReportedGames {
		if g.OpenTickets != counts[g.GameID] || g.Console == "" {
			t.Errorf("game %d: %+v, open count %d", g.GameID, g, counts[g.GameID])
		}
		if i > 0 && g.OpenTickets > body.MostReportedGames[i-1].OpenTickets {
			t.Errorf("not sorted by open tickets desc at %d", i)
		}
	}
}

func TestHookRunsBeforeTheResponse(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 4, Tickets: 200})
	base := mount(t, srv)
	open := srv.Open()
	top := open[0].ID
	var seenQuery string
	srv.SetHook(func(r *http.Request) {
		seenQuery = r.URL.Query().Get("c")
		srv.SetState(top, StateResolved, "hookdev")
	})
	body := decode[listBody](t, get(t, base, "c=3"))
	if seenQuery != "3" {
		t.Errorf("hook saw c=%q", seenQuery)
	}
	if body.OpenTickets != len(open)-1 {
		t.Errorf("OpenTickets = %d, want %d (the hook's change must be visible)", body.OpenTickets, len(open)-1)
	}
	if got, want := servedIDs(body.RecentTickets), ids(open[1:4]); !equalIDs(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}
}

func TestPHPStyleEscaping(t *testing.T) {
	t.Parallel()
	if got, want := string(phpEscape([]byte(`"😀/é<&>\"x"`))), `"\ud83d\ude00\/\u00e9<&>\"x"`; got != want {
		t.Errorf("phpEscape = %s, want %s", got, want)
	}
	srv := New(Options{Seed: 8, Tickets: 300})
	srv.Put(Ticket{ID: 1, GameID: 77, GameTitle: "ドラゴン 🐉 \"Q\" C:\\x", ReportNotes: "a/b\nl2 <br> שלום",
		ReportedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ReportState: StateOpen, Promoted: true,
		GameIcon: "/Images/000001.png"})
	base := mount(t, srv)
	r := get(t, base, "c=1")
	for _, b := range r.body {
		if b >= 0x80 {
			t.Fatalf("raw non-ASCII byte in body: %.200s", r.body)
		}
	}
	for _, want := range []string{`\/Images\/000001.png`, `\ud83d\udc09`, `<br>`, `\"Q\"`, `C:\\x`} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("body lacks %s: %.400s", want, r.body)
		}
	}
	got := decode[listBody](t, r).RecentTickets[0]
	if got.GameTitle != "ドラゴン 🐉 \"Q\" C:\\x" || got.ReportNotes != "a/b\nl2 <br> שלום" {
		t.Errorf("round trip: %q / %q", got.GameTitle, got.ReportNotes)
	}
}

func TestPutRawIsServedInPlace(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 6, Tickets: 200})
	base := mount(t, srv)
	open := srv.Open()
	// Between the 3rd and 4th ticket of the list.
	at := open[3].ReportedAt.Add(time.Second)
	if !at.Before(open[2].ReportedAt) {
		at = open[2].ReportedAt
	}
	raw := []byte(`{"ID":"999999","ReportState":"1","Bogus":[1,2,`) // malformed on purpose
	srv.PutRaw(999999, at, raw)

	r := get(t, base, "c=10")
	if !bytes.Contains(r.body, raw) {
		t.Fatalf("raw object not served verbatim: %.300s", r.body)
	}
	pos := bytes.Index(r.body, raw)
	before := bytes.Index(r.body, []byte(`"ID":`+strconv.FormatInt(open[2].ID, 10)+`,`))
	after := bytes.Index(r.body, []byte(`"ID":`+strconv.FormatInt(open[3].ID, 10)+`,`))
	if before < 0 || after < 0 || !(before < pos && pos < after) {
		t.Errorf("raw at %d, want between %d and %d", pos, before, after)
	}
	if !bytes.Contains(r.body, []byte(`"OpenTickets":`+strconv.Itoa(len(open)+1)+`,`)) {
		t.Errorf("OpenTickets does not count the raw object: %.60s", r.body)
	}
	if got := ids(srv.Open()); len(got) != len(open)+1 || got[3] != 999999 {
		t.Errorf("Open() = %v...", got[:5])
	}
	if r := get(t, base, "i=999999"); !bytes.Equal(r.body, raw) {
		t.Errorf("i= of a raw object: %s", r.body)
	}

	srv.Put(Ticket{ID: 999999, ReportedAt: at, ReportState: StateResolved, Promoted: true, GameID: 5})
	if r := get(t, base, "c=10"); bytes.Contains(r.body, raw) {
		t.Error("Put did not replace the raw object")
	}
	srv.PutRaw(999998, at, raw)
	srv.Delete(999998)
	if r := get(t, base, "c=10"); bytes.Contains(r.body, raw) || len(srv.Open()) != len(open) {
		t.Error("Delete did not remove the raw object")
	}
}
