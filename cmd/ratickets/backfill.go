package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/pipeline"
)

// backfillCmd is `ratickets backfill`.
type backfillCmd struct {
	jobFlags `embed:""`
	FromID   int64    `name:"from-id" placeholder:"ID" help:"first ticket id to fetch"`
	ToID     int64    `name:"to-id" placeholder:"ID" help:"last ticket id to fetch (inclusive)"`
	Games    bool     `name:"games" help:"backfill whole games: the game ids given as arguments (comma- or space-separated), or with none every game already in the database"`
	All      bool     `name:"all" help:"backfill every ticket in every state (v2: the whole list, 100 per request; v1: every id from 1 to the highest the database knows, one request each)"`
	Restart  bool     `name:"restart" help:"ignore the stored checkpoint and start over"`
	GameIDs  []string `arg:"" optional:"" name:"game-id" help:"game ids, with --games"`
}

func (*backfillCmd) Help() string {
	return `Fetches tickets that the open list never shows (long resolved or closed
ones) through the same transform and load path as sync:
with --all every ticket in every state (v2: filter[state]=all&sort=id,
pages of 100, about ceil(N/100) requests for N tickets, leaderboard tickets
included; v1, which has no such list: every id from 1 to the highest id the
database knows, one i= request each, after printing how long that takes at
--rps),
with --from-id N --to-id M every id in the range (v1: i=ID, one request per
id; v2: filter[id], 100 ids per request; not-found ids are counted),
with --games [ID …] whole games (v1: g=ID&d=1, and f=5 for unofficial
achievements; v2: filter[gameId]; with no ids, every game already in the
database).

--api auto (the default) probes the v2 API once per run and uses it when it
answers, else v1. Progress is checkpointed in the database with every batch:
run the same command again after a crash or Ctrl-C and it resumes (--restart
starts over). Rate-limited like sync. Shows a progress bar with an ETA on a
terminal, log lines otherwise.`
}

func (c *backfillCmd) run(ctx context.Context, s stdio) int {
	var games []int64
	if c.Games {
		for _, part := range strings.Split(strings.Join(c.GameIDs, ","), ",") {
			if part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil || id <= 0 {
				return exitCode(usageErr("--games: %q is not a game id", part), s.stderr, nil)
			}
			games = append(games, id)
		}
	} else if len(c.GameIDs) > 0 {
		return exitCode(usageErr("unexpected argument %q (game ids need --games)", c.GameIDs[0]), s.stderr, nil)
	}
	ids := c.FromID != 0 || c.ToID != 0
	switch {
	case c.All && (c.Games || ids):
		return exitCode(usageErr("use only one of --all, --games and --from-id/--to-id"), s.stderr, nil)
	case c.Games && ids:
		return exitCode(usageErr("use either --games or --from-id/--to-id"), s.stderr, nil)
	case !c.Games && !c.All && (c.FromID <= 0 || c.ToID < c.FromID):
		return exitCode(usageErr("need --from-id N --to-id M with 0 < N <= M, --games or --all"), s.stderr, nil)
	}
	j, err := c.setup(ctx, s, nil)
	if err != nil {
		return exitCode(err, s.stderr, j.red)
	}
	defer j.close()
	prog := &progress{w: s.stderr, log: j.Log, tty: isTerminal(s.stderr), unit: "ids", start: time.Now()}
	if c.Games {
		prog.unit = "games"
	}
	var sum pipeline.Summary
	switch {
	case c.All:
		sum, err = pipeline.BackfillAll(ctx, j.Config, c.Restart, func(p pipeline.AllPlan) {
			if p.API == pipeline.APIV2 {
				prog.unit = "pages"
				return
			}
			// On stdout: stderr is the log.
			fmt.Fprintln(s.stdout, v1AllPlan(p, c.API.RPS))
			j.Log.Info().Str("stage", "backfill").Str("api", p.API).Int64("from_id", p.From).Int64("to_id", p.To).
				Float64("rps", c.API.RPS).Msg("backfill --all with v1: one request per id")
		}, prog.update)
	case c.Games:
		sum, err = pipeline.BackfillGames(ctx, j.Config, games, c.Restart, prog.update)
	default:
		sum, err = pipeline.BackfillIDs(ctx, j.Config, c.FromID, c.ToID, c.Restart, prog.update)
	}
	return j.finish(sum, err, s)
}

// v1AllPlan says what a backfill --all with v1 will fetch and how long
// that takes at rps requests a second.
func v1AllPlan(p pipeline.AllPlan, rps float64) string {
	if p.To == 0 {
		return "backfill --all with v1: the database knows no ticket yet (v1 has no list of every ticket); run sync first"
	}
	n := max(p.To-p.From+1, 0)
	at := "at an unlimited rate (--rps 0), as fast as the site answers"
	if rps > 0 {
		d := time.Duration(float64(n) / rps * float64(time.Second)).Round(time.Minute)
		at = fmt.Sprintf("about %s at %g requests/s", d, rps)
	}
	verb := "fetching"
	if p.Resumed {
		verb = "resuming: fetching"
	}
	return fmt.Sprintf("backfill --all with v1 (no v2 API): %s ids %d..%d one request each (%d requests), %s", verb, p.From, p.To, n, at)
}

// progress shows a backfill's progress: a bar redrawn in place on a
// terminal, a log line every few seconds otherwise.
type progress struct {
	w       io.Writer
	log     zerolog.Logger
	tty     bool
	unit    string
	start   time.Time
	lastLog time.Time
}

func (p *progress) update(done, total int64, final bool) {
	elapsed := time.Since(p.start)
	rate := float64(done) / max(elapsed.Seconds(), 1e-9)
	eta := "?"
	if rate > 0 && total >= done {
		eta = (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second).String()
	}
	if p.tty {
		const width = 30
		fill := 0
		if total > 0 {
			fill = int(int64(width) * done / total)
		}
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s  %.1f/s  ETA %s ", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total, p.unit, rate, eta)
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	if final || time.Since(p.lastLog) >= 10*time.Second {
		p.lastLog = time.Now()
		p.log.Info().Str("stage", "backfill").Int64("done", done).Int64("total", total).Str("unit", p.unit).
			Float64("per_second", rate).Str("eta", eta).Msg("backfill progress")
	}
}
