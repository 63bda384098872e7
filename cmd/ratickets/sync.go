package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/metrics"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/internal/redact"
	"github.com/ratickets/ratickets/load"
)

// jobEnv is what sync, backfill and serve set up before their work: a
// logger, the redactor, a pool, an API client and (unless --no-migrate) an
// up-to-date schema.
type jobEnv struct {
	log    zerolog.Logger
	red    *redact.Redactor
	store  *load.Store
	client *extract.Client
	close  func()
}

// jobFlags are the flags of sync, backfill and serve.
type jobFlags struct {
	DB        dbFlags  `embed:""`
	API       apiFlags `embed:""`
	NoMigrate bool     `name:"no-migrate" envvar:"RATICKETS_NO_MIGRATE" help:"do not apply pending migrations first"`
	BatchSize int      `name:"batch-size" envvar:"RATICKETS_BATCH_SIZE" default:"${default_batch_size}" help:"tickets merged per transaction"`
	UseAPI    string   `name:"api" envvar:"RA_API" default:"auto" enum:"auto,v1,v2" help:"which tickets API to use: auto (probe v2 once per run, use v1 when the site has no v2 or refuses the key there), v1 (API_GetTicketData) or v2 (/api/v2/tickets)"`

	// onAttempt, when set before setup, observes every HTTP attempt of the
	// client (metrics).
	onAttempt func(extract.Attempt) `kong:"-"`
}

func (f *jobFlags) setup(ctx context.Context, s stdio) (*jobEnv, error) {
	key, err := f.API.key()
	if err != nil {
		return nil, err
	}
	red := f.DB.redactor(s.getenv, key)
	log, err := newLogger(f.DB.LogFormat, f.DB.LogLevel, s.stderr, red, s.getenv)
	if err != nil {
		return &jobEnv{red: red}, err
	}
	if f.API.keyFileWarning != "" {
		log.Warn().Str("path", f.API.APIKeyFile).Msg(f.API.keyFileWarning)
	}
	if f.BatchSize < 1 {
		return &jobEnv{red: red}, usageErr("--batch-size must be 1 or more")
	}
	ccfg, err := f.API.clientConfig(log)
	if err != nil {
		return &jobEnv{red: red}, err
	}
	ccfg.OnAttempt = f.onAttempt
	client, err := extract.New(ccfg)
	if err != nil {
		return &jobEnv{red: red}, usageErr("%v", err)
	}
	pool, err := connect(ctx, f.DB, red)
	if err != nil {
		return &jobEnv{red: red}, err
	}
	env := &jobEnv{log: log, red: red, client: client, store: load.New(pool, log), close: pool.Close}
	if !f.NoMigrate {
		m, err := load.NewMigrator(pool, log)
		if err != nil {
			pool.Close()
			return &jobEnv{red: red}, err
		}
		_, err = m.Up(ctx)
		_ = m.Close()
		if err != nil {
			pool.Close()
			return &jobEnv{red: red}, err
		}
	}
	return env, nil
}

func (e *jobEnv) pipelineConfig(f *jobFlags) pipeline.Config {
	return pipeline.Config{
		Client:    e.client,
		Store:     e.store,
		Log:       e.log,
		Version:   version(),
		BatchSize: f.BatchSize,
		API:       f.UseAPI,
	}
}

// syncCmd is `ratickets sync`.
type syncCmd struct {
	jobFlags      `embed:""`
	MaxPages      int `name:"max-pages" envvar:"RATICKETS_MAX_PAGES" default:"0" help:"stop the scan after this many page requests (0 = no limit); a partial scan reconciles nothing"`
	metricsExport `embed:""`
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
	m := metrics.New()
	c.onAttempt = m.OnAttempt
	if c.MaxPages < 0 {
		return exitCode(usageErr("--max-pages must be 0 or more"), s.stderr, nil)
	}
	env, err := c.setup(ctx, s)
	if err != nil {
		return exitCode(err, s.stderr, envRedactor(env))
	}
	defer env.close()
	cfg := env.pipelineConfig(&c.jobFlags)
	cfg.Scan.MaxPages = c.MaxPages
	c.seed(ctx, env, m)
	sum, err := pipeline.Sync(ctx, cfg)
	m.ObserveRun(sum)
	c.write(ctx, env, m)
	return finishRun(sum, err, s.stdout, s.stderr, env.red)
}

// finishRun prints a run's outcome and maps it to the exit status: a run
// skipped because another held the lock is a success (cron overlap).
func finishRun(sum pipeline.Summary, err error, stdout, stderr io.Writer, red *redact.Redactor) int {
	if sum.Status == pipeline.StatusSkipped {
		fmt.Fprintln(stdout, "another ratickets run holds the lock; nothing done")
		return exitOK
	}
	if err != nil {
		return exitCode(fmt.Errorf("%s run %d %s: %w", sum.Kind, sum.RunID, sum.Status, err), stderr, red)
	}
	printSummary(stdout, sum)
	return exitOK
}

func envRedactor(e *jobEnv) *redact.Redactor {
	if e == nil {
		return nil
	}
	return e.red
}

func printSummary(w io.Writer, s pipeline.Summary) {
	open := "?"
	if s.APIOpenTickets != nil {
		open = fmt.Sprint(*s.APIOpenTickets)
	}
	fmt.Fprintf(w, "%s run %d %s in %s with %s: %d pages, %d requests (%d retries), %d tickets seen: %d inserted, %d updated, %d unchanged, %d rejected; %d reconciled, %d vanished; API open tickets %s\n",
		s.Kind, s.RunID, s.Status, s.Duration.Round(1e6), s.API, s.Pages, s.Requests, s.Retries, s.Seen,
		s.Counts.Inserted, s.Counts.Updated, s.Counts.Unchanged, s.Counts.Rejected,
		s.Reconciled, s.Vanished, open)
}
