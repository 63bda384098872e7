package report_test

// A model of tickets and their history, written straight into the tables,
// and the answers every analytics view should give for it — computed here in
// Go, day by day and ticket by ticket, not with the views' SQL.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

type version struct {
	from       time.Time
	state      string
	resolvedAt *time.Time
	vanished   bool
}

type mTicket struct {
	id          int64
	reported    time.Time
	typ         string // ticket_type
	gameID      *int64
	gameTitle   *string
	console     *string
	achievement *int64
	author      *string
	emulator    *string
	core        *string
	versions    []version // in order; each is valid until the next one's from
}

func (t *mTicket) current() version { return t.versions[len(t.versions)-1] }

func (t *mTicket) to(i int) *time.Time {
	if i+1 < len(t.versions) {
		return &t.versions[i+1].from
	}
	return nil
}

// vanishedAt is when the current version marked the ticket vanished.
func (t *mTicket) vanishedAt() *time.Time {
	c := t.current()
	if !c.vanished {
		return nil
	}
	return &t.versions[len(t.versions)-1].from
}

func (t *mTicket) inBacklogNow() bool {
	c := t.current()
	return (c.state == "open" || c.state == "request") && !c.vanished
}

type snapshot struct {
	runID   int64
	takenAt time.Time
	api     int32
	open    int32
	request int32
}

type model struct {
	tickets   []*mTicket
	snapshots []snapshot
}

var stateCode = map[string]int16{"closed": 0, "open": 1, "resolved": 2, "request": 3, "quarantined": 4, "unknown": 99}
var typeCode = map[string]int16{"triggered_at_wrong_time": 1, "did_not_trigger": 2, "unknown": 9}

// insert writes the model into the tables the views read.
func (m *model) insert(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sync_runs (id, status) VALUES (1, 'succeeded') ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
		for _, tk := range m.tickets {
			c := tk.current()
			raw, _ := json.Marshal(map[string]any{"ID": tk.id})
			var resolvedBy *string
			if c.resolvedAt != nil {
				s := "fixer"
				resolvedBy = &s
			}
			if _, err := tx.Exec(ctx, `INSERT INTO tickets (id, achievement_id, achievement_title, achievement_author,
				game_id, game_title, console_name, reported_at, report_type, report_type_code, report_state,
				report_state_code, resolved_at, resolved_by, emulator, emulator_core, first_seen_at, updated_at,
				raw, vanished_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
				tk.id, tk.achievement, fmt.Sprintf("Achievement <%d>", tk.id), tk.author, tk.gameID, tk.gameTitle,
				tk.console, tk.reported, tk.typ, typeCode[tk.typ], c.state, stateCode[c.state], c.resolvedAt,
				resolvedBy, tk.emulator, tk.core, tk.versions[0].from, c.from, raw, tk.vanishedAt()); err != nil {
				return fmt.Errorf("ticket %d: %w", tk.id, err)
			}
			for i, v := range tk.versions {
				var van *time.Time
				if v.vanished {
					van = &tk.versions[i].from
				}
				if _, err := tx.Exec(ctx, `INSERT INTO ticket_history (ticket_id, valid_from, valid_to,
					report_state, report_state_code, report_type, report_type_code, resolved_at, vanished_at, run_id)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)`,
					tk.id, v.from, tk.to(i), v.state, stateCode[v.state], tk.typ, typeCode[tk.typ],
					v.resolvedAt, van); err != nil {
					return fmt.Errorf("ticket %d version %d: %w", tk.id, i, err)
				}
			}
		}
		for _, s := range m.snapshots {
			if _, err := tx.Exec(ctx, `INSERT INTO sync_runs (id, started_at, status) VALUES ($1, $2, 'succeeded')`,
				s.runID, s.takenAt); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO open_ticket_snapshots (run_id, taken_at, api_open_tickets,
				seen_open, seen_request) VALUES ($1, $2, $3, $4, $5)`,
				s.runID, s.takenAt, s.api, s.open, s.request); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert model: %v", err)
	}
}

func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ---- expected answers ----

type backlogRow struct {
	Day                                     time.Time
	Open, Request, Opened, Resolved, Closed int64
	API, SeenOpen, SeenRequest              *int32
}

type interval struct {
	state string
	start time.Time
	end   *time.Time
}

// intervals is when the ticket counts in the backlog as open or request,
// by the rules documented on analytics.backlog_daily.
func (t *mTicket) intervals() []interval {
	var out []interval
	first := t.versions[0]
	switch {
	case (first.state == "open" || first.state == "request") && !first.vanished:
		if t.reported.Before(first.from) {
			end := first.from
			out = append(out, interval{first.state, t.reported, &end})
		}
	case (first.state == "resolved" || first.state == "closed") && first.resolvedAt != nil:
		end := *first.resolvedAt
		if first.from.Before(end) {
			end = first.from
		}
		if t.reported.Before(end) {
			out = append(out, interval{"open", t.reported, &end})
		}
	}
	for i, v := range t.versions {
		if (v.state == "open" || v.state == "request") && !v.vanished {
			out = append(out, interval{v.state, v.from, t.to(i)})
		}
	}
	return out
}

// stateAtEndOfDay is the backlog state ("open", "request" or "") at the
// last instant of the day before instant e.
func (t *mTicket) stateAtEndOfDay(e time.Time) string {
	for _, iv := range t.intervals() {
		if iv.start.Before(e) && (iv.end == nil || !iv.end.Before(e)) {
			return iv.state
		}
	}
	return ""
}

type resolution struct {
	day   time.Time
	state string
}

// resolutions lists the ticket's resolution events.
func (t *mTicket) resolutions() []resolution {
	var out []resolution
	for i, v := range t.versions {
		if v.state != "resolved" && v.state != "closed" {
			continue
		}
		if i == 0 {
			if v.resolvedAt != nil {
				out = append(out, resolution{utcDay(*v.resolvedAt), v.state})
			}
			continue
		}
		p := t.versions[i-1]
		same := p.state == v.state && ((p.resolvedAt == nil && v.resolvedAt == nil) ||
			(p.resolvedAt != nil && v.resolvedAt != nil && p.resolvedAt.Equal(*v.resolvedAt)))
		if same {
			continue
		}
		at := v.from
		if v.resolvedAt != nil {
			at = *v.resolvedAt
		}
		out = append(out, resolution{utcDay(at), v.state})
	}
	return out
}

func (m *model) backlogDaily(today time.Time) []backlogRow {
	if len(m.tickets) == 0 {
		return nil
	}
	first := m.tickets[0].reported
	for _, t := range m.tickets {
		if t.reported.Before(first) {
			first = t.reported
		}
		if t.versions[0].from.Before(first) {
			first = t.versions[0].from
		}
	}
	var rows []backlogRow
	for d := utcDay(first); !d.After(today); d = d.AddDate(0, 0, 1) {
		r := backlogRow{Day: d}
		e := d.AddDate(0, 0, 1)
		for _, t := range m.tickets {
			switch t.stateAtEndOfDay(e) {
			case "open":
				r.Open++
			case "request":
				r.Request++
			}
			if utcDay(t.reported).Equal(d) {
				r.Opened++
			}
			for _, res := range t.resolutions() {
				if res.day.Equal(d) {
					if res.state == "resolved" {
						r.Resolved++
					} else {
						r.Closed++
					}
				}
			}
		}
		var last *snapshot
		for i, s := range m.snapshots {
			if utcDay(s.takenAt).Equal(d) && (last == nil || s.takenAt.After(last.takenAt)) {
				last = &m.snapshots[i]
			}
		}
		if last != nil {
			r.API, r.SeenOpen, r.SeenRequest = &last.api, &last.open, &last.request
		}
		rows = append(rows, r)
	}
	return rows
}

// hoursToResolution is defined for tickets now resolved or closed with a
// resolved_at not before reported_at.
func (t *mTicket) hoursToResolution() (float64, bool) {
	c := t.current()
	if (c.state != "resolved" && c.state != "closed") || c.resolvedAt == nil || c.resolvedAt.Before(t.reported) {
		return 0, false
	}
	return c.resolvedAt.Sub(t.reported).Hours(), true
}

// percentileCont is PostgreSQL's percentile_cont: linear interpolation
// between the closest ranks.
func percentileCont(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p * float64(len(s)-1)
	lo, hi := math.Floor(pos), math.Ceil(pos)
	v := s[int(lo)] + (s[int(hi)]-s[int(lo)])*(pos-lo)
	return &v
}

type groupStats struct {
	Key                              string
	Title, Console                   *string
	Games                            int64
	OpenNow, Total, Resolved, Closed int64
	Median, P90                      *float64
	Achievements                     int64
	PerAchievement                   *float64
}

// groupBy computes by_game (key = game id) or by_console (key = console).
func (m *model) groupBy(key func(*mTicket) string) map[string]*groupStats {
	out := map[string]*groupStats{}
	hours := map[string][]float64{}
	achs := map[string]map[int64]bool{}
	withAch := map[string]int64{}
	games := map[string]map[string]bool{}
	latest := map[string]*mTicket{}
	for _, t := range m.tickets {
		k := key(t)
		g := out[k]
		if g == nil {
			g = &groupStats{Key: k}
			out[k] = g
			achs[k] = map[int64]bool{}
			games[k] = map[string]bool{}
		}
		g.Total++
		if t.inBacklogNow() {
			g.OpenNow++
		}
		switch t.current().state {
		case "resolved":
			g.Resolved++
		case "closed":
			g.Closed++
		}
		if h, ok := t.hoursToResolution(); ok {
			hours[k] = append(hours[k], h)
		}
		if t.achievement != nil {
			achs[k][*t.achievement] = true
			withAch[k]++
		}
		if t.gameID != nil {
			games[k][fmt.Sprint(*t.gameID)] = true
		}
		if l := latest[k]; l == nil || t.reported.After(l.reported) || (t.reported.Equal(l.reported) && t.id > l.id) {
			latest[k] = t
		}
	}
	for k, g := range out {
		g.Median = percentileCont(hours[k], 0.5)
		g.P90 = percentileCont(hours[k], 0.9)
		g.Achievements = int64(len(achs[k]))
		if g.Achievements > 0 {
			v := math.Round(float64(withAch[k])/float64(g.Achievements)*100) / 100
			g.PerAchievement = &v
		}
		g.Games = int64(len(games[k]))
		g.Title, g.Console = latest[k].gameTitle, latest[k].console
	}
	return out
}

type emulatorStats struct {
	Total, OpenNow, RequestNow, Vanished, Resolved, Closed, Quarantined, UnknownState int64
	Wrong, DNT, UnknownType                                                           int64
	Share                                                                             float64
}

func (m *model) byEmulator() map[string]*emulatorStats {
	out := map[string]*emulatorStats{}
	for _, t := range m.tickets {
		k := strOr(t.emulator, "∅") + "|" + strOr(t.core, "∅")
		e := out[k]
		if e == nil {
			e = &emulatorStats{}
			out[k] = e
		}
		e.Total++
		c := t.current()
		switch {
		case c.state == "open" && !c.vanished:
			e.OpenNow++
		case c.state == "request" && !c.vanished:
			e.RequestNow++
		case c.state == "open" || c.state == "request":
			e.Vanished++
		case c.state == "resolved":
			e.Resolved++
		case c.state == "closed":
			e.Closed++
		case c.state == "quarantined":
			e.Quarantined++
		default:
			e.UnknownState++
		}
		switch t.typ {
		case "triggered_at_wrong_time":
			e.Wrong++
		case "did_not_trigger":
			e.DNT++
		default:
			e.UnknownType++
		}
	}
	for _, e := range out {
		e.Share = math.Round(float64(e.DNT)/float64(e.Total)*1e4) / 1e4
	}
	return out
}

type developerStats struct {
	OpenNow, Resolved30, Closed30 int64
	MedianAgeDays                 *float64
	Oldest                        *time.Time
}

func (m *model) developers(asOf time.Time) map[string]*developerStats {
	out := map[string]*developerStats{}
	ages := map[string][]float64{}
	get := func(k string) *developerStats {
		if out[k] == nil {
			out[k] = &developerStats{}
		}
		return out[k]
	}
	for _, t := range m.tickets {
		k := strOr(t.author, "∅")
		c := t.current()
		if t.inBacklogNow() {
			d := get(k)
			d.OpenNow++
			ages[k] = append(ages[k], asOf.Sub(t.reported).Hours()/24)
			if d.Oldest == nil || t.reported.Before(*d.Oldest) {
				r := t.reported
				d.Oldest = &r
			}
		}
		if (c.state == "resolved" || c.state == "closed") && c.resolvedAt != nil &&
			c.resolvedAt.After(asOf.Add(-30*24*time.Hour)) && !c.resolvedAt.After(asOf) {
			d := get(k)
			if c.state == "resolved" {
				d.Resolved30++
			} else {
				d.Closed30++
			}
		}
	}
	for k, d := range out {
		d.MedianAgeDays = percentileCont(ages[k], 0.5)
	}
	return out
}

type reopenStats struct {
	Count       int64
	First, Last time.Time
	State       string
}

func (m *model) reopened() map[int64]reopenStats {
	out := map[int64]reopenStats{}
	for _, t := range m.tickets {
		var r reopenStats
		wasResolved := false
		for i, v := range t.versions {
			backlog := v.state == "open" || v.state == "request"
			if i > 0 && backlog && wasResolved {
				p := t.versions[i-1].state
				if p != "open" && p != "request" {
					if r.Count == 0 {
						r.First = v.from
					}
					r.Count++
					r.Last = v.from
				}
			}
			if v.state == "resolved" || v.state == "closed" {
				wasResolved = true
			}
		}
		if r.Count > 0 {
			r.State = t.current().state
			out[t.id] = r
		}
	}
	return out
}

func strOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// ---- random models ----

// randomModel builds n tickets with random histories: reported over three
// months, first seen once "ratickets" started (or when reported, if later),
// then up to five further versions in random states. Some changes fall
// exactly on midnight, some resolutions carry no date, a few are dated
// before the report, and some open tickets vanish.
func randomModel(seed uint64, n int) *model {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	started := base.AddDate(0, 1, 0)
	states := []string{"open", "open", "request", "resolved", "resolved", "closed", "quarantined", "unknown"}
	types := []string{"did_not_trigger", "did_not_trigger", "triggered_at_wrong_time", "unknown"}
	emus := []*string{ptr("RALibRetro"), ptr("RetroArch"), ptr("PCSX2"), nil}
	cores := []*string{ptr("snes9x"), ptr("mgba"), nil}
	authors := []*string{ptr("alice"), ptr("bob"), ptr("carol"), ptr("dave"), nil}
	consoles := []*string{ptr("SNES"), ptr("Mega Drive"), ptr("PlayStation"), nil}
	// Some time after t, sometimes exactly on the next midnight.
	after := func(t time.Time) time.Time {
		if r.IntN(8) == 0 {
			return utcDay(t).AddDate(0, 0, 1+r.IntN(3))
		}
		return t.Add(time.Duration(1+r.IntN(6*24*60)) * time.Minute)
	}
	m := &model{}
	for i := range n {
		tk := &mTicket{
			id:       int64(1000 + i),
			reported: base.Add(time.Duration(r.IntN(90*24*60)) * time.Minute).Add(time.Duration(r.IntN(60)) * time.Second),
			typ:      types[r.IntN(len(types))],
			emulator: emus[r.IntN(len(emus))],
			core:     cores[r.IntN(len(cores))],
			author:   authors[r.IntN(len(authors))],
		}
		if r.IntN(10) > 0 {
			g := int64(101 + r.IntN(8))
			tk.gameID = &g
			tk.gameTitle = ptr(fmt.Sprintf("Game %d rev %d", g, r.IntN(2)))
			tk.console = consoles[int(g)%len(consoles)]
		}
		if r.IntN(10) > 0 {
			a := int64(1 + r.IntN(40))
			tk.achievement = &a
		}
		from := started
		if tk.reported.After(started) {
			from = tk.reported.Add(time.Duration(r.IntN(600)) * time.Second)
		}
		var prev *version
		for j := range 1 + r.IntN(5) {
			if j > 0 {
				from = after(from)
			}
			v := version{from: from, state: states[r.IntN(len(states))]}
			if v.state == "resolved" || v.state == "closed" {
				switch k := r.IntN(10); {
				case k == 0:
					// no date
				case k < 4 && prev != nil && prev.resolvedAt != nil:
					v.resolvedAt = prev.resolvedAt
				case k == 4 && j == 0:
					t := tk.reported.Add(-time.Hour) // before the report
					v.resolvedAt = &t
				default:
					lo := tk.reported
					if prev != nil {
						lo = prev.from
					}
					// Whole seconds: the database keeps microseconds.
					span := int64(from.Sub(lo) / time.Second)
					t := lo
					if span > 0 {
						t = lo.Add(time.Duration(r.Int64N(span)) * time.Second)
					}
					v.resolvedAt = &t
				}
			}
			tk.versions = append(tk.versions, v)
			prev = &tk.versions[len(tk.versions)-1]
		}
		if c := tk.current(); (c.state == "open" || c.state == "request") && r.IntN(6) == 0 {
			tk.versions = append(tk.versions, version{from: after(c.from), state: c.state, vanished: true})
		}
		m.tickets = append(m.tickets, tk)
	}
	for i := range 12 {
		at := started.Add(time.Duration(r.IntN(60*24)) * time.Hour)
		m.snapshots = append(m.snapshots, snapshot{runID: int64(200 + i), takenAt: at,
			api: int32(r.IntN(500)), open: int32(r.IntN(400)), request: int32(r.IntN(50))})
	}
	return m
}

func ptr[T any](v T) *T { return &v }
