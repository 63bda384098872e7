package fakeapi

import (
	"cmp"
	"encoding/json"
	"math/rand"
	"slices"
	"sync/atomic"
	"time"
)

// Ticket is one ticket of the simulated world, with the values the API
// serves. Times are UTC and kept to whole seconds (the site's resolution).
type Ticket struct {
	ID                    int64
	AchievementID         int64
	AchievementTitle      string
	AchievementDesc       string
	AchievementType       *string
	Points                int
	BadgeName             string
	AchievementAuthor     string
	AchievementAuthorULID string
	GameID                int64
	ConsoleName           string
	GameTitle             string
	GameIcon              string
	ReportedAt            time.Time
	ReportType            int
	Hardcore              *int
	ReportNotes           string
	ReportedBy            string
	ReportedByULID        string
	ResolvedAt            *time.Time
	ResolvedBy            *string
	ResolvedByULID        *string
	ReportState           int
	// Promoted is false for a ticket on an unofficial achievement: it is
	// never in the open list and only g=..&f=5 lists it.
	Promoted bool
	// Deleted tickets (soft-deleted on the site) 404 in every mode.
	Deleted bool
	// LeaderboardID and LeaderboardTitle are set on a leaderboard ticket,
	// served by v2 only (not by v1, not in All), whose Achievement* fields
	// are empty but for the author and whose type is a TypeLeaderboard* code.
	LeaderboardID    int64
	LeaderboardTitle string
}

func (t Ticket) clone() Ticket {
	t.AchievementType = clonePtr(t.AchievementType)
	t.Hardcore = clonePtr(t.Hardcore)
	t.ResolvedAt = clonePtr(t.ResolvedAt)
	t.ResolvedBy = clonePtr(t.ResolvedBy)
	t.ResolvedByULID = clonePtr(t.ResolvedByULID)
	return t
}

// entry is the stored form of a ticket. A change replaces the entry, so
// handlers may use one after releasing the lock; only elem, a render
// cache, is written later.
type entry struct {
	t    Ticket
	raw  json.RawMessage // non-nil for PutRaw entries
	elem atomic.Pointer[[]byte]
}

// listBytes is the entry's element in RecentTickets / Tickets, rendered once.
func (e *entry) listBytes() []byte {
	if e.raw != nil {
		return e.raw
	}
	if p := e.elem.Load(); p != nil {
		return *p
	}
	b := renderV1(&e.t, false)
	e.elem.Store(&b)
	return b
}

// served orders entries as the open list serves them: ReportedAt desc, ID desc.
func served(a, b *entry) int {
	return cmp.Or(b.t.ReportedAt.Compare(a.t.ReportedAt), cmp.Compare(b.t.ID, a.t.ID))
}

func (e *entry) belongsInOpen() bool {
	if e.raw != nil {
		return true
	}
	return !e.t.Deleted && e.t.Promoted && isOpenState(e.t.ReportState) && e.t.LeaderboardID == 0
}

// unindex takes e out of the open list and byGame; callers hold s.mu for
// writing.
func (s *Server) unindex(e *entry) {
	if i, ok := slices.BinarySearchFunc(s.open, e, served); ok && s.open[i] == e {
		s.open = slices.Delete(s.open, i, i+1)
	}
	if s.byGame[e.t.GameID][e.t.ID] == e {
		delete(s.byGame[e.t.GameID], e.t.ID)
	}
}

func (s *Server) putLocked(t Ticket, bulk bool) {
	s.store(&entry{t: t}, bulk)
	s.games[t.GameID] = gameInfo{t.GameTitle, t.ConsoleName, t.GameIcon}
}

// store puts e in place of any entry with its ID. A bulk store appends to
// the open list and byID, and leaves sorting them to New.
func (s *Server) store(e *entry, bulk bool) {
	t := &e.t
	if old := s.tickets[t.ID]; old != nil {
		s.unindex(old)
	} else {
		s.addID(t.ID, bulk)
		if t.LeaderboardID == 0 { // Churn's draws stay those of a v1-only world
			s.ids = append(s.ids, t.ID)
		}
	}
	s.tickets[t.ID] = e
	if e.belongsInOpen() {
		i := len(s.open)
		if !bulk {
			i, _ = slices.BinarySearchFunc(s.open, e, served)
		}
		s.open = slices.Insert(s.open, i, e)
	}
	if e.raw == nil && !t.Deleted && t.LeaderboardID == 0 { // what g= lists
		if s.byGame[t.GameID] == nil {
			s.byGame[t.GameID] = map[int64]*entry{}
		}
		s.byGame[t.GameID][t.ID] = e
	}
	s.maxID = max(s.maxID, t.ID)
	s.clock = max(s.clock, t.ReportedAt.Unix())
	if t.ResolvedAt != nil {
		s.clock = max(s.clock, t.ResolvedAt.Unix())
	}
}

// addID records a new ID in byID; a bulk addition appends and New sorts.
func (s *Server) addID(id int64, bulk bool) {
	i, found := len(s.byID), false
	if !bulk {
		i, found = slices.BinarySearch(s.byID, id)
	}
	if !found {
		s.byID = slices.Insert(s.byID, i, id)
	}
}

// tick advances the simulated clock by 1..maxStep seconds and returns it.
func (s *Server) tick(rng *rand.Rand, maxStep int) time.Time {
	s.clock += 1 + int64(rng.Intn(maxStep))
	return time.Unix(s.clock, 0).UTC()
}

// Put inserts t, or replaces the ticket (or raw object) with its ID.
func (s *Server) Put(t Ticket) {
	t = t.clone()
	t.ReportedAt = t.ReportedAt.UTC().Truncate(time.Second)
	if t.ResolvedAt != nil {
		*t.ResolvedAt = t.ResolvedAt.UTC().Truncate(time.Second)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(t, false)
}

func (s *Server) entry(id int64) *entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tickets[id]
}

// Get returns the ticket with that ID, also when it is deleted (Deleted is
// then true). Objects stored with PutRaw are not tickets: ok is false.
func (s *Server) Get(id int64) (Ticket, bool) {
	e := s.entry(id)
	if e == nil || e.raw != nil {
		return Ticket{}, false
	}
	return e.t.clone(), true
}

// All returns every achievement ticket, deleted ones too, by ID ascending
// (not PutRaw objects or leaderboard tickets: v1 cannot reach those).
func (s *Server) All() []Ticket { return s.all(false) }

// AllV2 returns every ticket of the world, leaderboard tickets included
// (deleted ones too, PutRaw objects not), by ID ascending.
func (s *Server) AllV2() []Ticket { return s.all(true) }

func (s *Server) all(leaderboards bool) []Ticket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Ticket, 0, len(s.byID))
	for _, id := range s.byID {
		if e := s.tickets[id]; e != nil && e.raw == nil && (leaderboards || e.t.LeaderboardID == 0) {
			out = append(out, e.t.clone())
		}
	}
	return out
}

// Open returns the open list in served order (a PutRaw object as a Ticket
// with only ID and ReportedAt), so len(Open()) is the served OpenTickets.
func (s *Server) Open() []Ticket {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Ticket, len(s.open))
	for i, e := range s.open {
		out[i] = e.t.clone()
	}
	return out
}

// AddTickets adds n new open (or request) tickets on promoted achievements,
// each reported later than anything in the world, with IDs above the
// current maximum, and returns their IDs.
func (s *Server) AddTickets(n int) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, n)
	for range n {
		ids = append(ids, s.addTicketLocked(s.rng, true))
	}
	return ids
}

func (s *Server) addTicketLocked(rng *rand.Rand, promotedOnly bool) int64 {
	id := s.maxID + 1 + int64(rng.Intn(2))
	at := s.tick(rng, 300)
	t := s.cat.newTicket(rng, id, at, true, at)
	for tries := 0; promotedOnly && !t.Promoted && tries <= 20; tries++ {
		t = s.cat.newTicket(rng, id, at, true, at)
	}
	t.Promoted = t.Promoted || promotedOnly
	s.putLocked(t, false)
	return id
}

// SetState moves a ticket to state as user by (empty: Username) would. As
// RAWeb's ChangeTicketStateAction does, moving to Resolved or Closed stamps
// ResolvedAt (simulated clock), ResolvedBy and ResolvedByULID; leaving those
// two states clears them; other moves leave them. Unknown or deleted IDs
// are ignored.
func (s *Server) SetState(id int64, state int, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStateLocked(s.rng, id, state, by)
}

func (s *Server) setStateLocked(rng *rand.Rand, id int64, state int, by string) {
	e := s.tickets[id]
	if e == nil || e.raw != nil || e.t.Deleted {
		return
	}
	by = cmp.Or(by, s.opts.Username)
	t := e.t.clone()
	restate(&t, state, func() (time.Time, string) { return s.tick(rng, 120), by })
	s.putLocked(t, false)
}

// restate moves t to state as SetState describes; resolution gives the
// time and user of a resolution.
func restate(t *Ticket, state int, resolution func() (time.Time, string)) {
	wasResolved := isResolvedState(t.ReportState)
	t.ReportState = state
	switch {
	case isResolvedState(state):
		at, by := resolution()
		ulid := ULIDFor(by)
		t.ResolvedAt, t.ResolvedBy, t.ResolvedByULID = &at, &by, &ulid
	case wasResolved:
		t.ResolvedAt, t.ResolvedBy, t.ResolvedByULID = nil, nil, nil
	}
}

// Delete soft-deletes a ticket (it 404s everywhere but Get still returns it,
// with Deleted set) or removes a PutRaw object.
func (s *Server) Delete(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.tickets[id]
	switch {
	case e == nil:
	case e.raw != nil:
		s.unindex(e)
		delete(s.tickets, id)
	default:
		t := e.t.clone()
		t.Deleted = true
		s.putLocked(t, false)
	}
}

// PutRaw stores raw, verbatim, as the open-list (and i=) element with that
// ID, placed by reportedAt, in place of anything with that ID.
func (s *Server) PutRaw(id int64, reportedAt time.Time, raw json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(&entry{t: Ticket{ID: id, ReportedAt: reportedAt.UTC().Truncate(time.Second)}, raw: slices.Clone(raw)}, false)
}

// Churn applies n random events, drawing every choice from rng, so the same
// world and rng give the same result: new tickets (35%), resolutions (25%),
// closes (15%), quarantines (5%), reassignments to the reporter (5%) and
// reopens of closed-out tickets (15%). About one leaderboard ticket per 20
// events changes state too, drawn from the world's own leaderboard stream
// so that v1's answers are those of a world without leaderboard tickets.
func (s *Server) Churn(rng *rand.Rand, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		switch x := rng.Float64(); {
		case x < 0.35:
			s.addTicketLocked(rng, false)
		case x < 0.85:
			e, ok := pickRandom(rng, s.open, func(e *entry) bool { return e.raw == nil })
			if ok {
				state := pick(x, []float64{0.60, 0.75, 0.80}, StateResolved, StateClosed, StateQuarantined, StateRequest)
				s.setStateLocked(rng, e.t.ID, state, oneOf(rng, s.cat.devs))
			}
		default:
			id, ok := pickRandom(rng, s.ids, func(id int64) bool {
				e := s.tickets[id]
				return e != nil && e.raw == nil && !e.t.Deleted && !isOpenState(e.t.ReportState)
			})
			if ok {
				s.setStateLocked(rng, id, StateOpen, oneOf(rng, s.cat.devs))
			}
		}
	}
	s.churnLeaderboardsLocked(n)
}

// pickRandom makes up to 8 random draws from list and returns the first
// value ok accepts.
func pickRandom[T any](rng *rand.Rand, list []T, ok func(T) bool) (T, bool) {
	for i := 0; i < 8 && len(list) > 0; i++ {
		if v := oneOf(rng, list); ok(v) {
			return v, true
		}
	}
	return *new(T), false
}

// addLeaderboardTickets fills about a third of the ID gaps the generator
// left (404 for v1 either way) with leaderboard tickets, drawn from their
// own stream, so a seed's v1 answers are those of a world without them.
func (s *Server) addLeaderboardTickets() {
	s.lbRNG = rand.New(rand.NewSource(s.opts.Seed ^ 0x1eade7b0a7d))
	rng := s.lbRNG
	ids := slices.Clone(s.byID)
	for i := 1; i < len(ids); i++ {
		a, b := s.tickets[ids[i-1]], s.tickets[ids[i]]
		for id := ids[i-1] + 1; id < ids[i]; id++ {
			if rng.Float64() >= 0.35 {
				continue
			}
			at := a.t.ReportedAt
			if span := b.t.ReportedAt.Unix() - a.t.ReportedAt.Unix(); span > 0 {
				at = at.Add(time.Duration(rng.Int63n(span)) * time.Second)
			}
			open := rng.Float64() < s.opts.OpenShare
			s.putLocked(s.cat.newLeaderboardTicket(rng, id, at, open, s.opts.Start), true)
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
		s.putLocked(s.cat.newLeaderboardTicket(s.lbRNG, id, at, true, at), false)
		out = append(out, id)
	}
	return out
}

// churnLeaderboardsLocked moves about one leaderboard ticket per 20 events,
// drawing from the leaderboard stream and stamping resolutions with the
// current clock without advancing it, so v1's churn is unchanged.
func (s *Server) churnLeaderboardsLocked(n int) {
	var lb []int64
	for _, id := range s.byID {
		if e := s.tickets[id]; e != nil && e.raw == nil && e.t.LeaderboardID != 0 {
			lb = append(lb, id)
		}
	}
	if len(lb) == 0 {
		return
	}
	rng := s.lbRNG
	for range (n + 19) / 20 {
		e := s.tickets[oneOf(rng, lb)]
		if e.t.Deleted {
			continue
		}
		state := choose(rng, []float64{0.6, 0.8}, StateResolved, StateQuarantined, StateClosed)
		if !isOpenState(e.t.ReportState) {
			state = StateOpen
		}
		t := e.t.clone()
		restate(&t, state, func() (time.Time, string) { return time.Unix(s.clock, 0).UTC(), oneOf(rng, s.cat.devs) })
		s.putLocked(t, false)
	}
}
