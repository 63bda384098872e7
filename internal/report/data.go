package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// dayRow is one row of analytics.backlog_daily.
type dayRow struct {
	Day                      time.Time
	Open, Request            int64
	Opened, Resolved, Closed int64
	APIOpen                  *int32
}

// countRow is a label with a count, for the horizontal bar charts.
type countRow struct {
	Label string
	N     int64
}

type openTicket struct {
	ID            int64
	State         string
	ReportedAt    time.Time
	Game, Console string
	Achievement   string
	Author        string
	AgeDays       float64 `db:"-"` // at the report's now
}

// emulatorBar is an emulator (all cores) with its tickets ever seen and
// those open or request now.
type emulatorBar struct {
	Label          string
	Total, Backlog int64
}

type emulatorRow struct {
	Emulator, Core string
	Total, Backlog int64
	DidNotTrigger  float64 // share 0-1
}

type developerRow struct {
	Author               string
	OpenNow              int64
	Resolved30, Closed30 int64
	MedianAgeDays        *float64
	Handled30            int64 // resolved or closed in 30 days by anyone, the same in every row
}

type reopenedRow struct {
	ID           int64
	Count        int64
	LastReopened time.Time
	State        string
	Game         string
	Achievement  string
	Total        int64 // reopened tickets in all, the same in every row
}

// data is everything the page shows, read in one snapshot.
type data struct {
	Days          []dayRow
	ResBuckets    []int64 // counts per resolutionBuckets entry
	ResCount      int64
	ResMedian     *float64
	ResP90        *float64
	TopGames      []countRow
	TopConsoles   []countRow
	Emulators     []emulatorBar
	EmulatorTable []emulatorRow
	Oldest        []openTicket
	Developers    []developerRow
	Reopened      []reopenedRow
	ReopenedTotal int64

	OpenNow, RequestNow int64
	TotalTickets        int64
	ResolvedLast30      int64
	LastSync            *time.Time
}

// resolutionBuckets are the upper bounds, in hours, of the time-to-resolution
// histogram's bins (the last bin is open-ended). The bins grow roughly
// geometrically because resolution times span minutes to years.
var resolutionBuckets = []struct {
	upper float64
	label string
}{
	{1, "<1 h"}, {6, "1–6 h"}, {24, "6–24 h"}, {72, "1–3 d"}, {168, "3–7 d"},
	{336, "1–2 wk"}, {720, "2–4 wk"}, {2160, "1–3 mo"}, {4320, "3–6 mo"},
	{8760, "6–12 mo"}, {17520, "1–2 y"}, {0, ">2 y"},
}

const (
	topN         = 15
	oldestN      = 20
	developersN  = 15
	reopenedN    = 10
	emulatorRows = 20
)

// ticketableTitle names what a ticket of analytics.open_tickets or
// analytics.reopened is about: its achievement, or its leaderboard (whose
// achievement columns are NULL).
const ticketableTitle = `CASE WHEN ticketable_type = 'leaderboard'
				THEN 'Leaderboard: ' || coalesce(leaderboard_title, leaderboard_id::text, '?')
				ELSE coalesce(achievement_title, '') END`

// readData reads the page's data in one read-only, repeatable-read transaction,
// so that every figure describes the same moment.
func readData(ctx context.Context, tx pgx.Tx, since, now time.Time) (*data, error) {
	d := &data{}
	// UTC midnights: since and now are UTC.
	sinceDay, nowDay := since.Truncate(24*time.Hour), now.Truncate(24*time.Hour)

	steps := []struct {
		name string
		fn   func() error
	}{
		{"backlog_daily", func() (err error) {
			d.Days, err = collect[dayRow](ctx, tx, `SELECT day, open, request, opened, resolved, closed, api_open_tickets
				FROM analytics.backlog_daily WHERE day >= $1 AND day <= $2 ORDER BY day`, sinceDay, nowDay)
			return err
		}},
		{"resolution_times", func() error {
			bounds := make([]float64, 0, len(resolutionBuckets)-1)
			for _, b := range resolutionBuckets[:len(resolutionBuckets)-1] {
				bounds = append(bounds, b.upper)
			}
			d.ResBuckets = make([]int64, len(resolutionBuckets))
			rows, err := tx.Query(ctx, `SELECT width_bucket(hours_to_resolution, $2::float8[]), count(*)
				FROM analytics.resolution_times WHERE resolved_at >= $1 AND resolved_at <= $3 GROUP BY 1`,
				since, bounds, now)
			if err != nil {
				return err
			}
			var b int
			var n int64
			_, err = pgx.ForEachRow(rows, []any{&b, &n}, func() error {
				if b >= 0 && b < len(d.ResBuckets) {
					d.ResBuckets[b] += n
				}
				d.ResCount += n
				return nil
			})
			if err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_resolution),
				percentile_cont(0.9) WITHIN GROUP (ORDER BY hours_to_resolution)
				FROM analytics.resolution_times WHERE resolved_at >= $1 AND resolved_at <= $2`,
				since, now).Scan(&d.ResMedian, &d.ResP90)
		}},
		// The top lists read analytics.open_tickets (the backlog's partial
		// index) rather than by_game/by_console, which aggregate every
		// ticket ever seen.
		{"top games", func() (err error) {
			d.TopGames, err = collect[countRow](ctx, tx, `SELECT coalesce((array_agg(game_title ORDER BY reported_at DESC, ticket_id DESC))[1],
				       'game ' || game_id::text, '(no game)')
				|| coalesce(' (' || (array_agg(console_name ORDER BY reported_at DESC, ticket_id DESC))[1] || ')', ''),
				count(*)
				FROM analytics.open_tickets GROUP BY game_id ORDER BY 2 DESC, 1 LIMIT $1`, topN)
			return err
		}},
		{"top consoles", func() (err error) {
			d.TopConsoles, err = collect[countRow](ctx, tx, `SELECT coalesce(console_name, '(no console)'), count(*)
				FROM analytics.open_tickets GROUP BY console_name ORDER BY 2 DESC, 1 LIMIT $1`, topN)
			return err
		}},
		{"by_emulator", func() (err error) {
			d.Emulators, err = collect[emulatorBar](ctx, tx, `SELECT coalesce(emulator, '(not stated)'), sum(total)::bigint,
				sum(open_now + request_now)::bigint
				FROM analytics.by_emulator GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $1`, topN)
			if err != nil {
				return err
			}
			d.EmulatorTable, err = collect[emulatorRow](ctx, tx, `SELECT coalesce(emulator, '(not stated)'), coalesce(emulator_core, ''),
				total, open_now + request_now, did_not_trigger_share::float8
				FROM analytics.by_emulator ORDER BY total DESC, 1, 2 LIMIT $1`, emulatorRows)
			return err
		}},
		{"open_tickets", func() error {
			if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE report_state = 'open'),
				count(*) FILTER (WHERE report_state = 'request') FROM analytics.open_tickets`).
				Scan(&d.OpenNow, &d.RequestNow); err != nil {
				return err
			}
			var err error
			d.Oldest, err = collect[openTicket](ctx, tx, `SELECT ticket_id, report_state::text, reported_at,
				coalesce(game_title, ''), coalesce(console_name, ''), `+ticketableTitle+`,
				coalesce(achievement_author, '')
				FROM analytics.open_tickets ORDER BY reported_at, ticket_id LIMIT $1`, oldestN)
			for i := range d.Oldest {
				d.Oldest[i].AgeDays = now.Sub(d.Oldest[i].ReportedAt).Hours() / 24
			}
			return err
		}},
		{"developer_stats", func() error {
			// One call of the function: the 30-day total comes along
			// with the top rows (none: no author, nothing handled).
			var err error
			d.Developers, err = collect[developerRow](ctx, tx, `SELECT coalesce(achievement_author, '(unknown)'), open_now,
				resolved_last_30d, closed_last_30d, median_open_age_days,
				sum(resolved_last_30d + closed_last_30d) OVER ()::bigint
				FROM analytics.developer_stats($1) ORDER BY open_now DESC, resolved_last_30d DESC, 1 LIMIT $2`,
				now, developersN)
			if len(d.Developers) > 0 {
				d.ResolvedLast30 = d.Developers[0].Handled30
			}
			return err
		}},
		{"reopened", func() error {
			// One pass over the view (it walks the whole history): the
			// total comes along with the top rows.
			var err error
			d.Reopened, err = collect[reopenedRow](ctx, tx, `SELECT ticket_id, reopen_count, last_reopened_at, current_state::text,
				coalesce(game_title, ''), `+ticketableTitle+`, count(*) OVER ()
				FROM analytics.reopened ORDER BY reopen_count DESC, last_reopened_at DESC, ticket_id LIMIT $1`, reopenedN)
			if len(d.Reopened) > 0 {
				d.ReopenedTotal = d.Reopened[0].Total
			}
			return err
		}},
		{"totals", func() error {
			return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM tickets),
				(SELECT max(taken_at) FROM open_ticket_snapshots)`).Scan(&d.TotalTickets, &d.LastSync)
		}},
	}
	for _, s := range steps {
		if err := s.fn(); err != nil {
			return nil, fmt.Errorf("report: read %s: %w", s.name, err)
		}
	}
	return d, nil
}

// collect reads the rows of a query into T's fields, by position.
func collect[T any](ctx context.Context, tx pgx.Tx, sql string, args ...any) ([]T, error) {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[T])
}
