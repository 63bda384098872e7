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

const backfillSynopsis = `backfill (--from-id N --to-id M | --games [ID …]) [flags]

Fetches tickets that the open list never shows (long resolved or closed
ones) through the same transform and load path as sync.

  --from-id/--to-id  fetch every id in the range with i=ID; 404s are counted
  --games [ID …]     fetch whole games with g=ID&d=1 (and f=5 for unofficial
                     achievements); with no ids, every game already in the database

Progress is checkpointed in the database with every batch: run the same
command again after a crash or Ctrl-C and it resumes (--restart starts over).
Rate-limited like sync. Shows a progress bar on a terminal, log lines otherwise.`

func runBackfill(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o := newFlagSet("backfill", backfillSynopsis, stderr)
	jf := addJobFlags(o)
	fromID := o.fs.Int64("from-id", 0, "first ticket id to fetch")
	toID := o.fs.Int64("to-id", 0, "last ticket id to fetch (inclusive)")
	gamesMode := o.fs.Bool("games", false, "backfill whole games; the game ids follow the flags")
	restart := o.fs.Bool("restart", false, "ignore the stored checkpoint and start over")
	batch := o.fs.Int("batch-size", pipeline.DefaultBatchSize, "tickets merged per transaction")
	if err := o.parse(args, getenv); err != nil {
		return exitUsage
	}
	var games []int64
	if *gamesMode {
		for _, a := range o.fs.Args() {
			for _, part := range strings.Split(a, ",") {
				if part == "" {
					continue
				}
				id, err := strconv.ParseInt(part, 10, 64)
				if err != nil || id <= 0 {
					return exitCode(usageErr("--games: %q is not a game id", part), stderr, nil)
				}
				games = append(games, id)
			}
		}
	} else if o.fs.NArg() > 0 {
		return exitCode(usageErr("unexpected argument %q", o.fs.Arg(0)), stderr, nil)
	}
	switch {
	case *gamesMode && (*fromID != 0 || *toID != 0):
		return exitCode(usageErr("use either --games or --from-id/--to-id"), stderr, nil)
	case !*gamesMode && (*fromID <= 0 || *toID < *fromID):
		return exitCode(usageErr("need --from-id N --to-id M with 0 < N <= M, or --games"), stderr, nil)
	}
	env, err := jf.setup(ctx, getenv, stderr)
	if err != nil {
		return exitCode(err, stderr, envRedactor(env))
	}
	defer env.close()
	cfg := env.pipelineConfig()
	cfg.BatchSize = *batch
	prog := newProgress(stderr, env.log, *gamesMode)
	var sum pipeline.Summary
	if *gamesMode {
		sum, err = pipeline.BackfillGames(ctx, cfg, games, *restart, prog.update)
	} else {
		sum, err = pipeline.BackfillIDs(ctx, cfg, *fromID, *toID, *restart, prog.update)
	}
	code := finishRun(sum, err, stdout, stderr, env.red)
	if code == exitOK && sum.Status != pipeline.StatusSkipped {
		fmt.Fprintf(stdout, "not found (404): %d\n", sum.NotFound)
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
