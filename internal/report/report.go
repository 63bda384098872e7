package report

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options say what the report covers.
type Options struct {
	// Since starts the time series (backlog, weekly flow) and the
	// resolution-time histogram; the zero value means from the first
	// ticket. Panels about the backlog now are not limited by it.
	Since time.Time
	// Now ends the time series and is what the ages of open tickets and the
	// 30-day window are measured from. Zero means time.Now. Ticket states
	// are always the database's current ones.
	Now time.Time
	// Title is the page's heading; empty means DefaultTitle.
	Title string
}

// DefaultTitle is the title of a report whose Options leave it empty.
const DefaultTitle = "RetroAchievements tickets"

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"days":     func(f float64) string { return fmt.Sprintf("%.0f", f) },
	"pct":      func(f float64) string { return fmt.Sprintf("%.0f %%", 100*f) },
	"num":      thousands,
}).Parse(pageTemplate))

// ErrNoSchema means the analytics views are missing: the database has not
// been migrated to a version that has them.
var ErrNoSchema = errors.New("report: the analytics schema is missing; run `ratickets migrate up`")

// Generate reads the analytics views and writes the report to w as one
// self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched
// from the network). Nothing is written when it fails.
func Generate(ctx context.Context, pool *pgxpool.Pool, opts Options, w io.Writer) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	since := opts.Since.UTC()
	title := cmp.Or(strings.TrimSpace(opts.Title), DefaultTitle)

	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("report: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var present bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('analytics.backlog_daily') IS NOT NULL`).Scan(&present); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if !present {
		return ErrNoSchema
	}
	d, err := readData(ctx, tx, since, now)
	if err != nil {
		return err
	}

	v := view{Title: title, Now: now, Since: since, D: d}
	for _, draw := range []func(*data) (chart, error){backlogChart, flowChart, resolutionChart, gamesChart, consolesChart, emulatorChart} {
		c, err := draw(d)
		if err != nil {
			return err
		}
		v.Charts = append(v.Charts, c)
	}

	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("report: render page: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// view is what the template sees.
type view struct {
	Title  string
	Now    time.Time
	Since  time.Time // zero: from the first ticket
	Charts []chart
	D      *data
}

// thousands writes n with thin spaces between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := 0
	if n < 0 {
		sign = 1
	}
	for i := len(s) - 3; i > sign; i -= 3 {
		s = s[:i] + "\u202f" + s[i:]
	}
	return s
}
