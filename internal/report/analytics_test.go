package report_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratickets/ratickets/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2024, month, day, hour, minute, 0, 0, time.UTC)
}

func tp(t time.Time) *time.Time { return &t }

// handModel is a small history whose answers are also worked out by hand
// in the tests below (see the comments there).
func handModel() *model {
	mega, snes := ptr("Mega Drive"), ptr("SNES")
	g1, g2, g3 := ptr(int64(1)), ptr(int64(2)), ptr(int64(3))
	sonic, zelda, zeldaRev, mario := ptr("Sonic <1>"), ptr("Zelda & Co"), ptr("Zelda: Rev"), ptr("Mario")
	alice, bob, carol := ptr("alice"), ptr("bob"), ptr("carol")
	ral, ra, snes9x := ptr("RALibRetro"), ptr("RetroArch"), ptr("snes9x")
	dnt, wrong := "did_not_trigger", "triggered_at_wrong_time"
	a := func(n int64) *int64 { return &n }
	return &model{
		tickets: []*mTicket{
			{id: 1, reported: at(3, 1, 10, 0), typ: dnt, gameID: g1, gameTitle: sonic, console: mega, achievement: a(10),
				author: alice, emulator: ra, versions: []version{
					{from: at(3, 3, 12, 0), state: "open"},
					{from: at(3, 5, 8, 0), state: "resolved", resolvedAt: tp(at(3, 5, 6, 0))},
					{from: at(3, 7, 9, 0), state: "open"},
					{from: at(3, 9, 10, 0), state: "resolved", resolvedAt: tp(at(3, 8, 22, 0))},
				}},
			{id: 2, reported: at(2, 28, 10, 0), typ: wrong, gameID: g1, gameTitle: sonic, console: mega, achievement: a(10),
				author: carol, emulator: ra, versions: []version{
					{from: at(3, 3, 12, 0), state: "resolved", resolvedAt: tp(at(3, 2, 15, 0))},
				}},
			{id: 3, reported: at(3, 3, 1, 0), typ: dnt, gameID: g1, gameTitle: sonic, console: mega, achievement: a(11),
				author: alice, versions: []version{
					{from: at(3, 3, 12, 0), state: "request"},
					{from: at(3, 6, 0, 0), state: "open"}, // exactly midnight
				}},
			{id: 4, reported: at(3, 4, 8, 0), typ: dnt, gameID: g2, gameTitle: zelda, console: snes, achievement: a(20),
				author: alice, emulator: ral, core: snes9x, versions: []version{
					{from: at(3, 4, 13, 0), state: "open"},
					{from: at(3, 10, 9, 0), state: "open", vanished: true},
				}},
			{id: 5, reported: at(3, 2, 8, 0), typ: wrong, gameID: g2, gameTitle: zelda, console: snes,
				author: carol, versions: []version{
					{from: at(3, 3, 12, 0), state: "closed"}, // no resolved_at
				}},
			{id: 6, reported: at(3, 5, 9, 0), typ: dnt, gameID: g2, gameTitle: zeldaRev, console: snes, achievement: a(21),
				author: bob, emulator: ral, core: snes9x, versions: []version{
					{from: at(3, 5, 10, 0), state: "open"},
					{from: at(3, 6, 11, 0), state: "closed", resolvedAt: tp(at(3, 6, 10, 30))},
					{from: at(3, 7, 12, 0), state: "request"},
					{from: at(3, 8, 3, 0), state: "resolved", resolvedAt: tp(at(3, 8, 2, 0))},
					{from: at(3, 11, 12, 0), state: "open"},
				}},
			{id: 7, reported: at(3, 1, 9, 0), typ: "unknown", versions: []version{
				{from: at(3, 3, 12, 0), state: "quarantined"},
			}},
			{id: 8, reported: at(3, 3, 20, 0), typ: dnt, gameID: g3, gameTitle: mario, console: snes, achievement: a(30),
				author: bob, emulator: ral, core: snes9x, versions: []version{
					{from: at(3, 3, 21, 0), state: "open"},
					{from: at(3, 4, 10, 0), state: "open"}, // e.g. the notes changed
					{from: at(3, 6, 15, 0), state: "request"},
				}},
			{id: 9, reported: at(3, 4, 10, 0), typ: wrong, gameID: g3, gameTitle: mario, console: snes, achievement: a(30),
				author: carol, versions: []version{
					{from: at(3, 5, 12, 0), state: "resolved", resolvedAt: tp(at(3, 4, 9, 0))}, // before the report
				}},
			{id: 10, reported: at(3, 4, 11, 0), typ: wrong, gameID: g3, gameTitle: mario, console: snes, achievement: a(30),
				author: carol, versions: []version{
					{from: at(3, 5, 12, 0), state: "resolved", resolvedAt: tp(at(3, 5, 1, 0))},
					{from: at(3, 7, 8, 0), state: "closed", resolvedAt: tp(at(3, 5, 1, 0))},
				}},
		},
		snapshots: []snapshot{
			{runID: 100, takenAt: at(3, 5, 10, 0), api: 5, open: 4, request: 1},
			{runID: 101, takenAt: at(3, 5, 23, 0), api: 4, open: 3, request: 1},
			{runID: 102, takenAt: at(3, 9, 12, 0), api: 3, open: 2, request: 1},
		},
	}
}

type fixture struct {
	name string
	m    *model
	db   *pgtest.DB
}

// fixtures: the hand-built model and three random ones, each in its own
// database.
func fixtures(t *testing.T) []fixture {
	t.Helper()
	fs := []fixture{{name: "hand", m: handModel()}}
	for _, seed := range []uint64{1, 2, 3} {
		fs = append(fs, fixture{name: fmt.Sprintf("random%d", seed), m: randomModel(seed, 150)})
	}
	for i := range fs {
		fs[i].db = pgtest.NewDB(t)
		fs[i].m.insert(t, fs[i].db.Pool)
	}
	return fs
}

// inTx runs fn in one transaction, so that now() is the same for the
// expected answer and the view.
func inTx(t *testing.T, pool *pgxpool.Pool, fn func(tx pgx.Tx, now time.Time)) {
	t.Helper()
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var now time.Time
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
			return err
		}
		fn(tx, now.UTC())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func nearPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return near(*a, *b)
}

func fmtPtr[T any](p *T) string {
	if p == nil {
		return "NULL"
	}
	return fmt.Sprint(*p)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func readBacklog(t *testing.T, tx pgx.Tx) []backlogRow {
	t.Helper()
	rows, err := tx.Query(context.Background(), `SELECT day, open, request, opened, resolved, closed,
		api_open_tickets, seen_open, seen_request FROM analytics.backlog_daily ORDER BY day`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (backlogRow, error) {
		var b backlogRow
		err := r.Scan(&b.Day, &b.Open, &b.Request, &b.Opened, &b.Resolved, &b.Closed, &b.API, &b.SeenOpen, &b.SeenRequest)
		return b, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAnalyticsViews(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			t.Run("backlog_daily", func(t *testing.T) {
				inTx(t, f.db.Pool, func(tx pgx.Tx, now time.Time) {
					got := readBacklog(t, tx)
					want := f.m.backlogDaily(utcDay(now))
					if len(got) != len(want) {
						t.Fatalf("%d days, want %d", len(got), len(want))
					}
					for i := range want {
						g, w := got[i], want[i]
						if !g.Day.Equal(w.Day) || g.Open != w.Open || g.Request != w.Request || g.Opened != w.Opened ||
							g.Resolved != w.Resolved || g.Closed != w.Closed || !eqPtr(g.API, w.API) ||
							!eqPtr(g.SeenOpen, w.SeenOpen) || !eqPtr(g.SeenRequest, w.SeenRequest) {
							t.Errorf("day %s: got open %d request %d opened %d resolved %d closed %d api %s; "+
								"want %s open %d request %d opened %d resolved %d closed %d api %s",
								g.Day.Format(time.DateOnly), g.Open, g.Request, g.Opened, g.Resolved, g.Closed, fmtPtr(g.API),
								w.Day.Format(time.DateOnly), w.Open, w.Request, w.Opened, w.Resolved, w.Closed, fmtPtr(w.API))
						}
					}
				})
			})
			t.Run("resolution_times", func(t *testing.T) {
				rows, err := f.db.Pool.Query(ctx, `SELECT ticket_id, hours_to_resolution, report_state::text,
					game_id, console_name FROM analytics.resolution_times`)
				if err != nil {
					t.Fatal(err)
				}
				got := map[int64]float64{}
				var id int64
				var h float64
				var st string
				var game *int64
				var console *string
				if _, err := pgx.ForEachRow(rows, []any{&id, &h, &st, &game, &console}, func() error {
					got[id] = h
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				want := map[int64]float64{}
				for _, tk := range f.m.tickets {
					if h, ok := tk.hoursToResolution(); ok {
						want[tk.id] = h
					}
				}
				if len(got) != len(want) {
					t.Errorf("%d rows, want %d", len(got), len(want))
				}
				for id, w := range want {
					if g, ok := got[id]; !ok || !near(g, w) {
						t.Errorf("ticket %d: hours %v (present %v), want %v", id, g, ok, w)
					}
				}
			})
			for _, g := range []struct {
				view, key string
				fn        func(*mTicket) string
			}{
				{"by_game", "coalesce(game_id::text, '∅')", func(t *mTicket) string { return strOr(ptrStr(t.gameID), "∅") }},
				{"by_console", "coalesce(console_name, '∅')", func(t *mTicket) string { return strOr(t.console, "∅") }},
			} {
				t.Run(g.view, func(t *testing.T) {
					extra := "game_title, console_name, 0::bigint"
					if g.view == "by_console" {
						extra = "NULL::text, NULL::text, games"
					}
					rows, err := f.db.Pool.Query(ctx, `SELECT `+g.key+`, `+extra+`, open_now, total_seen, resolved, closed,
						median_hours_to_resolution, p90_hours_to_resolution, achievements, tickets_per_achievement::float8
						FROM analytics.`+g.view)
					if err != nil {
						t.Fatal(err)
					}
					got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (groupStats, error) {
						var s groupStats
						err := r.Scan(&s.Key, &s.Title, &s.Console, &s.Games, &s.OpenNow, &s.Total, &s.Resolved, &s.Closed,
							&s.Median, &s.P90, &s.Achievements, &s.PerAchievement)
						return s, err
					})
					if err != nil {
						t.Fatal(err)
					}
					want := f.m.groupBy(g.fn)
					if len(got) != len(want) {
						t.Errorf("%d rows, want %d", len(got), len(want))
					}
					for _, s := range got {
						w := want[s.Key]
						if w == nil {
							t.Errorf("unexpected row %q", s.Key)
							continue
						}
						if g.view == "by_game" && (!eqPtr(s.Title, w.Title) || !eqPtr(s.Console, w.Console)) {
							t.Errorf("%s: title %s console %s, want %s %s", s.Key, fmtPtr(s.Title), fmtPtr(s.Console),
								fmtPtr(w.Title), fmtPtr(w.Console))
						}
						if g.view == "by_console" && s.Games != w.Games {
							t.Errorf("%s: games %d, want %d", s.Key, s.Games, w.Games)
						}
						if s.OpenNow != w.OpenNow || s.Total != w.Total || s.Resolved != w.Resolved || s.Closed != w.Closed ||
							s.Achievements != w.Achievements || !nearPtr(s.Median, w.Median) || !nearPtr(s.P90, w.P90) ||
							!nearPtr(s.PerAchievement, w.PerAchievement) {
							t.Errorf("%s: got open %d total %d resolved %d closed %d median %s p90 %s achievements %d per %s; "+
								"want %d %d %d %d %s %s %d %s", s.Key, s.OpenNow, s.Total, s.Resolved, s.Closed,
								fmtPtr(s.Median), fmtPtr(s.P90), s.Achievements, fmtPtr(s.PerAchievement),
								w.OpenNow, w.Total, w.Resolved, w.Closed, fmtPtr(w.Median), fmtPtr(w.P90), w.Achievements,
								fmtPtr(w.PerAchievement))
						}
					}
				})
			}
			t.Run("by_emulator", func(t *testing.T) {
				rows, err := f.db.Pool.Query(ctx, `SELECT coalesce(emulator, '∅') || '|' || coalesce(emulator_core, '∅'),
					total, open_now, request_now, vanished, resolved, closed, quarantined, unknown_state,
					triggered_at_wrong_time, did_not_trigger, unknown_type, did_not_trigger_share::float8
					FROM analytics.by_emulator`)
				if err != nil {
					t.Fatal(err)
				}
				want := f.m.byEmulator()
				n := 0
				var k string
				var e emulatorStats
				if _, err := pgx.ForEachRow(rows, []any{&k, &e.Total, &e.OpenNow, &e.RequestNow, &e.Vanished, &e.Resolved,
					&e.Closed, &e.Quarantined, &e.UnknownState, &e.Wrong, &e.DNT, &e.UnknownType, &e.Share}, func() error {
					n++
					w := want[k]
					if w == nil {
						t.Errorf("unexpected row %q", k)
					} else if e != *w {
						t.Errorf("%s: got %+v, want %+v", k, e, *w)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if n != len(want) {
					t.Errorf("%d rows, want %d", n, len(want))
				}
			})
			asOf := at(3, 20, 12, 0)
			t.Run("developer_stats", func(t *testing.T) {
				checkDevelopers(t, f.db.Pool, `SELECT $1::timestamptz, * FROM analytics.developer_stats($1)`, asOf, f.m)
			})
			t.Run("by_developer", func(t *testing.T) {
				checkDevelopers(t, f.db.Pool, `SELECT now(), * FROM analytics.by_developer`, nil, f.m)
			})
			t.Run("reopened", func(t *testing.T) {
				rows, err := f.db.Pool.Query(ctx, `SELECT ticket_id, reopen_count, first_reopened_at, last_reopened_at,
					current_state::text FROM analytics.reopened`)
				if err != nil {
					t.Fatal(err)
				}
				want := f.m.reopened()
				n := 0
				var id int64
				var r reopenStats
				if _, err := pgx.ForEachRow(rows, []any{&id, &r.Count, &r.First, &r.Last, &r.State}, func() error {
					n++
					w, ok := want[id]
					if !ok || r.Count != w.Count || !r.First.Equal(w.First) || !r.Last.Equal(w.Last) || r.State != w.State {
						t.Errorf("ticket %d: got %+v, want %+v (expected %v)", id, r, w, ok)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if n != len(want) {
					t.Errorf("%d rows, want %d", n, len(want))
				}
			})
			t.Run("open_tickets", func(t *testing.T) {
				inTx(t, f.db.Pool, func(tx pgx.Tx, now time.Time) {
					rows, err := tx.Query(ctx, `SELECT ticket_id, age_days FROM analytics.open_tickets`)
					if err != nil {
						t.Fatal(err)
					}
					got := map[int64]float64{}
					var id int64
					var age float64
					if _, err := pgx.ForEachRow(rows, []any{&id, &age}, func() error { got[id] = age; return nil }); err != nil {
						t.Fatal(err)
					}
					n := 0
					for _, tk := range f.m.tickets {
						if !tk.inBacklogNow() {
							continue
						}
						n++
						if g, ok := got[tk.id]; !ok || !near(g, now.Sub(tk.reported).Hours()/24) {
							t.Errorf("ticket %d: age %v (present %v), want %v", tk.id, g, ok, now.Sub(tk.reported).Hours()/24)
						}
					}
					if n != len(got) {
						t.Errorf("%d open tickets, want %d", len(got), n)
					}
				})
			})
		})
	}
}

func eqTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func ptrStr(p *int64) *string {
	if p == nil {
		return nil
	}
	s := fmt.Sprint(*p)
	return &s
}

// checkDevelopers compares the rows of query (first column: the moment it
// measured from; $1 = asOf when given) with the model.
func checkDevelopers(t *testing.T, pool *pgxpool.Pool, query string, asOf any, m *model) {
	t.Helper()
	var args []any
	if asOf != nil {
		args = append(args, asOf)
	}
	rows, err := pool.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		asOf   time.Time
		author *string
		s      developerStats
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.asOf, &x.author, &x.s.OpenNow, &x.s.Resolved30, &x.s.Closed30, &x.s.MedianAgeDays, &x.s.Oldest)
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		for _, tk := range m.tickets {
			if tk.inBacklogNow() {
				t.Fatal("no rows, but there are open tickets")
			}
		}
		return
	}
	want := m.developers(got[0].asOf.UTC())
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	for _, g := range got {
		k := strOr(g.author, "∅")
		w := want[k]
		if w == nil {
			t.Errorf("unexpected row %q", k)
			continue
		}
		if g.s.OpenNow != w.OpenNow || g.s.Resolved30 != w.Resolved30 || g.s.Closed30 != w.Closed30 ||
			!nearPtr(g.s.MedianAgeDays, w.MedianAgeDays) || !eqTime(g.s.Oldest, w.Oldest) {
			t.Errorf("%s: got open %d resolved30 %d closed30 %d median %s oldest %s; want %d %d %d %s %s", k,
				g.s.OpenNow, g.s.Resolved30, g.s.Closed30, fmtPtr(g.s.MedianAgeDays), fmtPtr(g.s.Oldest),
				w.OpenNow, w.Resolved30, w.Closed30, fmtPtr(w.MedianAgeDays), fmtPtr(w.Oldest))
		}
	}
}

// TestAnalyticsByHand pins answers worked out by hand for handModel, so
// that a mistake shared by the Go model and the SQL cannot hide.
func TestAnalyticsByHand(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	handModel().insert(t, db.Pool)
	ctx := context.Background()

	t.Run("backlog_daily", func(t *testing.T) {
		inTx(t, db.Pool, func(tx pgx.Tx, now time.Time) {
			got := map[string]backlogRow{}
			for _, r := range readBacklog(t, tx) {
				got[r.Day.Format(time.DateOnly)] = r
			}
			// day: open, request, opened, resolved, closed, api
			want := []struct {
				day                                     string
				open, request, opened, resolved, closed int64
				api                                     int32 // -1: no snapshot
			}{
				{"2024-02-28", 1, 0, 1, 0, 0, -1}, // #2 open before it was first seen resolved
				{"2024-02-29", 1, 0, 0, 0, 0, -1},
				{"2024-03-01", 2, 0, 2, 0, 0, -1}, // #1 open from its report; #7 quarantined counts nowhere
				{"2024-03-02", 1, 0, 1, 1, 0, -1}, // #2 resolved at 15:00 (counted on its resolved_at); #5 first seen closed without a date
				{"2024-03-03", 2, 1, 2, 0, 0, -1}, // #3 request from its report, #8 open
				{"2024-03-04", 4, 1, 3, 1, 0, -1}, // #4, #10 (open until resolved at 01:00 next day); #9 resolved before its report
				{"2024-03-05", 3, 1, 1, 2, 1, 4},  // #3 still request: it became open exactly at midnight; #10's close dated 03-05; last snapshot wins
				{"2024-03-06", 2, 1, 0, 0, 1, -1}, // #3 open, #8 request, #6 closed
				{"2024-03-07", 3, 2, 0, 0, 0, -1}, // #1 reopened, #6 back to request
				{"2024-03-08", 3, 1, 0, 2, 0, -1}, // #6 resolved; #1 resolved at 22:00 but seen only on 03-09
				{"2024-03-09", 2, 1, 0, 0, 0, 3},
				{"2024-03-10", 1, 1, 0, 0, 0, -1}, // #4 vanished
				{"2024-03-11", 2, 1, 0, 0, 0, -1}, // #6 reopened
				{"2024-03-12", 2, 1, 0, 0, 0, -1},
			}
			for _, w := range want {
				g, ok := got[w.day]
				api := int32(-1)
				if g.API != nil {
					api = *g.API
				}
				if !ok || g.Open != w.open || g.Request != w.request || g.Opened != w.opened ||
					g.Resolved != w.resolved || g.Closed != w.closed || api != w.api {
					t.Errorf("%s: got %d/%d/%d/%d/%d api %d, want %d/%d/%d/%d/%d api %d (present %v)", w.day,
						g.Open, g.Request, g.Opened, g.Resolved, g.Closed, api,
						w.open, w.request, w.opened, w.resolved, w.closed, w.api, ok)
				}
			}
			today := got[utcDay(now).Format(time.DateOnly)]
			if today.Open != 2 || today.Request != 1 {
				t.Errorf("today: %d open %d request, want 2 and 1", today.Open, today.Request)
			}
			if first := readBacklog(t, tx)[0].Day.Format(time.DateOnly); first != "2024-02-28" {
				t.Errorf("first day %s, want 2024-02-28", first)
			}
		})
	})

	t.Run("resolution_times", func(t *testing.T) {
		want := map[int64]float64{1: 180, 2: 77, 10: 14} // 2024 is a leap year: #2 spans Feb 29
		rows, _ := db.Pool.Query(ctx, `SELECT ticket_id, hours_to_resolution FROM analytics.resolution_times`)
		got := map[int64]float64{}
		var id int64
		var h float64
		if _, err := pgx.ForEachRow(rows, []any{&id, &h}, func() error { got[id] = h; return nil }); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})

	t.Run("by_game", func(t *testing.T) {
		var title string
		var open, total, resolved, achievements int64
		var median, p90, per float64
		if err := db.Pool.QueryRow(ctx, `SELECT game_title, open_now, total_seen, resolved, median_hours_to_resolution,
			p90_hours_to_resolution, achievements, tickets_per_achievement::float8 FROM analytics.by_game WHERE game_id = 1`).
			Scan(&title, &open, &total, &resolved, &median, &p90, &achievements, &per); err != nil {
			t.Fatal(err)
		}
		// #3 open; #1 and #2 resolved in 180 and 77 hours; achievements 10 and 11.
		if title != "Sonic <1>" || open != 1 || total != 3 || resolved != 2 || !near(median, 128.5) ||
			!near(p90, 169.7) || achievements != 2 || per != 1.5 {
			t.Errorf("game 1: %q %d %d %d %v %v %d %v", title, open, total, resolved, median, p90, achievements, per)
		}
		if err := db.Pool.QueryRow(ctx, `SELECT game_title FROM analytics.by_game WHERE game_id = 2`).Scan(&title); err != nil {
			t.Fatal(err)
		}
		if title != "Zelda: Rev" {
			t.Errorf("game 2 title %q, want the most recently reported one", title)
		}
	})

	t.Run("developer_stats", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT coalesce(achievement_author, '∅'), open_now, resolved_last_30d,
			closed_last_30d, coalesce(median_open_age_days, -1) FROM analytics.developer_stats('2024-03-20 12:00Z')
			ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		var a string
		var o, r, c int64
		var m float64
		if _, err := pgx.ForEachRow(rows, []any{&a, &o, &r, &c, &m}, func() error {
			got += fmt.Sprintf("%s %d %d %d %.6f\n", a, o, r, c, m)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// alice: #3 open since 03-03 01:00 (17 d 11 h), #4 vanished, #1 resolved 03-08;
		// bob: #6 (15.125 d) and #8 (16.667 d); carol: #2, #9 resolved, #10 closed, #5 has no date.
		want := "alice 1 1 0 17.458333\nbob 2 0 0 15.895833\ncarol 0 2 1 -1.000000\n"
		if got != want {
			t.Errorf("got\n%swant\n%s", got, want)
		}
	})

	t.Run("reopened", func(t *testing.T) {
		rows, err := db.Pool.Query(ctx, `SELECT ticket_id, reopen_count FROM analytics.reopened ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		var id, n int64
		if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { got += fmt.Sprintf("#%d×%d ", id, n); return nil }); err != nil {
			t.Fatal(err)
		}
		// #6: closed -> request, resolved -> open; #8 open -> request is no reopen.
		if got != "#1×1 #6×2 " {
			t.Errorf("got %q", got)
		}
	})
}
