package fakeapi

import (
	"math/rand"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// checkOpenInvariant verifies the served open list is exactly the promoted,
// undeleted Open/Request tickets of All(), newest first, ties by ID desc.
func checkOpenInvariant(t *testing.T, srv *Server) {
	t.Helper()
	var want []Ticket
	for _, tk := range srv.All() {
		if tk.Promoted && !tk.Deleted && (tk.ReportState == StateOpen || tk.ReportState == StateRequest) {
			want = append(want, tk)
		}
	}
	slices.SortFunc(want, func(a, b Ticket) int {
		if c := b.ReportedAt.Compare(a.ReportedAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	if got := ids(srv.Open()); !equalIDs(got, ids(want)) {
		t.Fatalf("open list (%d) differs from the open tickets of All() (%d)", len(got), len(want))
	}
}

func TestDeterministicBySeed(t *testing.T) {
	t.Parallel()
	a, b := New(Options{Seed: 42}), New(Options{Seed: 42})
	if !reflect.DeepEqual(a.All(), b.All()) {
		t.Fatal("same seed, different worlds")
	}
	if len(a.All()) != 1000 {
		t.Errorf("default world has %d tickets, want 1000", len(a.All()))
	}
	ra, rb := get(t, mount(t, a), "c=100&o=50"), get(t, mount(t, b), "c=100&o=50")
	if string(ra.body) != string(rb.body) {
		t.Error("same seed, different page bytes")
	}
	// Later events are deterministic too.
	a.Churn(rand.New(rand.NewSource(9)), 300)
	b.Churn(rand.New(rand.NewSource(9)), 300)
	if !equalIDs(a.AddTickets(5), b.AddTickets(5)) || !reflect.DeepEqual(a.All(), b.All()) {
		t.Error("same seed and churn rng, different worlds after events")
	}
	if reflect.DeepEqual(New(Options{Seed: 43}).All(), New(Options{Seed: 42}).All()) {
		t.Error("different seeds gave the same world")
	}
}

func TestOptionsDefaultsAndEmpty(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 500, OpenShare: 0.2})
	all := srv.All()
	newest := all[0].ReportedAt
	for _, tk := range all {
		if tk.ReportedAt.After(newest) {
			newest = tk.ReportedAt
		}
	}
	if want := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC); !newest.Equal(want) {
		t.Errorf("newest ReportedAt = %v, want %v", newest, want)
	}
	open := 0
	for _, tk := range all {
		if tk.ReportState == StateOpen || tk.ReportState == StateRequest {
			open++
		}
	}
	if open < 60 || open > 140 {
		t.Errorf("%d of 500 open with OpenShare 0.2", open)
	}

	empty := New(Options{Seed: 1, Empty: true})
	if len(empty.All()) != 0 || len(empty.Open()) != 0 {
		t.Fatal("Empty world has tickets")
	}
	if got := decode[listBody](t, get(t, mount(t, empty), "")); got.OpenTickets != 0 || len(got.RecentTickets) != 0 {
		t.Errorf("empty world served %+v", got)
	}
	empty.AddTickets(3)
	if len(empty.Open()) != 3 {
		t.Errorf("AddTickets on an empty world: %d open", len(empty.Open()))
	}
}

func TestSetStateFollowsTheSource(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 12, Tickets: 300, Username: "boss"})
	base := mount(t, srv)
	tk := srv.Open()[5]
	id := tk.ID
	q := "i=" + strconv.FormatInt(id, 10)
	n := len(srv.Open())

	steps := []struct {
		state      int
		by         string
		inOpen     bool
		resolvedBy string // "" = ResolvedAt/By/ULID null
	}{
		{StateResolved, "fixer", false, "fixer"},
		{StateOpen, "fixer", true, ""},       // reopen clears
		{StateQuarantined, "mod", false, ""}, // quarantine does not stamp
		{StateRequest, "mod", true, ""},      // back to the reporter: open list
		{StateClosed, "", false, "boss"},     // empty by = Options.Username
		{StateQuarantined, "mod", false, ""}, // leaving Closed clears
		{StateResolved, "fixer", false, "fixer"},
		{5, "x", false, ""}, // an unknown state is not "resolved"
	}
	for i, st := range steps {
		srv.SetState(id, st.state, st.by)
		got := decode[servedTicket](t, get(t, base, q))
		if got.ReportState != st.state {
			t.Fatalf("step %d: state %d, want %d", i, got.ReportState, st.state)
		}
		inOpen := slices.Contains(ids(srv.Open()), id)
		if inOpen != st.inOpen {
			t.Errorf("step %d (state %d): in open list = %v", i, st.state, inOpen)
		}
		wantOpen := n - 1
		if st.inOpen {
			wantOpen = n
		}
		if b := decode[listBody](t, get(t, base, "c=0")); b.OpenTickets != wantOpen {
			t.Errorf("step %d: OpenTickets = %d, want %d", i, b.OpenTickets, wantOpen)
		}
		if st.resolvedBy == "" {
			if got.ResolvedAt != nil || got.ResolvedBy != nil || got.ResolvedByULID != nil {
				t.Errorf("step %d (state %d): resolver fields not null: %v %v", i, st.state, got.ResolvedAt, got.ResolvedBy)
			}
			continue
		}
		if got.ResolvedBy == nil || *got.ResolvedBy != st.resolvedBy || got.ResolvedByULID == nil || *got.ResolvedByULID != ULIDFor(st.resolvedBy) {
			t.Errorf("step %d: resolver %v / %v, want %s", i, got.ResolvedBy, got.ResolvedByULID, st.resolvedBy)
		}
		if got.ResolvedAt == nil || *got.ResolvedAt < tk.ReportedAt.Format(timeLayout) {
			t.Errorf("step %d: ResolvedAt %v before ReportedAt %v", i, got.ResolvedAt, tk.ReportedAt)
		}
	}
	srv.SetState(424242, StateResolved, "x") // unknown: ignored
	checkOpenInvariant(t, srv)
}

func TestAddTickets(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 13, Tickets: 300})
	before := srv.All()
	maxID, newest := int64(0), time.Time{}
	for _, tk := range before {
		maxID = max(maxID, tk.ID)
		if tk.ReportedAt.After(newest) {
			newest = tk.ReportedAt
		}
	}
	added := srv.AddTickets(4)
	if len(added) != 4 {
		t.Fatalf("AddTickets returned %v", added)
	}
	open := srv.Open()
	for i, id := range added {
		tk, ok := srv.Get(id)
		if !ok || id <= maxID || !tk.ReportedAt.After(newest) || !tk.Promoted || (tk.ReportState != StateOpen && tk.ReportState != StateRequest) {
			t.Errorf("added ticket %d: %+v", id, tk)
		}
		if open[len(added)-1-i].ID != id {
			t.Errorf("added ticket %d not at the top of the list", id)
		}
		maxID = id
	}
	if len(srv.All()) != len(before)+4 {
		t.Errorf("All has %d tickets, want %d", len(srv.All()), len(before)+4)
	}
}

func TestDeleteAndPut(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 14, Tickets: 300})
	base := mount(t, srv)
	victim := srv.Open()[0]
	srv.Delete(victim.ID)
	got, ok := srv.Get(victim.ID)
	if !ok || !got.Deleted {
		t.Fatalf("Get after Delete = %+v, %v", got, ok)
	}
	if slices.Contains(ids(srv.Open()), victim.ID) {
		t.Error("deleted ticket still in the open list")
	}
	g := decode[gameBody](t, get(t, base, "g="+strconv.FormatInt(victim.GameID, 10)+"&d=1&c=100"))
	if slices.Contains(servedIDs(g.Tickets), victim.ID) {
		t.Error("deleted ticket still in game mode")
	}

	// Put of an existing ID replaces it; a caller's later edits do not leak in.
	victim.Deleted = false
	victim.ReportNotes = "replaced"
	hc := 0
	victim.Hardcore = &hc
	srv.Put(victim)
	hc = 1
	again, _ := srv.Get(victim.ID)
	if again.ReportNotes != "replaced" || again.Hardcore == nil || *again.Hardcore != 0 || srv.Open()[0].ID != victim.ID {
		t.Errorf("Put did not restore the ticket: %+v", again)
	}
	*again.Hardcore = 7
	if x, _ := srv.Get(victim.ID); *x.Hardcore != 0 {
		t.Error("Get returned shared pointers")
	}
	// A new game becomes known to g= through Put.
	srv.Put(Ticket{ID: 5, GameID: 4242, GameTitle: "New Game", ConsoleName: "Arcade", Promoted: true,
		ReportedAt: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), ReportState: StateResolved})
	if gb := decode[gameBody](t, get(t, base, "g=4242&d=1")); gb.GameTitle != "New Game" || len(gb.Tickets) != 1 || gb.OpenTickets != 1 {
		t.Errorf("new game: %+v", gb)
	}
	checkOpenInvariant(t, srv)
}

func TestChurnKeepsIndexesConsistent(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 15, Tickets: 800})
	before := srv.All()
	rng := rand.New(rand.NewSource(1))
	for range 10 {
		srv.Churn(rng, 100)
		checkOpenInvariant(t, srv)
	}
	after := srv.All()
	if len(after) <= len(before) {
		t.Error("churn added no tickets")
	}
	changed := map[int]int{}
	old := map[int64]Ticket{}
	for _, tk := range before {
		old[tk.ID] = tk
	}
	for _, tk := range after {
		if o, ok := old[tk.ID]; ok && o.ReportState != tk.ReportState {
			changed[tk.ReportState]++
		}
	}
	for _, st := range []int{StateOpen, StateClosed, StateResolved, StateQuarantined, StateRequest} {
		if changed[st] == 0 {
			t.Errorf("churn moved no ticket to state %d (%v)", st, changed)
		}
	}
}

func TestGeneratedWorldVariety(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 3000})
	all := srv.All()
	has := map[string]bool{}
	consoles := map[string]bool{}
	oldest, newest := all[0].ReportedAt, all[0].ReportedAt
	gaps := 0
	for i, tk := range all {
		consoles[tk.ConsoleName] = true
		if tk.ReportedAt.Before(oldest) {
			oldest = tk.ReportedAt
		}
		if tk.ReportedAt.After(newest) {
			newest = tk.ReportedAt
		}
		if i > 0 && tk.ID > all[i-1].ID+1 {
			gaps++
		}
		has["type"+strconv.Itoa(tk.ReportType)] = true
		has["state"+strconv.Itoa(tk.ReportState)] = true
		switch {
		case tk.Hardcore == nil:
			has["hardcore null"] = true
		default:
			has["hardcore"+strconv.Itoa(*tk.Hardcore)] = true
		}
		if tk.AchievementType == nil {
			has["achtype null"] = true
		} else {
			has["achtype "+*tk.AchievementType] = true
		}
		if !tk.Promoted {
			has["unofficial"] = true
		}
		if tk.ResolvedAt != nil && tk.ResolvedBy == nil {
			has["resolver null"] = true
		}
		if (tk.ResolvedAt != nil) != (tk.ReportState == StateResolved || tk.ReportState == StateClosed) {
			t.Errorf("ticket %d: state %d with ResolvedAt %v", tk.ID, tk.ReportState, tk.ResolvedAt)
		}
		if tk.ResolvedAt != nil && tk.ResolvedAt.Before(tk.ReportedAt) {
			t.Errorf("ticket %d resolved before it was reported", tk.ID)
		}
		n := tk.ReportNotes
		for name, sub := range map[string]string{"hash": "\nRetroAchievements Hash: ", "md5": "MD5: ",
			"br": "<br", "literal nl": `\nRetroAchievements`, "emulator": "\nEmulator: RALibRetro (",
			"version": "\nEmulator Version: ", "used": "Emulator used: "} {
			if strings.Contains(n, sub) {
				has["notes "+name] = true
			}
		}
		if !strings.Contains(n, "Hash: ") && !strings.Contains(n, "MD5: ") {
			has["notes plain"] = true
		}
		for _, r := range n {
			switch {
			case r > 0xFFFF:
				has["notes emoji"] = true
			case unicode.Is(unicode.Arabic, r) || unicode.Is(unicode.Hebrew, r):
				has["notes rtl"] = true
			case r == '"':
				has["notes quote"] = true
			case r == '\\':
				has["notes backslash"] = true
			}
		}
		for _, p := range []string{"~Homebrew~ ", "~Hack~ "} {
			if strings.HasPrefix(tk.GameTitle, p) {
				has["title "+p] = true
			}
		}
		for _, r := range tk.GameTitle {
			if unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) {
				has["title japanese"] = true
			}
		}
		if tk.AchievementAuthorULID != ULIDFor(tk.AchievementAuthor) || tk.ReportedByULID != ULIDFor(tk.ReportedBy) {
			t.Errorf("ticket %d: ULIDs do not match their users", tk.ID)
		}
	}
	for _, want := range []string{"type1", "type2", "type3", "state0", "state1", "state2", "state3", "state4", "state5",
		"hardcore null", "hardcore0", "hardcore1", "achtype null", "achtype progression", "achtype win_condition",
		"achtype missable", "unofficial", "resolver null", "notes hash", "notes md5", "notes br", "notes literal nl",
		"notes emulator", "notes version", "notes used", "notes plain", "notes emoji", "notes rtl", "notes quote",
		"notes backslash", "title ~Homebrew~ ", "title ~Hack~ ", "title japanese"} {
		if !has[want] {
			t.Errorf("generated world lacks %q", want)
		}
	}
	if len(consoles) < 15 || !consoles["Mega Drive"] || !consoles["SNES/Super Famicom"] {
		t.Errorf("consoles: %v", consoles)
	}
	if newest.Sub(oldest) < 4*365*24*time.Hour {
		t.Errorf("ReportedAt spans only %v", newest.Sub(oldest))
	}
	if gaps == 0 {
		t.Error("no ID gaps: missing IDs are untested")
	}
}

func TestULIDFor(t *testing.T) {
	t.Parallel()
	a, b := ULIDFor("alice"), ULIDFor("bob")
	if a != ULIDFor("alice") || a == b {
		t.Fatalf("ULIDFor not stable or not distinct: %s %s", a, b)
	}
	for _, u := range []string{a, b, ULIDFor("")} {
		if len(u) != 26 || !strings.HasPrefix(u, "01") || strings.Trim(u, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
			t.Errorf("malformed ULID %q", u)
		}
	}
}

func TestPHPInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int64
	}{
		{"", 0}, {"10", 10}, {"-3", -3}, {"+4", 4}, {"  12", 12}, {"\t7x", 7}, {"abc", 0}, {"1e2", 100},
		{"2.9", 2}, {"-2.9", -2}, {"1e", 1}, {"0x1A", 0}, {"99999999999999999999", 9223372036854775807},
		{"-99999999999999999999", -9223372036854775808}, {"1e400", 0}, {".5", 0}, {"-", 0},
	}
	for _, tt := range tests {
		if got := phpInt(tt.in); got != tt.want {
			t.Errorf("phpInt(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
