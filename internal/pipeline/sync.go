package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

// Defaults for Config's zero values.
const (
	DefaultBatchSize     = 5000
	DefaultFlushInterval = 2 * time.Second
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
	// Observer, when non-nil, is told about each finished run (metrics).
	Observer func(Summary)
	// Redact, when non-nil, scrubs secrets from the error text a failed run
	// records in sync_runs.
	Redact func(string) string
}

func (c *Config) redact(s string) string {
	if c.Redact != nil {
		return c.Redact(s)
	}
	return s
}

func (c *Config) batchSize() int {
	if c.BatchSize > 0 {
		return c.BatchSize
	}
	return DefaultBatchSize
}

func (c *Config) flushInterval() time.Duration {
	if c.FlushInterval > 0 {
		return c.FlushInterval
	}
	return DefaultFlushInterval
}

// Summary is what one run did.
type Summary struct {
	RunID          int64
	Kind           string
	Status         string // load.Status*; "skipped" when another run held the lock
	Error          string
	Pages          int64
	Requests       int64
	Retries        int64
	Rereads        int64
	Seen           int64
	Counts         load.Counts
	Reconciled     int64
	Vanished       int64
	NotFound       int64
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

// Sync runs one sync: scan the whole open list, merge every ticket, and,
// after a complete scan only, look up the tickets that left the list.
func Sync(ctx context.Context, cfg Config) (Summary, error) {
	return run(ctx, cfg, load.KindSync, func(ctx context.Context, r *runner) error {
		complete, err := r.scanOpen(ctx)
		if err != nil {
			return err
		}
		if !complete {
			return nil
		}
		r.sum.ScanComplete = true
		return r.reconcile(ctx)
	})
}

// runner holds one run's state.
type runner struct {
	cfg                   Config
	log                   zerolog.Logger
	runID                 int64
	sum                   Summary
	seenOpen, seenRequest int64
	base                  extract.Stats // client counters when the run started
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
	log := cfg.Log.With().Str("stage", kind).Logger()
	lock, ok, err := cfg.Store.TryLock(ctx)
	if err != nil {
		return Summary{Kind: kind, Status: load.StatusFailed, Error: err.Error()}, err
	}
	if !ok {
		log.Info().Msg("another ratickets run holds the lock; nothing to do")
		return Summary{Kind: kind, Status: StatusSkipped}, nil
	}
	defer lock.Release()

	runID, abandoned, err := cfg.Store.StartRun(ctx, kind, cfg.Version)
	if err != nil {
		return Summary{Kind: kind, Status: load.StatusFailed, Error: err.Error()}, err
	}
	r := &runner{cfg: cfg, runID: runID, base: cfg.Client.Stats()}
	runLog := cfg.Log.With().Int64("run_id", runID).Logger()
	r.log = runLog.With().Str("stage", kind).Logger()
	r.sum = Summary{RunID: runID, Kind: kind, Abandoned: abandoned}
	if abandoned > 0 {
		r.log.Warn().Int64("abandoned", abandoned).Msg("marked runs left 'running' by a dead process as abandoned")
	}
	r.log.Info().Msg("run started")
	ctx = runLog.WithContext(ctx) // extract and load log with run_id too

	workErr := work(ctx, r)
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
		res.Status, res.Error = load.StatusCancelled, cfg.redact(workErr.Error())
	default:
		res.Status, res.Error = load.StatusFailed, cfg.redact(workErr.Error())
	}
	r.sum.Status, r.sum.Error = res.Status, res.Error
	r.sum.Duration = time.Since(start)
	if err := cfg.Store.FinishRun(ctx, runID, res); err != nil {
		workErr = errors.Join(workErr, err)
	}
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
	if cfg.Observer != nil {
		cfg.Observer(r.sum)
	}
	return r.sum, workErr
}

// batcher turns raw records into load batches: it transforms them, sets the
// rejects aside, and cuts a batch by size or by age.
type batcher struct {
	r       *runner
	size    int
	listed  bool
	cur     load.Batch
	started time.Time
}

func (b *batcher) add(raw json.RawMessage) {
	if len(b.cur.Tickets) == 0 && len(b.cur.Rejects) == 0 {
		b.started = time.Now()
	}
	t, err := transform.Parse(raw)
	if err != nil {
		var re *transform.RecordError
		rej := load.Reject{Raw: raw, Reason: err.Error()}
		if errors.As(err, &re) {
			rej.TicketID = re.TicketID
		}
		b.cur.Rejects = append(b.cur.Rejects, rej)
		b.r.log.Warn().Str("reason", err.Error()).Msg("record set aside")
		return
	}
	if b.listed {
		switch t.ReportState {
		case transform.StateOpen:
			b.r.seenOpen++
		case transform.StateRequest:
			b.r.seenRequest++
		}
	}
	b.cur.Tickets = append(b.cur.Tickets, t)
}

func (b *batcher) n() int { return len(b.cur.Tickets) + len(b.cur.Rejects) }

func (b *batcher) due(interval time.Duration) bool {
	return b.n() >= b.size || (b.n() > 0 && time.Since(b.started) >= interval)
}

func (b *batcher) take() load.Batch {
	out := b.cur
	out.Listed = b.listed
	b.cur = load.Batch{Tickets: make([]transform.Ticket, 0, b.size)}
	return out
}

// merger runs the load stage in its own goroutine, so that fetching and
// transforming the next pages overlaps with the merge of the last batch.
type merger struct {
	r      *runner
	in     chan load.Batch
	closed bool
	g      *errgroup.Group
	ctx    context.Context
}

func startMerger(ctx context.Context, r *runner) *merger {
	g, gctx := errgroup.WithContext(ctx)
	in := make(chan load.Batch, 1)
	m := &merger{r: r, in: in, g: g, ctx: gctx}
	g.Go(func() error {
		for b := range in {
			c, err := r.cfg.Store.Merge(gctx, r.runID, b)
			if err != nil {
				// Drain so the producer never blocks on a dead consumer.
				for range in {
				}
				return err
			}
			r.sum.Counts.Add(c)
		}
		return nil
	})
	return m
}

// send hands a batch to the merger; it fails when the merger has failed.
func (m *merger) send(b load.Batch) error {
	b.Progress = m.r.progress()
	select {
	case m.in <- b:
		return nil
	case <-m.ctx.Done():
		return m.wait()
	}
}

// wait closes the input (once) and returns the merger's error.
func (m *merger) wait() error {
	if !m.closed {
		close(m.in)
		m.closed = true
	}
	return m.g.Wait()
}

// scanOpen scans the open list and merges every ticket. complete is true
// when the scan reached the end of the list without error.
func (r *runner) scanOpen(ctx context.Context) (complete bool, err error) {
	m := startMerger(ctx, r)
	b := &batcher{r: r, size: r.cfg.batchSize(), listed: true}
	b.cur.Tickets = make([]transform.Ticket, 0, b.size)
	scanErr := func() (scanErr error) {
		// What was read before a failed page is still true: store it.
		defer func() {
			if b.n() > 0 && m.ctx.Err() == nil {
				scanErr = errors.Join(scanErr, m.send(b.take()))
			}
		}()
		for page, err := range r.cfg.Client.ScanOpen(m.ctx, r.cfg.Scan) {
			if err != nil {
				return err
			}
			r.sum.Pages++
			if page.OpenTickets >= 0 {
				n := int64(page.OpenTickets)
				r.sum.APIOpenTickets = &n
			}
			for _, raw := range page.Tickets {
				b.add(raw)
				r.sum.Seen++
			}
			if b.due(r.cfg.flushInterval()) {
				if err := m.send(b.take()); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	mergeErr := m.wait()
	if mergeErr == nil && errors.Is(scanErr, extract.ErrPageLimit) {
		// The page limit the user asked for: what was read is stored, but a
		// partial scan proves nothing about the tickets it did not reach.
		r.log.Warn().Int("max_pages", r.cfg.Scan.MaxPages).Msg("page limit reached: scan incomplete, nothing reconciled")
		return false, nil
	}
	if err := errors.Join(mergeErr, scanErr); err != nil {
		return false, err
	}
	return true, nil
}

// reconcile looks up, by id, every ticket the database holds as open or
// request that the complete scan did not see, and stores what the source
// says of it now. A 404 marks the ticket vanished; its state stays.
func (r *runner) reconcile(ctx context.Context) error {
	ids, err := r.cfg.Store.ReconcileCandidates(ctx, r.runID)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	r.log.Info().Int("tickets", len(ids)).Msg("reconciling tickets that left the open list")
	m := startMerger(ctx, r)
	b := &batcher{r: r, size: r.cfg.batchSize()}
	b.cur.Tickets = make([]transform.Ticket, 0, min(b.size, len(ids)))
	var gone []int64
	lookErr := func() error {
		for _, id := range ids {
			raw, err := r.cfg.Client.Ticket(m.ctx, id)
			if errors.Is(err, extract.ErrNotFound) {
				gone = append(gone, id)
				continue
			}
			if err != nil {
				return fmt.Errorf("reconcile ticket %d: %w", id, err)
			}
			b.add(raw)
			r.sum.Reconciled++
			if b.due(r.cfg.flushInterval()) {
				if err := m.send(b.take()); err != nil {
					return err
				}
			}
		}
		if b.n() > 0 {
			return m.send(b.take())
		}
		return nil
	}()
	if err := errors.Join(m.wait(), lookErr); err != nil {
		return err
	}
	r.sum.NotFound = int64(len(gone))
	n, err := r.cfg.Store.MarkVanished(ctx, r.runID, gone)
	r.sum.Vanished = n
	return err
}
