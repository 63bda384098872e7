package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/metrics"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/internal/redact"
	"github.com/ratickets/ratickets/load"
)

// jobFlags are the flags of sync, backfill and serve.
type jobFlags struct {
	DB        dbFlags  `embed:""`
	API       apiFlags `embed:""`
	NoMigrate bool     `name:"no-migrate" envvar:"RATICKETS_NO_MIGRATE" help:"do not apply pending migrations first"`
	BatchSize int      `name:"batch-size" envvar:"RATICKETS_BATCH_SIZE" default:"${default_batch_size}" help:"tickets merged per transaction"`
	UseAPI    string   `name:"api" envvar:"RA_API" default:"auto" enum:"auto,v1,v2" help:"which tickets API to use: auto (probe v2 once per run, use v1 when the site has no v2 or refuses the key there), v1 (API_GetTicketData) or v2 (/api/v2/tickets)"`
}

// job is what sync, backfill and serve set up before their work: the
// pipeline's config (logger, store, API client), the redactor and the
// migrator, after applying pending migrations unless --no-migrate.
type job struct {
	pipeline.Config
	red      *redact.Redactor
	migrator *load.Migrator
}

// setup returns a job whose red is set even with an error, for printing it.
func (f *jobFlags) setup(ctx context.Context, s stdio, onAttempt func(extract.Attempt)) (*job, error) {
	j := &job{}
	key, warning, err := f.API.key()
	if err != nil {
		return j, err
	}
	j.red = f.DB.redactor(s.getenv, key)
	log, err := newLogger(f.DB.LogFormat, f.DB.LogLevel, s.stderr, j.red, s.getenv)
	if err != nil {
		return j, err
	}
	if warning != "" {
		log.Warn().Str("path", f.API.APIKeyFile).Msg(warning)
	}
	if f.BatchSize < 1 {
		return j, usageErr("--batch-size must be 1 or more")
	}
	client, err := f.API.client(key, log, onAttempt)
	if err != nil {
		return j, err
	}
	pool, err := connect(ctx, f.DB, j.red)
	if err != nil {
		return j, err
	}
	j.Config = pipeline.Config{Client: client, Store: load.New(pool, log), Log: log,
		Version: version(), BatchSize: f.BatchSize, API: f.UseAPI}
	if j.migrator, err = load.NewMigrator(pool, log); err != nil {
		pool.Close()
		return j, err
	}
	if !f.NoMigrate {
		if _, err := j.migrator.Up(ctx); err != nil {
			j.close()
			return j, err
		}
	}
	return j, nil
}

func (j *job) close() {
	_ = j.migrator.Close()
	j.Store.Pool().Close()
}

// seedLastSuccess sets ratickets_last_success_timestamp_seconds from the
// database, so that a restarted serve or a one-shot sync whose run fails
// still reports the real age of the data.
func (j *job) seedLastSuccess(ctx context.Context, m *metrics.Metrics) {
	if last, err := j.Store.LastSuccess(ctx); err != nil {
		j.Log.Warn().Err(err).Msg("could not read the last successful sync from the database")
	} else if last != nil {
		m.SetLastSuccess(*last)
	}
}

// finish prints a run's outcome and maps it to the exit status: a run
// skipped because another held the lock is a success (cron overlap).
func (j *job) finish(sum pipeline.Summary, err error, s stdio) int {
	if sum.Status == pipeline.StatusSkipped {
		fmt.Fprintln(s.stdout, "another ratickets run holds the lock; nothing done")
		return exitOK
	}
	if err != nil {
		return exitCode(fmt.Errorf("%s run %d %s: %w", sum.Kind, sum.RunID, sum.Status, err), s.stderr, j.red)
	}
	open := "?"
	if sum.APIOpenTickets != nil {
		open = fmt.Sprint(*sum.APIOpenTickets)
	}
	fmt.Fprintf(s.stdout, "%s run %d %s in %s with %s: %d pages, %d requests (%d retries), %d tickets seen: %d inserted, %d updated, %d unchanged, %d rejected; %d reconciled, %d vanished; API open tickets %s\n",
		sum.Kind, sum.RunID, sum.Status, sum.Duration.Round(1e6), sum.API, sum.Pages, sum.Requests, sum.Retries, sum.Seen,
		sum.Counts.Inserted, sum.Counts.Updated, sum.Counts.Unchanged, sum.Counts.Rejected,
		sum.Reconciled, sum.Vanished, open)
	if sum.Kind == load.KindBackfill {
		what := "not found (404)"
		if sum.API == pipeline.APIV2 {
			what = "not found (absent from the v2 answers)"
		}
		fmt.Fprintf(s.stdout, "%s: %d\n", what, sum.NotFound)
	}
	return exitOK
}

// syncCmd is `ratickets sync`.
type syncCmd struct {
	jobFlags `embed:""`
	MaxPages int `name:"max-pages" envvar:"RATICKETS_MAX_PAGES" default:"0" help:"stop the scan after this many page requests (0 = no limit); a partial scan reconciles nothing"`
	// Where a one-shot run under cron leaves its metrics.
	MetricsFile string `name:"metrics-file" envvar:"RATICKETS_METRICS_FILE" placeholder:"PATH" help:"write the run's metrics to this file in node_exporter's textfile-collector format (name it *.prom; written to a temporary file, then renamed)"`
	Pushgateway string `name:"pushgateway" envvar:"RATICKETS_PUSHGATEWAY" placeholder:"URL" help:"push the run's metrics to this Prometheus Pushgateway URL, job \"ratickets\""`
}

func (*syncCmd) Help() string {
	return `Scans the whole open-ticket list of the RetroAchievements API, upserts every
ticket into PostgreSQL (an unchanged ticket is not rewritten), versions
ticket_history, and, after a complete scan only, looks up by id every ticket
the database holds as open that the scan did not see (v1: one request per
ticket; v2: up to 100 per request). Applies pending migrations first. If
another run holds the lock, exits 0 at once.

--api auto (the default) probes the v2 API once per run and uses it when it
answers, else v1; the API used is on the run's log lines and in sync_runs.api.`
}

func (c *syncCmd) run(ctx context.Context, s stdio) int {
	if c.MaxPages < 0 {
		return exitCode(usageErr("--max-pages must be 0 or more"), s.stderr, nil)
	}
	m := metrics.New()
	j, err := c.setup(ctx, s, m.OnAttempt)
	if err != nil {
		return exitCode(err, s.stderr, j.red)
	}
	defer j.close()
	j.Scan.MaxPages = c.MaxPages
	if c.MetricsFile != "" || c.Pushgateway != "" {
		j.seedLastSuccess(ctx, m)
	}
	sum, err := pipeline.Sync(ctx, j.Config)
	m.ObserveRun(sum)
	c.exportMetrics(ctx, j.Log, m)
	return j.finish(sum, err, s)
}

// exportMetrics writes the metrics after the run. A failure is logged, not
// returned: the run's exit status says how the sync went, and a metrics file
// that stops changing shows in ratickets_last_success_timestamp_seconds.
func (c *syncCmd) exportMetrics(ctx context.Context, log zerolog.Logger, m *metrics.Metrics) {
	if c.MetricsFile != "" {
		if err := m.WriteTextfile(c.MetricsFile); err != nil {
			log.Error().Err(err).Msg("could not write the metrics file")
		}
	}
	if c.Pushgateway != "" {
		// The run may have been cancelled: still push what it did.
		if err := m.Push(context.WithoutCancel(ctx), c.Pushgateway, "ratickets"); err != nil {
			log.Error().Err(err).Msg("could not push the metrics")
		}
	}
}
