package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/pipeline"
)

// backfillCmd is `ratickets backfill`.
type backfillCmd struct {
	jobFlags `embed:""`
	FromID   int64    `name:"from-id" placeholder:"ID" help:"first ticket id to fetch"`
	ToID     int64    `name:"to-id" placeholder:"ID" help:"last ticket id to fetch (inclusive)"`
	Games    bool     `name:"games" help:"backfill whole games: the game ids given as arguments (comma- or space-separated), or with none every game already in the database"`
	Restart  bool     `name:"restart" help:"ignore the stored checkpoint and start over"`
	GameIDs  []string `arg:"" optional:"" name:"game-id" help:"game ids, with --games"`
}

func (*backfillCmd) Help() string {
	return `Fetches tickets that the open list never shows (long resolved or closed
ones) through the same transform and load path as sync:
with --from-id N --to-id M every id in the range (i=ID; 404s are counted),
with --games [ID …] whole games (g=ID&d=1, and f=5 for unofficial
achievements; with no ids, every game already in the database).

Progress is checkpointed in the database with every batch: run the same
command again after a crash or Ctrl-C and it resumes (--restart starts over).
Rate-limited like sync. Shows a progress bar on a terminal, log lines otherwise.`
}

func (c *backfillCmd) run(ctx context.Context, s stdio) int {
	var games []int64
	if c.Games {
		for _, a := range c.GameIDs {
			for _, part := range strings.Split(a, ",") {
				if part == "" {
					continue
				}
				id, err := strconv.ParseInt(part, 10, 64)
				if err != nil || id <= 0 {
					return exitCode(usageErr("--games: %q is not a game id", part), s.stderr, nil)
				}
				games = append(games, id)
			}
		}
	} else if len(c.GameIDs) > 0 {
		return exitCode(usageErr("unexpected argument %q (game ids need --games)", c.GameIDs[0]), s.stderr, nil)
	}
	switch {
	case c.Games && (c.FromID != 0 || c.ToID != 0):
		return exitCode(usageErr("use either --games or --from-id/--to-id"), s.stderr, nil)
	case !c.Games && (c.FromID <= 0 || c.ToID < c.FromID):
		return exitCode(usageErr("need --from-id N --to-id M with 0 < N <= M, or --games"), s.stderr, nil)
	}
	env, err := c.setup(ctx, s)
	if err != nil {
		return exitCode(err, s.stderr, envRedactor(env))
	}
	defer env.close()
	cfg := env.pipelineConfig(c.BatchSize)
	prog := newProgress(s.stderr, env.log, c.Games)
	var sum pipeline.Summary
	if c.Games {
		sum, err = pipeline.BackfillGames(ctx, cfg, games, c.Restart, prog.update)
	} else {
		sum, err = pipeline.BackfillIDs(ctx, cfg, c.FromID, c.ToID, c.Restart, prog.update)
	}
	code := finishRun(sum, err, s.stdout, s.stderr, env.red)
	if code == exitOK && sum.Status != pipeline.StatusSkipped {
		fmt.Fprintf(s.stdout, "not found (404): %d\n", sum.NotFound)
	}
	return code
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

func newProgress(w io.Writer, log zerolog.Logger, games bool) *progress {
	p := &progress{w: w, log: log, unit: "ids", start: time.Now()}
	if games {
		p.unit = "games"
	}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.tty = true
	}
	return p
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
