package main

import (
	"context"
	"errors"
	"flag"
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

type jobFlags struct {
	common    *common
	api       *apiOpts
	noMigrate *bool
	// onAttempt, when set before setup, observes every HTTP attempt of the
	// client (metrics).
	onAttempt func(extract.Attempt)
}

func addJobFlags(o *options) *jobFlags {
	return &jobFlags{
		common:    addCommon(o),
		api:       addAPI(o),
		noMigrate: o.fs.Bool("no-migrate", false, "do not apply pending migrations first"),
	}
}

// parseFlags parses and maps the flag package's errors to exit codes.
func parseFlags(o *options, args []string, getenv func(string) string) (int, bool) {
	if err := o.parse(args, getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if o.fs.NArg() > 0 {
		fmt.Fprintf(o.fs.Output(), "ratickets %s: unexpected argument %q\n", o.fs.Name(), o.fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

func (f *jobFlags) setup(ctx context.Context, getenv func(string) string, stderr io.Writer) (*jobEnv, error) {
	key, err := f.api.key()
	if err != nil {
		return nil, err
	}
	red := redact.New(append(dbPasswords(f.common.databaseURL.val, getenv), key)...)
	log, err := newLogger(f.common.logFormat.val, f.common.logLevel.val, stderr, red, getenv)
	if err != nil {
		return &jobEnv{red: red}, err
	}
	if f.api.keyFileWarning != "" {
		log.Warn().Str("path", f.api.apiKeyFile.val).Msg(f.api.keyFileWarning)
	}
	ccfg, err := f.api.clientConfig(log)
	if err != nil {
		return &jobEnv{red: red}, err
	}
	ccfg.OnAttempt = f.onAttempt
	client, err := extract.New(ccfg)
	if err != nil {
		return &jobEnv{red: red}, usageErr("%v", err)
	}
	pool, err := connect(ctx, f.common.databaseURL.val)
	if err != nil {
		return &jobEnv{red: red}, err
	}
	env := &jobEnv{log: log, red: red, client: client, store: load.New(pool, log), close: pool.Close}
	if !*f.noMigrate {
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

func (e *jobEnv) pipelineConfig() pipeline.Config {
	return pipeline.Config{
		Client:  e.client,
		Store:   e.store,
		Log:     e.log,
		Version: version(),
		Redact:  e.red.String,
	}
}

const syncSynopsis = `sync [flags]

Scans the whole open-ticket list of the RetroAchievements API, upserts every
ticket into PostgreSQL (an unchanged ticket is not rewritten), versions
ticket_history, and, after a complete scan only, looks up by id every ticket
the database holds as open that the scan did not see. Applies pending
migrations first. If another run holds the lock, exits 0 at once.`

func runSync(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o := newFlagSet("sync", syncSynopsis, stderr)
	jf := addJobFlags(o)
	batch := o.fs.Int("batch-size", pipeline.DefaultBatchSize, "tickets merged per transaction")
	maxPages := o.fs.Int("max-pages", 0, "stop the scan after this many page requests (0 = no limit); a partial scan reconciles nothing")
	export := addMetricsExport(o)
	m := metrics.New()
	jf.onAttempt = m.OnAttempt
	if code, ok := parseFlags(o, args, getenv); !ok {
		return code
	}
	env, err := jf.setup(ctx, getenv, stderr)
	if err != nil {
		return exitCode(err, stderr, envRedactor(env))
	}
	defer env.close()
	cfg := env.pipelineConfig()
	cfg.BatchSize = *batch
	cfg.Scan.MaxPages = *maxPages
	export.seed(ctx, env, m)
	sum, err := pipeline.Sync(ctx, cfg)
	m.ObserveRun(sum)
	export.write(ctx, env, m)
	return finishRun(sum, err, stdout, stderr, env.red)
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
	fmt.Fprintf(w, "%s run %d %s in %s: %d pages, %d requests (%d retries), %d tickets seen: %d inserted, %d updated, %d unchanged, %d rejected; %d reconciled, %d vanished; API open tickets %s\n",
		s.Kind, s.RunID, s.Status, s.Duration.Round(1e6), s.Pages, s.Requests, s.Retries, s.Seen,
		s.Counts.Inserted, s.Counts.Updated, s.Counts.Unchanged, s.Counts.Rejected,
		s.Reconciled, s.Vanished, open)
}
