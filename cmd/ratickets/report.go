package main

import (
	"bufio"
	"context"
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
	stdout, stderr := st.stdout, st.stderr
	red := c.DB.redactor(st.getenv)
	log, err := newLogger(c.DB.LogFormat, c.DB.LogLevel, stderr, red, st.getenv)
	if err != nil {
		return exitCode(err, stderr, red)
	}
	opts := report.Options{Title: c.Title}
	if s := strings.TrimSpace(c.Since); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return exitCode(usageErr("--since: %q is not a date (YYYY-MM-DD)", c.Since), stderr, red)
		}
		opts.Since = t
	}
	path := c.Out
	if path == "" {
		return exitCode(usageErr("--out: empty file name"), stderr, red)
	}

	pool, err := connect(ctx, c.DB, red)
	if err != nil {
		return exitCode(err, stderr, red)
	}
	defer pool.Close()

	start := time.Now()
	if path == "-" {
		w := bufio.NewWriter(stdout)
		if err := report.Generate(ctx, pool, opts, w); err != nil {
			return exitCode(err, stderr, red)
		}
		if err := w.Flush(); err != nil {
			return exitCode(fmt.Errorf("report: write: %w", err), stderr, red)
		}
		log.Info().Dur("duration", time.Since(start)).Msg("report written to standard output")
		return exitOK
	}
	if err := writeAtomically(path, func(w io.Writer) error {
		return report.Generate(ctx, pool, opts, w)
	}); err != nil {
		return exitCode(err, stderr, red)
	}
	log.Info().Str("path", path).Dur("duration", time.Since(start)).Msg("report written")
	fmt.Fprintf(stdout, "report written to %s\n", path)
	return exitOK
}

// writeAtomically writes through a temporary file in the target's
// directory and renames it over path, so that a reader (a web server, a
// browser reloading) never sees half a report, and a failed run leaves the
// previous report in place.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriter(f)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	// CreateTemp makes the file private; a report is meant to be shared
	// like any file the user writes.
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
