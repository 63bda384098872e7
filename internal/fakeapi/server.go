package fakeapi

import (
	"bytes"
	"cmp"
	"context"
	"maps"
	"math"
	"math/rand"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a simulated world.
type Options struct {
	// Seed drives the world generator: the same Options give the same world.
	Seed int64
	// Tickets is how many tickets are generated at start (default 1000).
	Tickets int
	// Empty starts with no tickets (games and users still exist, so
	// AddTickets and Churn work).
	Empty bool
	// OpenShare is the share of generated tickets that are Open or Request
	// (default 0.6).
	OpenShare float64
	// Username acts for SetState with an empty "by" (default "demo").
	// Requests are authenticated by the key alone, as on the site.
	Username string
	// APIKey is the only key (y=, X-API-Key) accepted (default
	// "fake-api-key"); any other answers 401.
	APIKey string
	// Start is the newest generated ReportedAt (default 2024-06-01 UTC);
	// older tickets go back about six years from it.
	Start time.Time
	// Latency delays every API request (SetLatency changes it).
	Latency time.Duration
	// DisableV2 makes /api/v2/... answer 404, as a site without it would.
	DisableV2 bool
}

// Server is the simulated API: an http.Handler serving one world at
// /API/API_GetTicketData(.php) and /api/v2/tickets (mount it under a prefix
// with http.StripPrefix). All methods are safe for concurrent use.
type Server struct {
	opts Options
	cat  *catalogue

	mu      sync.RWMutex
	tickets map[int64]*entry
	ids     []int64                    // every ID ever stored, in insertion order (for Churn)
	byID    []int64                    // every stored ID, ascending (All, v2's sort=id)
	open    []*entry                   // the open list, sorted by served()
	byGame  map[int64]map[int64]*entry // what g= lists: a 200k-ticket world must not be scanned per request
	games   map[int64]gameInfo
	maxID   int64
	clock   int64 // simulated now, Unix seconds; never behind any stored time
	rng     *rand.Rand
	lbRNG   *rand.Rand // leaderboard tickets' own stream

	latency atomic.Int64 // time.Duration
	hook    atomic.Pointer[func(*http.Request)]

	ctl       sync.Mutex
	faults    []Fault
	faultRate float64
	faultRNG  *rand.Rand
	counts    map[string]int
}

type gameInfo struct{ title, console, icon string }

// New builds the world described by opts.
func New(opts Options) *Server {
	opts.Tickets = cmp.Or(max(opts.Tickets, 0), 1000)
	if opts.OpenShare <= 0 || opts.OpenShare > 1 {
		opts.OpenShare = 0.6
	}
	opts.Username = cmp.Or(opts.Username, "demo")
	opts.APIKey = cmp.Or(opts.APIKey, "fake-api-key")
	if opts.Start.IsZero() {
		opts.Start = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	opts.Start = opts.Start.UTC().Truncate(time.Second)

	rng := rand.New(rand.NewSource(opts.Seed))
	s := &Server{
		opts:    opts,
		cat:     newCatalogue(rng, opts.Tickets),
		tickets: make(map[int64]*entry, opts.Tickets),
		byGame:  map[int64]map[int64]*entry{},
		games:   map[int64]gameInfo{},
		clock:   opts.Start.Unix(),
		counts:  map[string]int{},
	}
	s.latency.Store(int64(opts.Latency))
	for _, g := range s.cat.games {
		s.games[g.id] = gameInfo{g.title, consoles[g.console].name, g.icon}
	}
	if !opts.Empty {
		gen := s.cat.generateTickets(rng, opts.Tickets, opts.OpenShare, opts.Start)
		for _, t := range gen {
			s.putLocked(t, true)
		}
		slices.SortFunc(s.open, served)
	}
	// Later events draw from their own stream so they do not depend on how
	// much randomness generation happened to consume.
	s.rng = rand.New(rand.NewSource(opts.Seed ^ 0x5eed))
	s.addLeaderboardTickets()
	return s
}

// SetHook sets a function called at the start of every authenticated API
// request, without any lock held, so it may change the world.
func (s *Server) SetHook(h func(r *http.Request)) { s.hook.Store(&h) }

func (s *Server) callHook(r *http.Request) {
	if h := s.hook.Load(); h != nil && *h != nil {
		(*h)(r)
	}
}

// SetLatency sets the delay added to every API request.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// Requests counts API requests by mode ("list", "ticket", "game",
// "most_reported", "unauthorized", "v2_list", "v2_ticket", "v2_unauthorized",
// "v2_disabled") and injected faults ("fault"; slow or truncated answers
// also count under their mode).
func (s *Server) Requests() map[string]int {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return maps.Clone(s.counts)
}

func (s *Server) count(mode string) {
	s.ctl.Lock()
	s.counts[mode]++
	s.ctl.Unlock()
}

// response is a computed answer, written whole or cut short by a fault.
type response struct {
	status      int
	contentType string
	body        []byte
}

func jsonResponse(status int, body []byte) response {
	return response{status: status, contentType: "application/json", body: body}
}

func notFound(what string, id int64) response {
	return jsonResponse(http.StatusNotFound, phpJSON(object{{"error", what + " ID " + strconv.FormatInt(id, 10) + " not found"}}))
}

// serverError is Laravel's answer to an exception, such as the one a
// negative c causes (limit() ignores it, and MySQL rejects OFFSET alone).
func serverError() response {
	return jsonResponse(http.StatusInternalServerError, []byte(`{"message":"Server Error"}`))
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	respond := s.respond
	switch {
	case r.URL.Path == v2Prefix || strings.HasPrefix(r.URL.Path, v2Prefix+"/"):
		if s.opts.DisableV2 {
			s.count("v2_disabled")
			write(w, r, v2Error(http.StatusNotFound, "Not Found", ""), false)
			return
		}
		respond = s.respondV2
	case r.URL.Path != "/API/API_GetTicketData.php" && r.URL.Path != "/API/API_GetTicketData":
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	f, faulted := s.nextFault()
	if faulted {
		s.count("fault")
		if done := s.applyFault(w, r, f); done {
			return
		}
	}
	if !sleepCtx(r.Context(), time.Duration(s.latency.Load())) {
		return
	}
	write(w, r, respond(r), faulted && f.Kind == FaultTruncated)
}

// write sends resp; truncated, only half the body under the full
// Content-Length, so net/http closes the connection.
func write(w http.ResponseWriter, r *http.Request, resp response, truncated bool) {
	w.Header().Set("Content-Type", resp.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	switch {
	case r.Method == http.MethodHead:
	case truncated:
		_, _ = w.Write(resp.body[:len(resp.body)/2])
		_ = http.NewResponseController(w).Flush()
	default:
		_, _ = w.Write(resp.body)
	}
}

// respond authenticates and dispatches on the query the way
// API_GetTicketData.php does: i (ticket) first, then f=1 (most reported
// games), then g (game), else the open list. The u= and a= modes of the
// real endpoint are not simulated and fall through to the open list.
func (s *Server) respond(r *http.Request) response {
	q := r.URL.Query()
	if param(q, "y") != s.opts.APIKey {
		s.count("unauthorized")
		return jsonResponse(http.StatusUnauthorized, []byte(`{"message":"Unauthenticated."}`))
	}
	s.callHook(r)

	// $count = min((int) query('c', '10'), 100); $offset = (int) query('o').
	count := int64(10)
	if q.Has("c") {
		count = phpInt(param(q, "c"))
	}
	count = min(count, 100)
	offset := max(phpInt(param(q, "o")), 0) // Laravel's offset() clamps at 0

	if i := phpInt(param(q, "i")); i > 0 {
		s.count("ticket")
		return s.ticketResponse(i)
	}
	flag := phpInt(param(q, "f"))
	if flag == 1 {
		s.count("most_reported")
		return s.mostReportedResponse(count)
	}
	if g := phpInt(param(q, "g")); g > 0 {
		s.count("game")
		return s.gameResponse(g, flag == 5, phpInt(param(q, "d")) == 1, offset, count)
	}
	s.count("list")
	return s.listResponse(offset, count)
}

// page returns at most count items of list from offset.
func page[T any](list []T, offset, count int64) []T {
	lo := min(offset, int64(len(list)))
	hi := min(lo+count, int64(len(list)))
	return list[lo:hi]
}

func (s *Server) listResponse(offset, count int64) response {
	if count < 0 {
		return serverError()
	}
	s.mu.RLock()
	total := len(s.open)
	list := slices.Clone(page(s.open, offset, count))
	s.mu.RUnlock()

	head := object{{"OpenTickets", total}, {"URL", siteURL + "/tickets"}}
	return jsonResponse(http.StatusOK, withArray(phpJSON(head), "RecentTickets", list))
}

// withArray appends ,"key":[elements] to a rendered JSON object.
func withArray(head []byte, key string, list []*entry) []byte {
	elems := make([][]byte, len(list))
	for i, e := range list {
		elems[i] = e.listBytes()
	}
	return slices.Concat(head[:len(head)-1], []byte(`,"`+key+`":[`), bytes.Join(elems, []byte{','}), []byte("]}"))
}

func (s *Server) ticketResponse(id int64) response {
	e := s.entry(id)
	switch {
	case e == nil || e.t.Deleted || e.t.LeaderboardID != 0: // v1 knows no leaderboard tickets
		return notFound("Ticket", id)
	case e.raw != nil:
		return jsonResponse(http.StatusOK, e.raw)
	}
	return jsonResponse(http.StatusOK, renderV1(&e.t, true))
}

// gameResponse follows the source: Ticket::forGame($game) on promoted (or,
// f=5, unofficial) achievements, every state, ReportedAt desc, paged with
// o/c. "OpenTickets" is that query's count(), so not only open ones;
// "Tickets" comes only with d=1.
func (s *Server) gameResponse(gameID int64, unofficial, details bool, offset, count int64) response {
	s.mu.RLock()
	g, ok := s.games[gameID]
	var list []*entry
	for _, e := range s.byGame[gameID] {
		if e.t.Promoted != unofficial {
			list = append(list, e)
		}
	}
	s.mu.RUnlock()
	if !ok {
		return notFound("Game", gameID)
	}
	head := phpJSON(object{{"GameID", gameID}, {"GameTitle", g.title}, {"ConsoleName", g.console},
		{"OpenTickets", len(list)}, {"URL", siteURL + "/game/" + strconv.FormatInt(gameID, 10) + "/tickets"}})
	if !details {
		return jsonResponse(http.StatusOK, head)
	}
	if count < 0 {
		return serverError()
	}
	slices.SortFunc(list, served)
	return jsonResponse(http.StatusOK, withArray(head, "Tickets", page(list, offset, count)))
}

// mostReportedResponse is gamesSortedByOpenTickets($count): open and request
// tickets of promoted achievements grouped by game, most first (a count
// below 1 means 20; there is no offset).
func (s *Server) mostReportedResponse(count int64) response {
	if count < 1 {
		count = 20
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	open := map[int64]int{}
	for _, e := range s.open {
		if e.raw == nil {
			open[e.t.GameID]++
		}
	}
	ids := slices.SortedFunc(maps.Keys(open), func(a, b int64) int {
		return cmp.Or(cmp.Compare(open[b], open[a]), cmp.Compare(a, b))
	})
	games := make([]object, 0, len(ids))
	for _, id := range page(ids, 0, count) {
		g := s.games[id]
		games = append(games, object{{"GameID", id}, {"GameTitle", g.title}, {"GameIcon", g.icon},
			{"Console", g.console}, {"OpenTickets", open[id]}})
	}
	doc := object{{"MostReportedGames", games}, {"URL", siteURL + "/manage/most-reported-games"}}
	return jsonResponse(http.StatusOK, phpJSON(doc))
}

// param returns the last value of key, as PHP keeps the last of repeated
// query parameters.
func param(q url.Values, key string) string {
	if v := q[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// phpNumber is the numeric prefix PHP's (int) cast reads: leading
// whitespace, an optional sign and digits, an optional fraction or exponent.
var phpNumber = regexp.MustCompile(`^[ \t\n\r\v\f]*([+-]?[0-9]+)(\.[0-9]*)?([eE][+-]?[0-9]+)?`)

// phpInt is PHP's (int) cast of a query string: that prefix, truncated if
// a float; unparsable is 0 and integer overflow saturates.
func phpInt(s string) int64 {
	m := phpNumber.FindStringSubmatch(s)
	switch {
	case m == nil:
		return 0
	case m[2] != "" || m[3] != "":
		f, err := strconv.ParseFloat(m[1]+m[2]+m[3], 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f >= math.MaxInt64 || f <= math.MinInt64 {
			return 0 // PHP 8 casts out-of-range floats unpredictably; 0 is safe
		}
		return int64(f)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64) // out of range: saturated
	return n
}

// sleepCtx waits d, returning false if ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}
