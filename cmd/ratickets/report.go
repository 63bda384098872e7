package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ratickets/ratickets/internal/report"
)

// reportCmd is `ratickets report`.
type reportCmd struct {
	DB    dbFlags `embed:""`
	Out   string  `name:"out" envvar:"RATICKETS_REPORT_OUT" default:"report.html" placeholder:"PATH" help:"file to write (written to a temporary file first, then renamed); - for standard output"`
	Since string  `name:"since" envvar:"RATICKETS_REPORT_SINCE" placeholder:"YYYY-MM-DD" help:"start the time series and resolution times on this UTC day (default: from the first ticket)"`
	Title string  `name:"title" envvar:"RATICKETS_REPORT_TITLE" default:"${default_title}" help:"the page's title"`
}

func (*reportCmd) Help() string {
	return `Writes one self-contained HTML file (inline CSS and SVG charts, no scripts,
nothing loaded from the network) from the analytics views: the backlog over
time, tickets opened vs resolved per week, time to resolution, the games,
consoles and emulators with the most open tickets, and the oldest open
tickets. It only reads the database.`
}

func (c *reportCmd) run(ctx context.Context, st stdio) int {
	red := c.DB.redactor(st.getenv)
	log, err := newLogger(c.DB.LogFormat, c.DB.LogLevel, st.stderr, red, st.getenv)
	if err != nil {
		return exitCode(err, st.stderr, red)
	}
	opts := report.Options{Title: c.Title}
	if s := strings.TrimSpace(c.Since); s != "" {
		if opts.Since, err = time.Parse(time.DateOnly, s); err != nil {
			return exitCode(usageErr("--since: %q is not a date (YYYY-MM-DD)", c.Since), st.stderr, red)
		}
	}
	if c.Out == "" {
		return exitCode(usageErr("--out: empty file name"), st.stderr, red)
	}
	pool, err := connect(ctx, c.DB, red)
	if err != nil {
		return exitCode(err, st.stderr, red)
	}
	defer pool.Close()

	start := time.Now()
	generate := func(w io.Writer) error { return report.Generate(ctx, pool, opts, w) }
	if c.Out == "-" {
		if err := generate(st.stdout); err != nil {
			return exitCode(err, st.stderr, red)
		}
		log.Info().Dur("duration", time.Since(start)).Msg("report written to standard output")
		return exitOK
	}
	if err := writeAtomically(c.Out, generate); err != nil {
		return exitCode(err, st.stderr, red)
	}
	log.Info().Str("path", c.Out).Dur("duration", time.Since(start)).Msg("report written")
	fmt.Fprintf(st.stdout, "report written to %s\n", c.Out)
	return exitOK
}

// writeAtomically writes through a temporary file in the target's
// directory and renames it over path, so that a reader (a web server, a
// browser reloading) never sees half a report, and a failed run leaves the
// previous report in place. report.Generate renders into memory and writes
// the page at once, so the file needs no buffer.
func writeAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	// CreateTemp makes the file private; a report is meant to be shared
	// like any file the user writes.
	err = errors.Join(f.Chmod(0o644), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}
