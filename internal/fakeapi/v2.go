package fakeapi

import (
	"cmp"
	"fmt"
	"math/rand"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The v2 API: the JSON:API resource /api/v2/tickets (a collection) and
// /api/v2/tickets/{id}, served from the same world as v1, with the faults,
// latency and hook of every request. What it adds to the world is the
// leaderboard tickets, which v1 never shows.
//
// Visibility follows the site's source for an ordinary key: every ticket but
// the quarantined and the (soft-)deleted ones. Unlike v1's open list it also
// shows tickets of unofficial achievements. PutRaw objects are v1 fixtures
// and are not served by v2.
//
// Leaderboard tickets are made from their own random stream, in ID gaps the
// v1 generator leaves (v1 answers 404 for those IDs either way), so a seed's
// v1 answers are the same as before they existed.

// Leaderboard ticket types. They have no legacy code on the site; these
// simulator-only codes stand for them in Ticket.ReportType.
const (
	TypeLeaderboardDidNotStart = 101 + iota
	TypeLeaderboardDidNotCancel
	TypeLeaderboardDidNotSubmit
	TypeLeaderboardSubmittedWrongValue
)

// v2TimeLayout is how the v2 API prints times (ISO 8601, UTC, microseconds).
const v2TimeLayout = "2006-01-02T15:04:05.000000Z"

// mediaURL is the origin of gameIconUrl.
const mediaURL = "https://media.retroachievements.org"

const (
	v2Prefix     = "/api/v2/tickets"
	v2MaxPage    = 100
	v2DefaultPer = 25
	// lbGapShare is the share of v1's missing IDs that hold a leaderboard
	// ticket (the rest stay missing for both APIs).
	lbGapShare = 0.35
)

var lbTitles = []string{"Fastest Time", "High Score", "Any% Speedrun", "Boss Rush Time", "Most Coins",
	"Time Attack: Stage 1", "Lowest Score", "Longest Combo", "Survival Mode", "100% Time", "Ghost Race"}

func isV2Path(p string) bool { return p == v2Prefix || strings.HasPrefix(p, v2Prefix+"/") }

// SetV2 turns the v2 API on or off (off: every /api/v2 path answers 404).
func (s *Server) SetV2(enabled bool) {
	s.ctl.Lock()
	s.v2Off = !enabled
	s.ctl.Unlock()
}

func (s *Server) v2Enabled() bool {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return !s.v2Off
}

// addID records a new ID in byID. Bulk additions append (ascending IDs
// from the generator) and New sorts once at the end.
func (s *Server) addID(id int64, bulk bool) {
	if bulk || len(s.byID) == 0 || s.byID[len(s.byID)-1] < id {
		s.byID = append(s.byID, id)
		return
	}
	i, found := slices.BinarySearch(s.byID, id)
	if !found {
		s.byID = slices.Insert(s.byID, i, id)
	}
}

// leaderboard returns the leaderboard with index k of game g: IDs and titles
// derive from the game's place in the catalogue, so nothing is stored.
func (s *Server) leaderboard(gi, k int) (id int64, title, author string) {
	n := gi*8 + k
	return 50000 + int64(n), lbTitles[n%len(lbTitles)], s.cat.devs[n%len(s.cat.devs)]
}

// newLeaderboardTicket builds a leaderboard ticket from rng.
func (s *Server) newLeaderboardTicket(rng *rand.Rand, id int64, at time.Time, open bool, limit time.Time) Ticket {
	x := rng.Float64()
	gi := int(x * x * float64(len(s.cat.games)))
	g := s.cat.games[gi]
	lbID, title, author := s.leaderboard(gi, rng.Intn(5))
	con := consoles[g.console]
	reporter := s.cat.randomReporter(rng)
	t := Ticket{
		ID: id, LeaderboardID: lbID, LeaderboardTitle: title,
		AchievementAuthor: author, AchievementAuthorULID: s.cat.ulid(author),
		GameID: g.id, ConsoleName: con.name, GameTitle: g.title, GameIcon: g.icon,
		ReportedAt: at, ReportType: TypeLeaderboardDidNotStart + rng.Intn(4),
		ReportNotes: reportNotes(rng, con), ReportedBy: reporter, ReportedByULID: s.cat.ulid(reporter),
		Promoted: true,
	}
	if r := rng.Float64(); r < 0.5 {
		t.Hardcore = intPtr(1)
	} else if r < 0.8 {
		t.Hardcore = intPtr(0)
	}
	if open {
		t.ReportState = StateOpen
		if rng.Float64() < 0.12 {
			t.ReportState = StateRequest
		}
		return t
	}
	switch x := rng.Float64(); {
	case x < 0.65:
		t.ReportState = StateResolved
	case x < 0.93:
		t.ReportState = StateClosed
	default:
		t.ReportState = StateQuarantined
	}
	if isResolvedState(t.ReportState) {
		r := at.Add(time.Duration(rng.Int63n(200*24*3600)) * time.Second)
		if r.After(limit) {
			r = limit
		}
		by := author
		if rng.Intn(3) == 0 {
			by = s.cat.randomDev(rng)
		}
		ulid := s.cat.ulid(by)
		t.ResolvedAt, t.ResolvedBy, t.ResolvedByULID = &r, &by, &ulid
	}
	return t
}

// addLeaderboardTickets fills some of the generated world's ID gaps with
// leaderboard tickets, from their own stream; New calls it once.
func (s *Server) addLeaderboardTickets() {
	s.lbRNG = rand.New(rand.NewSource(s.opts.Seed ^ 0x1eade7b0a7d))
	rng := s.lbRNG
	ids := slices.Clone(s.byID)
	for i := 1; i < len(ids); i++ {
		a, b := s.tickets[ids[i-1]], s.tickets[ids[i]]
		for id := ids[i-1] + 1; id < ids[i]; id++ {
			if rng.Float64() >= lbGapShare {
				continue
			}
			at := a.t.ReportedAt
			if span := b.at - a.at; span > 0 {
				at = at.Add(time.Duration(rng.Int63n(span)) * time.Second)
			}
			s.putLocked(s.newLeaderboardTicket(rng, id, at, rng.Float64() < s.opts.OpenShare, s.opts.Start), true)
		}
	}
	slices.Sort(s.byID)
}

// AddLeaderboardTickets adds n new open leaderboard tickets, reported later
// than anything in the world, with IDs above the current maximum, and
// returns their IDs.
func (s *Server) AddLeaderboardTickets(n int) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, n)
	for range n {
		id := s.maxID + 1
		at := s.tick(s.lbRNG, 300)
		s.putLocked(s.newLeaderboardTicket(s.lbRNG, id, at, true, at), false)
		out = append(out, id)
	}
	return out
}

// churnLeaderboardsLocked moves about one leaderboard ticket per 20 events,
// drawing from the leaderboard stream and stamping resolutions with the
// current clock without advancing it, so v1's churn is unchanged.
func (s *Server) churnLeaderboardsLocked(n int) {
	rng := s.lbRNG
	lb := s.leaderboardIDsLocked()
	if len(lb) == 0 {
		return
	}
	for range (n + 19) / 20 {
		e := s.tickets[lb[rng.Intn(len(lb))]]
		if e.t.Deleted {
			continue
		}
		t := e.t.clone()
		was := isResolvedState(t.ReportState)
		switch x := rng.Float64(); {
		case isOpenState(t.ReportState) && x < 0.6:
			t.ReportState = StateResolved
		case isOpenState(t.ReportState) && x < 0.8:
			t.ReportState = StateQuarantined
		case isOpenState(t.ReportState):
			t.ReportState = StateClosed
		default:
			t.ReportState = StateOpen
		}
		switch {
		case isResolvedState(t.ReportState):
			now := time.Unix(s.clock, 0).UTC()
			by := s.cat.randomDev(rng)
			ulid := ULIDFor(by)
			t.ResolvedAt, t.ResolvedBy, t.ResolvedByULID = &now, &by, &ulid
		case was:
			t.ResolvedAt, t.ResolvedBy, t.ResolvedByULID = nil, nil, nil
		}
		s.putLocked(t, false)
	}
}

func (s *Server) leaderboardIDsLocked() []int64 {
	var out []int64
	for _, id := range s.byID {
		if e := s.tickets[id]; e != nil && e.raw == nil && e.t.LeaderboardID != 0 {
			out = append(out, id)
		}
	}
	return out
}

// AllV2 returns every ticket of the world, leaderboard tickets included
// (deleted ones too, PutRaw objects not), by ID ascending.
func (s *Server) AllV2() []Ticket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Ticket, 0, len(s.byID))
	for _, id := range s.byID {
		if e := s.tickets[id]; e != nil && e.raw == nil {
			out = append(out, e.t.clone())
		}
	}
	return out
}

// VisibleV2 reports whether the v2 API shows t to an ordinary key.
func VisibleV2(t Ticket) bool { return !t.Deleted && t.ReportState != StateQuarantined }

func (e *entry) visibleV2() bool { return e.raw == nil && VisibleV2(e.t) }

// V2State is the v2 name of a legacy state code.
func V2State(code int) string {
	switch code {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateResolved:
		return "resolved"
	case StateRequest:
		return "request"
	case StateQuarantined:
		return "quarantined"
	}
	return "unknown_" + strconv.Itoa(code)
}

// V2Type is the v2 name of a ticket's type code (legacy or TypeLeaderboard*).
func V2Type(code int) string {
	switch code {
	case TypeTriggeredAtWrongTime:
		return "triggered_at_wrong_time"
	case TypeDidNotTrigger:
		return "did_not_trigger"
	case TypeLeaderboardDidNotStart:
		return "did_not_start"
	case TypeLeaderboardDidNotCancel:
		return "did_not_cancel"
	case TypeLeaderboardDidNotSubmit:
		return "did_not_submit"
	case TypeLeaderboardSubmittedWrongValue:
		return "submitted_wrong_value"
	}
	return "unknown_" + strconv.Itoa(code)
}

var v2States = map[string]bool{"open": true, "request": true, "resolved": true, "closed": true, "quarantined": true}

var v2Types = map[string]bool{"triggered_at_wrong_time": true, "did_not_trigger": true, "did_not_start": true,
	"did_not_cancel": true, "did_not_submit": true, "submitted_wrong_value": true}

// The JSON:API documents, fields in the order the site sends them.
type v2Attributes struct {
	State               string  `json:"state"`
	Type                string  `json:"type"`
	Body                string  `json:"body"`
	Hardcore            *bool   `json:"hardcore"`
	ReportedAt          string  `json:"reportedAt"`
	ResolvedAt          *string `json:"resolvedAt"`
	TicketableType      string  `json:"ticketableType"`
	TicketableID        int64   `json:"ticketableId"`
	TicketableTitle     string  `json:"ticketableTitle"`
	GameID              *int64  `json:"gameId"`
	GameTitle           *string `json:"gameTitle"`
	GameIconURL         *string `json:"gameIconUrl"`
	SystemName          *string `json:"systemName"`
	ReporterDisplayName *string `json:"reporterDisplayName"`
	ResolverDisplayName *string `json:"resolverDisplayName"`
	AuthorDisplayName   *string `json:"authorDisplayName"`
}

type v2ResourceLinks struct {
	Self   string `json:"self"`
	WebURL string `json:"webUrl"`
}

type v2Resource struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Attributes v2Attributes    `json:"attributes"`
	Links      v2ResourceLinks `json:"links"`
}

type v2PageMeta struct {
	CurrentPage int  `json:"currentPage"`
	From        *int `json:"from"`
	LastPage    int  `json:"lastPage"`
	PerPage     int  `json:"perPage"`
	To          *int `json:"to"`
	Total       int  `json:"total"`
}

type v2Meta struct {
	Page v2PageMeta `json:"page"`
}

type v2JSONAPI struct {
	Version string `json:"version"`
}

type v2Links struct {
	First string `json:"first"`
	Last  string `json:"last"`
	Prev  string `json:"prev,omitempty"`
	Next  string `json:"next,omitempty"`
}

type v2Collection struct {
	Meta    v2Meta       `json:"meta"`
	JSONAPI v2JSONAPI    `json:"jsonapi"`
	Links   v2Links      `json:"links"`
	Data    []v2Resource `json:"data"`
}

type v2Single struct {
	JSONAPI v2JSONAPI `json:"jsonapi"`
	Links   struct {
		Self string `json:"self"`
	} `json:"links"`
	Data v2Resource `json:"data"`
}

type v2ErrorItem struct {
	Status string `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

type v2Errors struct {
	JSONAPI v2JSONAPI     `json:"jsonapi"`
	Errors  []v2ErrorItem `json:"errors"`
}

const v2ContentType = "application/vnd.api+json"

func v2Error(status int, title, detail string) response {
	return response{status: status, contentType: v2ContentType, body: phpJSON(v2Errors{
		JSONAPI: v2JSONAPI{"1.0"},
		Errors:  []v2ErrorItem{{Status: strconv.Itoa(status), Title: title, Detail: detail}},
	})}
}

func badRequest(format string, a ...any) response {
	return v2Error(http.StatusBadRequest, "Invalid Query Parameter", fmt.Sprintf(format, a...))
}

// writeV2 writes a response that no fault touches (v2 switched off).
func writeV2(w http.ResponseWriter, r *http.Request, resp response) {
	w.Header().Set("Content-Type", resp.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
}

func strPtr(s string) *string { return &s }

func renderV2(t *Ticket) v2Resource {
	id := strconv.FormatInt(t.ID, 10)
	a := v2Attributes{
		State:               V2State(t.ReportState),
		Type:                V2Type(t.ReportType),
		Body:                t.ReportNotes,
		ReportedAt:          t.ReportedAt.UTC().Format(v2TimeLayout),
		TicketableType:      "achievement",
		TicketableID:        t.AchievementID,
		TicketableTitle:     t.AchievementTitle,
		ResolverDisplayName: t.ResolvedBy,
	}
	if t.LeaderboardID != 0 {
		a.TicketableType, a.TicketableID, a.TicketableTitle = "leaderboard", t.LeaderboardID, t.LeaderboardTitle
	}
	if t.Hardcore != nil {
		hc := *t.Hardcore == 1
		a.Hardcore = &hc
	}
	if t.ResolvedAt != nil {
		a.ResolvedAt = strPtr(t.ResolvedAt.UTC().Format(v2TimeLayout))
	}
	if t.GameID != 0 {
		g := t.GameID
		a.GameID, a.GameTitle, a.SystemName = &g, strPtr(t.GameTitle), strPtr(t.ConsoleName)
		if t.GameIcon != "" {
			a.GameIconURL = strPtr(mediaURL + t.GameIcon)
		}
	}
	if t.ReportedBy != "" {
		a.ReporterDisplayName = strPtr(t.ReportedBy)
	}
	if t.AchievementAuthor != "" {
		a.AuthorDisplayName = strPtr(t.AchievementAuthor)
	}
	return v2Resource{Type: "tickets", ID: id, Attributes: a,
		Links: v2ResourceLinks{Self: siteURL + v2Prefix + "/" + id, WebURL: siteURL + "/tickets/" + id}}
}

// respondV2 authenticates by the X-API-Key header and answers a v2 request.
func (s *Server) respondV2(r *http.Request) response {
	if r.Header.Get("X-API-Key") != s.opts.APIKey {
		s.count("v2_unauthorized")
		return v2Error(http.StatusUnauthorized, "Unauthenticated", "")
	}
	s.ctl.Lock()
	hook := s.hook
	s.ctl.Unlock()
	if hook != nil {
		hook(r)
	}
	rest := strings.TrimPrefix(r.URL.Path, v2Prefix)
	if rest == "" || rest == "/" {
		s.count("v2_list")
		return s.v2List(r.URL.Query())
	}
	s.count("v2_ticket")
	id, err := strconv.ParseInt(strings.TrimPrefix(rest, "/"), 10, 64)
	if err != nil || id <= 0 {
		return v2Error(http.StatusNotFound, "Not Found", "")
	}
	s.mu.RLock()
	e := s.tickets[id]
	s.mu.RUnlock()
	if e == nil || !e.visibleV2() {
		return v2Error(http.StatusNotFound, "Not Found", "")
	}
	doc := v2Single{JSONAPI: v2JSONAPI{"1.0"}, Data: renderV2(&e.t)}
	doc.Links.Self = doc.Data.Links.Self
	return response{status: http.StatusOK, contentType: v2ContentType, body: phpJSON(doc)}
}

// v2Query is a parsed collection request.
type v2Query struct {
	size, number int
	sort         []sortField
	states       map[int]bool // nil: all states
	anyState     bool
	ids          []int64
	filters      []func(*Ticket) bool
}

type sortField struct {
	name string
	desc bool
}

func intList(name, v string) ([]int64, *response) {
	var out []int64
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			r := badRequest("filter[%s]: %q is not a number", name, f)
			return nil, &r
		}
		out = append(out, n)
	}
	return out, nil
}

func parseV2Query(q url.Values) (v2Query, *response) {
	out := v2Query{size: v2DefaultPer, number: 1, sort: []sortField{{"reportedAt", true}}}
	var stateVals = "open,request"
	for key := range q {
		v, _ := lastValue(q, key)
		switch {
		case key == "page[size]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > v2MaxPage {
				r := badRequest("page[size] must be an integer from 1 to %d", v2MaxPage)
				return out, &r
			}
			out.size = n
		case key == "page[number]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				r := badRequest("page[number] must be a positive integer")
				return out, &r
			}
			out.number = n
		case key == "sort":
			out.sort = nil
			for _, f := range strings.Split(v, ",") {
				sf := sortField{name: strings.TrimPrefix(f, "-"), desc: strings.HasPrefix(f, "-")}
				switch sf.name {
				case "id", "reportedAt", "resolvedAt", "state":
				default:
					r := badRequest("sort: unknown field %q", f)
					return out, &r
				}
				out.sort = append(out.sort, sf)
			}
		case key == "filter[state]":
			stateVals = v
		case key == "filter[id]":
			ids, bad := intList("id", v)
			if bad != nil {
				return out, bad
			}
			out.ids = ids
		case key == "filter[gameId]", key == "filter[achievementId]", key == "filter[leaderboardId]":
			name := strings.TrimSuffix(strings.TrimPrefix(key, "filter["), "]")
			list, bad := intList(name, v)
			if bad != nil {
				return out, bad
			}
			want := map[int64]bool{}
			for _, n := range list {
				want[n] = true
			}
			out.filters = append(out.filters, func(t *Ticket) bool {
				switch name {
				case "gameId":
					return want[t.GameID]
				case "achievementId":
					return t.LeaderboardID == 0 && want[t.AchievementID]
				}
				return t.LeaderboardID != 0 && want[t.LeaderboardID]
			})
		case key == "filter[type]":
			want := map[string]bool{}
			for _, f := range strings.Split(v, ",") {
				if !v2Types[f] {
					r := badRequest("filter[type]: unknown type %q", f)
					return out, &r
				}
				want[f] = true
			}
			out.filters = append(out.filters, func(t *Ticket) bool { return want[V2Type(t.ReportType)] })
		case key == "filter[ticketableType]":
			if v != "achievement" && v != "leaderboard" {
				r := badRequest("filter[ticketableType]: unknown value %q", v)
				return out, &r
			}
			lb := v == "leaderboard"
			out.filters = append(out.filters, func(t *Ticket) bool { return (t.LeaderboardID != 0) == lb })
		case key == "filter[reporterUserId]", key == "filter[resolverUserId]":
			want := map[string]bool{}
			for _, f := range strings.Split(v, ",") {
				want[f] = true
			}
			resolver := key == "filter[resolverUserId]"
			out.filters = append(out.filters, func(t *Ticket) bool {
				if resolver {
					return t.ResolvedByULID != nil && want[*t.ResolvedByULID]
				}
				return want[t.ReportedByULID]
			})
		case strings.HasPrefix(key, "filter["), strings.HasPrefix(key, "page["):
			r := badRequest("unknown parameter %s", key)
			return out, &r
		}
	}
	if stateVals == "all" {
		out.anyState = true
		return out, nil
	}
	out.states = map[int]bool{}
	for _, f := range strings.Split(stateVals, ",") {
		if !v2States[f] {
			r := badRequest("filter[state]: unknown state %q", f)
			return out, &r
		}
		for code := StateClosed; code <= StateQuarantined; code++ {
			if V2State(code) == f {
				out.states[code] = true
			}
		}
	}
	return out, nil
}

func (q *v2Query) match(e *entry) bool {
	if e == nil || !e.visibleV2() {
		return false
	}
	if !q.anyState && !q.states[e.t.ReportState] {
		return false
	}
	for _, f := range q.filters {
		if !f(&e.t) {
			return false
		}
	}
	return true
}

func compareBy(f sortField, a, b *entry) int {
	var c int
	switch f.name {
	case "id":
		c = cmp.Compare(a.t.ID, b.t.ID)
	case "reportedAt":
		c = cmp.Compare(a.at, b.at)
	case "state":
		c = cmp.Compare(a.t.ReportState, b.t.ReportState)
	case "resolvedAt": // NULL first, as MySQL sorts it ascending
		switch {
		case a.t.ResolvedAt == nil && b.t.ResolvedAt == nil:
		case a.t.ResolvedAt == nil:
			c = -1
		case b.t.ResolvedAt == nil:
			c = 1
		default:
			c = a.t.ResolvedAt.Compare(*b.t.ResolvedAt)
		}
	}
	if f.desc {
		c = -c
	}
	return c
}

func (s *Server) v2List(values url.Values) response {
	q, bad := parseV2Query(values)
	if bad != nil {
		return *bad
	}
	var list []*entry
	s.mu.RLock()
	switch {
	case q.ids != nil:
		seen := map[int64]bool{}
		for _, id := range q.ids {
			if e := s.tickets[id]; !seen[id] && q.match(e) {
				list = append(list, e)
			}
			seen[id] = true
		}
	default:
		for _, id := range s.byID {
			if e := s.tickets[id]; q.match(e) {
				list = append(list, e)
			}
		}
	}
	s.mu.RUnlock()
	// byID order is the final tie-break (ids are unique: a total order).
	if q.ids != nil {
		slices.SortFunc(list, func(a, b *entry) int { return cmp.Compare(a.t.ID, b.t.ID) })
	}
	if !(len(q.sort) == 1 && q.sort[0] == sortField{"id", false}) {
		sort.SliceStable(list, func(i, j int) bool {
			for _, f := range q.sort {
				if c := compareBy(f, list[i], list[j]); c != 0 {
					return c < 0
				}
			}
			return false
		})
	}

	total := len(list)
	lastPage := max(1, (total+q.size-1)/q.size)
	lo := min((q.number-1)*q.size, total)
	hi := min(lo+q.size, total)
	doc := v2Collection{JSONAPI: v2JSONAPI{"1.0"}, Data: make([]v2Resource, 0, hi-lo)}
	for _, e := range list[lo:hi] {
		doc.Data = append(doc.Data, renderV2(&e.t))
	}
	doc.Meta.Page = v2PageMeta{CurrentPage: q.number, LastPage: lastPage, PerPage: q.size, Total: total}
	if hi > lo {
		from, to := lo+1, hi
		doc.Meta.Page.From, doc.Meta.Page.To = &from, &to
	}
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range values {
			v[k] = vs
		}
		v.Set("page[number]", strconv.Itoa(n))
		v.Set("page[size]", strconv.Itoa(q.size))
		return siteURL + v2Prefix + "?" + v.Encode()
	}
	doc.Links.First, doc.Links.Last = link(1), link(lastPage)
	if q.number > 1 {
		doc.Links.Prev = link(q.number - 1)
	}
	if q.number < lastPage {
		doc.Links.Next = link(q.number + 1)
	}
	return response{status: http.StatusOK, contentType: v2ContentType, body: phpJSON(doc)}
}
