package fakeapi

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The v2 API shows an ordinary key every ticket but the quarantined and
// deleted ones, as the site's source does: leaderboard tickets and those of
// unofficial achievements too. PutRaw objects are v1 fixtures it never shows.

// Leaderboard ticket types. They have no legacy code on the site; these
// simulator-only codes stand for them in Ticket.ReportType.
const (
	TypeLeaderboardDidNotStart = 101 + iota
	TypeLeaderboardDidNotCancel
	TypeLeaderboardDidNotSubmit
	TypeLeaderboardSubmittedWrongValue
)

const (
	v2Prefix      = "/api/v2/tickets"
	v2ContentType = "application/vnd.api+json"
	v2TimeLayout  = "2006-01-02T15:04:05.000000Z" // ISO 8601, UTC, microseconds
	mediaURL      = "https://media.retroachievements.org"
	v2MaxPage     = 100
	v2DefaultPer  = 25
)

// The v2 names of the legacy state and type codes.
var (
	v2States = map[int]string{StateClosed: "closed", StateOpen: "open", StateResolved: "resolved",
		StateRequest: "request", StateQuarantined: "quarantined"}
	v2Types = map[int]string{TypeTriggeredAtWrongTime: "triggered_at_wrong_time", TypeDidNotTrigger: "did_not_trigger",
		TypeLeaderboardDidNotStart: "did_not_start", TypeLeaderboardDidNotCancel: "did_not_cancel",
		TypeLeaderboardDidNotSubmit: "did_not_submit", TypeLeaderboardSubmittedWrongValue: "submitted_wrong_value"}
)

// v2Name is the v2 name of a state or type code.
func v2Name(names map[int]string, code int) string {
	return cmp.Or(names[code], "unknown_"+strconv.Itoa(code))
}

// VisibleV2 reports whether the v2 API shows t to an ordinary key.
func VisibleV2(t Ticket) bool { return !t.Deleted && t.ReportState != StateQuarantined }

var jsonAPI = object{{"version", "1.0"}}

func v2Response(status int, doc object) response {
	return response{status: status, contentType: v2ContentType, body: phpJSON(doc)}
}

func v2Error(status int, title, detail string) response {
	item := object{{"status", strconv.Itoa(status)}, {"title", title}}
	if detail != "" {
		item = append(item, field{"detail", detail})
	}
	return v2Response(status, object{{"jsonapi", jsonAPI}, {"errors", []object{item}}})
}

// renderV2 is t as a JSON:API resource, fields in the site's order.
func renderV2(t *Ticket) object {
	id := strconv.FormatInt(t.ID, 10)
	kind, kindID, title := "achievement", t.AchievementID, t.AchievementTitle
	if t.LeaderboardID != 0 {
		kind, kindID, title = "leaderboard", t.LeaderboardID, t.LeaderboardTitle
	}
	var hardcore, resolvedAt, gameID, gameTitle, gameIcon, system any
	if t.Hardcore != nil {
		hardcore = *t.Hardcore == 1
	}
	if t.ResolvedAt != nil {
		resolvedAt = t.ResolvedAt.UTC().Format(v2TimeLayout)
	}
	if t.GameID != 0 {
		gameID, gameTitle, system = t.GameID, t.GameTitle, t.ConsoleName
		if t.GameIcon != "" {
			gameIcon = mediaURL + t.GameIcon
		}
	}
	return object{
		{"type", "tickets"},
		{"id", id},
		{"attributes", object{
			{"state", v2Name(v2States, t.ReportState)},
			{"type", v2Name(v2Types, t.ReportType)},
			{"body", t.ReportNotes},
			{"hardcore", hardcore},
			{"reportedAt", t.ReportedAt.UTC().Format(v2TimeLayout)},
			{"resolvedAt", resolvedAt},
			{"ticketableType", kind},
			{"ticketableId", kindID},
			{"ticketableTitle", title},
			{"gameId", gameID},
			{"gameTitle", gameTitle},
			{"gameIconUrl", gameIcon},
			{"systemName", system},
			{"reporterDisplayName", nullIfEmpty(t.ReportedBy)},
			{"resolverDisplayName", t.ResolvedBy},
			{"authorDisplayName", nullIfEmpty(t.AchievementAuthor)},
		}},
		{"links", object{{"self", siteURL + v2Prefix + "/" + id}, {"webUrl", siteURL + "/tickets/" + id}}},
	}
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// respondV2 authenticates by the X-API-Key header and answers a v2 request.
func (s *Server) respondV2(r *http.Request) response {
	if r.Header.Get("X-API-Key") != s.opts.APIKey {
		s.count("v2_unauthorized")
		return v2Error(http.StatusUnauthorized, "Unauthenticated", "")
	}
	s.callHook(r)
	rest := strings.TrimPrefix(r.URL.Path, v2Prefix)
	if rest == "" || rest == "/" {
		s.count("v2_list")
		return s.v2List(r.URL.Query())
	}
	s.count("v2_ticket")
	id, err := strconv.ParseInt(strings.TrimPrefix(rest, "/"), 10, 64)
	e := s.entry(id)
	if err != nil || id <= 0 || e == nil || e.raw != nil || !VisibleV2(e.t) {
		return v2Error(http.StatusNotFound, "Not Found", "")
	}
	self := siteURL + v2Prefix + "/" + strconv.FormatInt(id, 10)
	return v2Response(http.StatusOK, object{{"jsonapi", jsonAPI}, {"links", object{{"self", self}}}, {"data", renderV2(&e.t)}})
}

// v2Query is a parsed collection request.
type v2Query struct {
	size, number int
	sort         []sortField
	ids          []int64 // filter[id], ascending; nil: none
	filters      []func(*Ticket) bool
}

type sortField struct {
	key  func(*entry) int64
	desc bool
}

// v2Sorts are the sort fields. A NULL resolvedAt comes first, as MySQL
// sorts it ascending (stored times are whole seconds).
var v2Sorts = map[string]func(e *entry) int64{
	"id":         func(e *entry) int64 { return e.t.ID },
	"reportedAt": func(e *entry) int64 { return e.t.ReportedAt.Unix() },
	"state":      func(e *entry) int64 { return int64(e.t.ReportState) },
	"resolvedAt": func(e *entry) int64 {
		if e.t.ResolvedAt == nil {
			return math.MinInt64
		}
		return e.t.ResolvedAt.Unix()
	},
}

// v2Filters are the comma-list filters: they keep a ticket whose value (if
// ok) is one of the listed values, each checked and normalised by canon.
var v2Filters = map[string]struct {
	value func(t *Ticket) (v string, ok bool)
	canon func(name, v string) (string, error)
}{
	"filter[gameId]":         {func(t *Ticket) (string, bool) { return itoa(t.GameID), true }, number},
	"filter[achievementId]":  {func(t *Ticket) (string, bool) { return itoa(t.AchievementID), t.LeaderboardID == 0 }, number},
	"filter[leaderboardId]":  {func(t *Ticket) (string, bool) { return itoa(t.LeaderboardID), t.LeaderboardID != 0 }, number},
	"filter[type]":           {func(t *Ticket) (string, bool) { return v2Name(v2Types, t.ReportType), true }, known(v2Types)},
	"filter[state]":          {func(t *Ticket) (string, bool) { return v2Name(v2States, t.ReportState), true }, known(v2States)},
	"filter[reporterUserId]": {func(t *Ticket) (string, bool) { return t.ReportedByULID, true }, nil},
	"filter[resolverUserId]": {func(t *Ticket) (string, bool) {
		return *cmp.Or(t.ResolvedByULID, new(string)), t.ResolvedByULID != nil
	}, nil},
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func number(name, v string) (string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return "", fmt.Errorf("filter[%s]: %q is not a number", name, v)
	}
	return itoa(n), nil
}

func known(names map[int]string) func(name, v string) (string, error) {
	return func(name, v string) (string, error) {
		if !slices.Contains(slices.Collect(maps.Values(names)), v) {
			return "", fmt.Errorf("filter[%s]: unknown %s %q", name, name, v)
		}
		return v, nil
	}
}

// valueSet parses the comma list of the parameter key with canon.
func valueSet(key, list string, canon func(name, v string) (string, error)) (map[string]bool, error) {
	name := strings.TrimSuffix(strings.TrimPrefix(key, "filter["), "]")
	out := map[string]bool{}
	for _, v := range strings.Split(list, ",") {
		if canon != nil {
			var err error
			if v, err = canon(name, v); err != nil {
				return nil, err
			}
		}
		out[v] = true
	}
	return out, nil
}

// parseV2Query parses a collection request; an error is the detail of the
// 400 answer. Parameters are read in name order, so a request with several
// bad ones always names the same one.
func parseV2Query(q url.Values) (v2Query, error) {
	out := v2Query{size: v2DefaultPer, number: 1, sort: []sortField{{v2Sorts["reportedAt"], true}}}
	if !q.Has("filter[state]") {
		q = maps.Clone(q)
		q.Set("filter[state]", "open,request")
	}
	for _, key := range slices.Sorted(maps.Keys(q)) {
		v := param(q, key)
		f, isList := v2Filters[key]
		switch {
		case key == "page[size]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > v2MaxPage {
				return out, fmt.Errorf("page[size] must be an integer from 1 to %d", v2MaxPage)
			}
			out.size = n
		case key == "page[number]":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return out, fmt.Errorf("page[number] must be a positive integer")
			}
			if n > math.MaxInt32 { // keeps (n-1)*size far from overflowing
				return out, fmt.Errorf("page[number] must be at most %d", math.MaxInt32)
			}
			out.number = n
		case key == "sort":
			out.sort = nil
			for _, f := range strings.Split(v, ",") {
				name, desc := strings.CutPrefix(f, "-")
				key, ok := v2Sorts[name]
				if !ok {
					return out, fmt.Errorf("sort: unknown field %q", f)
				}
				out.sort = append(out.sort, sortField{key, desc})
			}
		case key == "filter[id]":
			want, err := valueSet(key, v, number)
			if err != nil {
				return out, err
			}
			out.ids = []int64{}
			for id := range want {
				n, _ := strconv.ParseInt(id, 10, 64)
				out.ids = append(out.ids, n)
			}
			slices.Sort(out.ids)
		case key == "filter[ticketableType]":
			if v != "achievement" && v != "leaderboard" {
				return out, fmt.Errorf("filter[ticketableType]: unknown value %q", v)
			}
			lb := v == "leaderboard"
			out.filters = append(out.filters, func(t *Ticket) bool { return (t.LeaderboardID != 0) == lb })
		case key == "filter[state]" && v == "all":
		case isList:
			want, err := valueSet(key, v, f.canon)
			if err != nil {
				return out, err
			}
			out.filters = append(out.filters, func(t *Ticket) bool {
				v, ok := f.value(t)
				return ok && want[v]
			})
		case strings.HasPrefix(key, "filter[") || strings.HasPrefix(key, "page["):
			return out, fmt.Errorf("unknown parameter %s", key)
		}
	}
	return out, nil
}

func (q *v2Query) match(e *entry) bool {
	return e != nil && e.raw == nil && VisibleV2(e.t) && !slices.ContainsFunc(q.filters, func(keep func(*Ticket) bool) bool { return !keep(&e.t) })
}

func (s *Server) v2List(values url.Values) response {
	q, err := parseV2Query(values)
	if err != nil {
		return v2Error(http.StatusBadRequest, "Invalid Query Parameter", err.Error())
	}
	var list []*entry
	s.mu.RLock()
	ids := s.byID
	if q.ids != nil {
		ids = q.ids
	}
	for _, id := range ids {
		if e := s.tickets[id]; q.match(e) {
			list = append(list, e)
		}
	}
	s.mu.RUnlock()
	// The list is in ID order, the final tie-break (IDs are unique).
	sort.SliceStable(list, func(i, j int) bool {
		for _, f := range q.sort {
			if a, b := f.key(list[i]), f.key(list[j]); a != b {
				return (a < b) != f.desc
			}
		}
		return false
	})

	total := len(list)
	lastPage := max(1, (total+q.size-1)/q.size)
	lo := (q.number - 1) * q.size
	var from, to any
	data := []object{}
	for _, e := range page(list, int64(lo), int64(q.size)) {
		data = append(data, renderV2(&e.t))
	}
	if len(data) > 0 {
		from, to = lo+1, lo+len(data)
	}
	link := func(n int) string {
		v := maps.Clone(values)
		v.Set("page[number]", strconv.Itoa(n))
		v.Set("page[size]", strconv.Itoa(q.size))
		return siteURL + v2Prefix + "?" + v.Encode()
	}
	links := object{{"first", link(1)}, {"last", link(lastPage)}}
	if q.number > 1 {
		links = append(links, field{"prev", link(q.number - 1)})
	}
	if q.number < lastPage {
		links = append(links, field{"next", link(q.number + 1)})
	}
	meta := object{{"page", object{{"currentPage", q.number}, {"from", from}, {"lastPage", lastPage},
		{"perPage", q.size}, {"to", to}, {"total", total}}}}
	return v2Response(http.StatusOK, object{{"meta", meta}, {"jsonapi", jsonAPI}, {"links", links}, {"data", data}})
}
