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

	"github.com/ratickets/ratickets/internal/redact"
	"github.com/ratickets/ratickets/internal/report"
)

func init() { extraCommands["report"] = runReport }

const reportSynopsis = `report [flags]

Writes one self-contained HTML file (inline CSS and SVG charts, no scripts,
nothing loaded from the network) from the analytics views: the backlog over
time, tickets opened vs resolved per week, time to resolution, the games,
consoles and emulators with the most open tickets, and the oldest open
tickets. It only reads the database.`

func runReport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o := newFlagSet("report", reportSynopsis, stderr)
	c := addCommon(o)
	out := o.str("out", "", "report.html", "file to write (written to a temporary file first, then renamed); - for standard output")
	since := o.str("since", "", "", "start the time series and resolution times on this UTC day, YYYY-MM-DD (default: from the first ticket)")
	title := o.str("title", "", report.DefaultTitle, "the page's title")
	if code, ok := parseFlags(o, args, getenv); !ok {
		return code
	}
	red := redact.New(dbPasswords(c.databaseURL.val, getenv)...)
	log, err := newLogger(c.logFormat.val, c.logLevel.val, stderr, red, getenv)
	if err != nil {
		return exitCode(err, stderr, red)
	}
	opts := report.Options{Title: title.val}
	if s := strings.TrimSpace(since.val); s != "" {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return exitCode(usageErr("--since: %q is not a date (YYYY-MM-DD)", since.val), stderr, red)
		}
		opts.Since = t
	}
	path := out.val
	if path == "" {
		return exitCode(usageErr("--out: empty file name"), stderr, red)
	}

	pool, err := connect(ctx, c.databaseURL.val)
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
