package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/load"
)

// Defaults for Config's zero values.
const (
	DefaultBatchSize       = 5000
	DefaultFlushInterval   = 2 * time.Second
	DefaultVanishedRecheck = 24 * time.Hour
)

// Config is what a Sync or Backfill needs. Zero values mean the stated
// defaults.
type Config struct {
	Client  *extract.Client
	Store   *load.Store
	Log     zerolog.Logger
	Version string // recorded in sync_runs.version
	// Scan tunes the open-list pager (default page size 100, overlap 10).
	Scan extract.ScanOptions
	// BatchSize is how many tickets one transaction merges (default 5000).
	// Batches span pages.
	BatchSize int
	// FlushInterval bounds how long a partial batch waits for more pages
	// (default 2s), so a slow, rate-limited scan still lands steadily.
	FlushInterval time.Duration
	// VanishedRecheck is how long a vanished ticket goes without a lookup
	// by a sync's reconciliation (default 24h; negative: for ever), since a
	// ticket can come back.
	VanishedRecheck time.Duration
	// API is which API a run uses: APIAuto, APIV1 or APIV2 ("": APIV1, the
	// behaviour before v2; the CLI's default is APIAuto). APIAuto probes v2
	// at the start of the run and falls back to v1, saying why in one log
	// line, when the site has no v2 (404) or refuses the key there (401/403).
	API string
}

// The values of Config.API (and of --api / RA_API).
const (
	APIAuto = "auto"
	APIV1   = "v1"
	APIV2   = "v2"
)

// v2Scan is the v2 scans' options: Config.Scan's page size (at least 4),
// page limit and reread budget.
func (c *Config) v2Scan() extract.V2ScanOptions {
	o := extract.V2ScanOptions{MaxPages: c.Scan.MaxPages, MaxRereads: c.Scan.MaxRereads}
	if c.Scan.PageSize >= 4 {
		o.PageSize = c.Scan.PageSize
	}
	return o
}

// withDefaults gives zero values their stated defaults.
func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.VanishedRecheck == 0 {
		c.VanishedRecheck = DefaultVanishedRecheck
	}
	return c
}

// Summary is what one run did.
type Summary struct {
	RunID      int64
	Kind       string
	API        string // APIV1 or APIV2: the API the run used ("" when it failed before choosing)
	Status     string // load.Status*; "skipped" when another run held the lock
	Error      string
	Pages      int64
	Lookups    int64 // i= requests of a backfill by id (Pages counts list and game pages)
	Requests   int64
	Retries    int64
	Rereads    int64
	Seen       int64
	Counts     load.Counts
	Reconciled int64
	Vanished   int64
	NotFound   int64
	// LookupFailed lists the tickets reconciliation could not look up (an
	// error other than not-found, past the retries); the run then fails.
	LookupFailed   []int64
	APIOpenTickets *int64
	ScanComplete   bool
	Abandoned      int64 // stale 'running' rows this run marked abandoned
	Duration       time.Duration
}

// StatusSkipped is Summary.Status when another run held the lock.
const StatusSkipped = "skipped"

// ErrAllRejected fails a run in which every record was rejected: that is
// a sign the source changed shape, not bad luck.
var ErrAllRejected = errors.New("every record was rejected")

// runner holds one run's state.
type runner struct {
	cfg                   Config
	log                   zerolog.Logger
	runID                 int64
	sum                   Summary
	seenOpen, seenRequest int64
	base                  extract.Stats // client counters when the run started
	lock                  *load.Lock    // every batch checks it before it commits
}

func (r *runner) v2() bool { return r.sum.API == APIV2 }

// chooseAPI resolves Config.API for one run; see Config.API.
func chooseAPI(ctx context.Context, cfg Config, log zerolog.Logger) (string, error) {
	switch cfg.API {
	case APIV1, APIV2:
		return cfg.API, nil
	case "":
		return APIV1, nil
	case APIAuto:
	default:
		return "", fmt.Errorf("unknown API %q: want auto, v1 or v2", cfg.API)
	}
	err := cfg.Client.ProbeV2(ctx)
	switch {
	case err == nil:
		return APIV2, nil
	case errors.Is(err, extract.ErrV2Unavailable):
		log.Info().Str("api", APIV1).Str("reason", "v2 not available (404)").
			Msg("the site has no v2 tickets API; using v1")
		return APIV1, nil
	case errors.Is(err, extract.ErrUnauthorized):
		status := "refused"
		if apiErr := (*extract.APIError)(nil); errors.As(err, &apiErr) {
			status = strconv.Itoa(apiErr.Status)
		}
		log.Warn().Str("api", APIV1).Str("reason", "v2 refused the key ("+status+")").
			Msg("the v2 tickets API refused the key; using v1")
		return APIV1, nil
	}
	return "", fmt.Errorf("probing the v2 API: %w", err)
}

func (r *runner) progress() *load.Progress {
	st := r.cfg.Client.Stats()
	r.sum.Requests = st.Requests - r.base.Requests
	r.sum.Retries = st.Retries - r.base.Retries
	r.sum.Rereads = st.Rereads - r.base.Rereads
	return &load.Progress{Requests: r.sum.Requests, Retries: r.sum.Retries, Pages: r.sum.Pages}
}

// run takes the lock, records the run, calls work, and records the outcome.
func run(ctx context.Context, cfg Config, kind string, work func(context.Context, *runner) error) (Summary, error) {
	start := time.Now()
	cfg = cfg.withDefaults()
	log := cfg.Log.With().Str("stage", kind).Logger()
	// A schema newer than this binary means tables it does not understand:
	// write nothing, not even a sync_runs row.
	if err := cfg.Store.CheckSchema(ctx); err != nil {
		return Summary{Kind: kind, Status: load.StatusFailed, Error: err.Error()}, err
	}
	lock, ok, err := cfg.Store.TryLock(ctx)
	if err != nil {
		if ctx.Err() == nil {
			err = cfg.Store.ExplainTimeout(err)
		}
		return Summary{Kind: kind, Status: load.StatusFailed, Error: err.Error()}, err
	}
	if !ok {
		log.Info().Msg("another ratickets run holds the lock; nothing to do")
		return Summary{Kind: kind, Status: StatusSkipped}, nil
	}
	defer lock.Release()

	runID, abandoned, err := cfg.Store.StartRun(ctx, kind, cfg.Version)
	if err != nil {
		if ctx.Err() == nil {
			err = cfg.Store.ExplainTimeout(err)
		}
		return Summary{Kind: kind, Status: load.StatusFailed, Error: err.Error()}, err
	}
	runLog := cfg.Log.With().Int64("run_id", runID).Logger()
	r := &runner{cfg: cfg, runID: runID, base: cfg.Client.Stats(), lock: lock, log: runLog.With().Str("stage", kind).Logger(),
		sum: Summary{RunID: runID, Kind: kind, Abandoned: abandoned}}
	if abandoned > 0 {
		r.log.Warn().Int64("abandoned", abandoned).Msg("marked runs left 'running' by a dead process as abandoned")
	}
	ctx = runLog.WithContext(ctx) // extract and load log with run_id too

	// The API: chosen once, recorded in sync_runs.api and on every line.
	api, workErr := chooseAPI(ctx, cfg, r.log)
	if workErr == nil {
		r.sum.API = api
		runLog = runLog.With().Str("api", api).Logger()
		r.log = runLog.With().Str("stage", kind).Logger()
		ctx = runLog.WithContext(ctx)
		workErr = cfg.Store.SetRunAPI(ctx, runID, api)
	}
	if workErr == nil {
		r.log.Info().Msg("run started")
		workErr = work(ctx, r)
	}
	if ctx.Err() == nil {
		// lock_timeout or statement_timeout: say which, and what to change.
		workErr = cfg.Store.ExplainTimeout(workErr)
	}
	if workErr == nil && r.sum.Seen > 0 && r.sum.Counts.Rejected == r.sum.Seen {
		workErr = fmt.Errorf("%w (%d records): see rejected_records", ErrAllRejected, r.sum.Seen)
	}
	p := r.progress()
	res := load.RunResult{
		Status: load.StatusSucceeded, Progress: *p, ScanComplete: r.sum.ScanComplete,
		Reconciled: r.sum.Reconciled, Vanished: r.sum.Vanished, NotFound: r.sum.NotFound,
	}
	switch {
	case workErr == nil:
		if kind == load.KindSync && r.sum.ScanComplete {
			res.Snapshot = &load.Snapshot{APIOpenTickets: r.sum.APIOpenTickets, SeenOpen: r.seenOpen, SeenRequest: r.seenRequest}
		}
	case ctx.Err() != nil:
		res.Status, res.Error = load.StatusCancelled, workErr.Error()
	default:
		res.Status, res.Error = load.StatusFailed, workErr.Error()
	}
	r.sum.Status, r.sum.Error = res.Status, res.Error
	r.sum.Duration = time.Since(start)
	if err := cfg.Store.FinishRun(ctx, runID, res); err != nil {
		workErr = errors.Join(workErr, err)
	}
	// One summary line per stage, then one for the run.
	runLog.Info().Str("stage", "extract").Int64("pages", r.sum.Pages).Int64("requests", r.sum.Requests).
		Int64("retries", r.sum.Retries).Int64("rereads", r.sum.Rereads).Bool("scan_complete", r.sum.ScanComplete).
		Int64("reconciled", r.sum.Reconciled).Int64("not_found", r.sum.NotFound).Msg("stage summary")
	runLog.Info().Str("stage", "transform").Int64("records", r.sum.Seen).
		Int64("tickets", r.sum.Seen-r.sum.Counts.Rejected).Int64("rejected", r.sum.Counts.Rejected).Msg("stage summary")
	runLog.Info().Str("stage", "load").Int64("inserted", r.sum.Counts.Inserted).Int64("updated", r.sum.Counts.Updated).
		Int64("unchanged", r.sum.Counts.Unchanged).Int64("rejected", r.sum.Counts.Rejected).
		Int64("vanished", r.sum.Vanished).Msg("stage summary")
	ev := r.log.Info()
	if workErr != nil {
		ev = r.log.Error().Str("error", res.Error)
	}
	ev.Str("status", r.sum.Status).Int64("pages", r.sum.Pages).Int64("requests", r.sum.Requests).
		Int64("retries", r.sum.Retries).Int64("rereads", r.sum.Rereads).Int64("tickets_seen", r.sum.Seen).
		Int64("inserted", r.sum.Counts.Inserted).Int64("updated", r.sum.Counts.Updated).
		Int64("unchanged", r.sum.Counts.Unchanged).Int64("rejected", r.sum.Counts.Rejected).
		Int64("reconciled", r.sum.Reconciled).Int64("vanished", r.sum.Vanished).
		Bool("scan_complete", r.sum.ScanComplete).Dur("duration", r.sum.Duration).Msg("run finished")
	return r.sum, workErr
}
