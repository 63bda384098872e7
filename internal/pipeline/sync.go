package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
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
	// (default 24h): a sync's reconciliation looks it up again once its
	// last not-found answer is older than that, since a ticket can come
	// back. Negative: never.
	VanishedRecheck time.Duration
}

func (c *Config) vanishedRecheck() time.Duration {
	switch {
	case c.VanishedRecheck < 0:
		return 0
	case c.VanishedRecheck == 0:
		return DefaultVanishedRecheck
	}
	return c.VanishedRecheck
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
	RunID      int64
	Kind       string
	Status     string // load.Status*; "skipped" when another run held the lock
	Error      string
	Pages      int64
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

// batcher turns raw records into load batches: it transforms them, sets the
// rejects aside, and cuts a batch by size or by age. Tickets stream into the
// batch's staging table a page at a time (load.BatchWriter), so a batch is
// never held in memory whole.
type batcher struct {
	r       *runner
	ctx     context.Context // the merger's: a failed merge stops the COPY too
	size    int
	listed  bool
	w       *load.BatchWriter  // the current batch; nil until its first record
	page    []transform.Ticket // parsed, not yet handed to w
	count   int                // records in the current batch
	started time.Time
}

// pageRows is how many parsed tickets go to the COPY at once: one API page.
const pageRows = 100

func (b *batcher) add(raw json.RawMessage) {
	if b.w == nil {
		b.w = b.r.cfg.Store.NewBatch(b.ctx, b.r.runID, b.listed)
		b.started = time.Now()
	}
	b.count++
	t, err := transform.Parse(raw)
	if err != nil {
		var re *transform.RecordError
		rej := load.Reject{Raw: raw, Reason: err.Error()}
		if errors.As(err, &re) {
			rej.TicketID = re.TicketID
		}
		b.w.Reject(rej)
		b.r.log.Warn().Str("reason", err.Error()).Msg("record set aside")
		return
	}
	for _, p := range t.Problems {
		b.w.Reject(load.Reject{TicketID: &t.ID, Raw: raw, Reason: p.Reason, Field: p.Field})
		b.r.log.Warn().Int64("ticket_id", t.ID).Str("field", p.Field).Str("reason", p.Reason).Msg("field stored as NULL")
	}
	if b.listed {
		switch t.ReportState {
		case transform.StateOpen:
			b.r.seenOpen++
		case transform.StateRequest:
			b.r.seenRequest++
		}
	}
	if b.page == nil {
		b.page = make([]transform.Ticket, 0, pageRows)
	}
	b.page = append(b.page, t)
	if len(b.page) == pageRows {
		b.feed()
	}
}

// feed hands the parsed tickets to the batch's COPY. A failure is kept by
// the writer and reported by its Commit.
func (b *batcher) feed() {
	if len(b.page) > 0 {
		_ = b.w.Add(b.page) // the writer owns the slice now
		b.page = nil
	}
}

func (b *batcher) n() int { return b.count }

func (b *batcher) due(interval time.Duration) bool {
	return b.count >= b.size || (b.count > 0 && time.Since(b.started) >= interval)
}

// take ends the current batch (an empty one when nothing was added, e.g. to
// carry a checkpoint) for the merger.
func (b *batcher) take() pending {
	if b.w == nil {
		b.w = b.r.cfg.Store.NewBatch(b.ctx, b.r.runID, b.listed)
	}
	b.feed()
	// Take the batch's connection now, in batch order (see
	// load.BatchWriter.Open); a failure is reported by its Commit.
	_ = b.w.Open()
	out := pending{w: b.w}
	b.w, b.count = nil, 0
	return out
}

// discard rolls back a batch that was never handed over (the run stopped).
func (b *batcher) discard() {
	if b.w != nil {
		b.w.Abort()
		b.w, b.page, b.count = nil, nil, 0
	}
}

// pending is a batch handed to the merger, with the checkpoint it commits.
type pending struct {
	w          *load.BatchWriter
	Checkpoint *load.Checkpoint
	progress   *load.Progress
}

// merger commits batches in order in its own goroutines, so that fetching,
// transforming and streaming the next batch into its staging table overlap
// with the merge of the previous ones. Two batches may merge at once (the
// database has more than one core to give): a batch's merge statement
// starts while the previous batch is still merging or committing, unless a
// ticket is in both (then it waits for that commit, as its changes depend
// on it). Commits stay strictly in batch order, so checkpoints and run
// counters never run ahead. At most three batches are open at once: two
// merging and one filling.
type merger struct {
	r      *runner
	in     chan pending
	closed bool
	g      *errgroup.Group
	ctx    context.Context
}

// flight is one batch on its way to the database.
type flight struct {
	p    pending
	done chan struct{} // closed once committed or failed; then c and err are set
	c    load.Counts
	err  error
}

// run merges f, waiting for prev (the batch before, nil for none) as the
// order requires, and commits it after prev.
func (f *flight) run(prev *flight) {
	defer close(f.done)
	var prevErr error
	waited := false
	waitPrev := func() {
		if prev != nil && !waited {
			<-prev.done
			prevErr, waited = prev.err, true
		}
	}
	if prev != nil && f.p.w.Overlaps(prev.p.w) {
		waitPrev()
	}
	if prevErr == nil {
		_, f.err = f.p.w.Merge()
	}
	waitPrev()
	switch {
	case prevErr != nil:
		f.err = errPrevFailed
	case f.err == nil:
		f.c, f.err = f.p.w.Commit(f.p.progress, f.p.Checkpoint)
	}
	if f.err != nil {
		f.p.w.Abort()
	}
}

// errPrevFailed ends the batches queued behind a failed one; the run
// reports the first failure.
var errPrevFailed = errors.New("an earlier batch failed")

func startMerger(ctx context.Context, r *runner) *merger {
	g, gctx := errgroup.WithContext(ctx)
	// A failed batch stops the producer at once (its sends and its writers
	// see this context end), not only when the merger goroutine returns.
	mctx, stop := context.WithCancel(gctx)
	// Unbuffered: a due batch is handed over only when a merge slot is free.
	in := make(chan pending)
	m := &merger{r: r, in: in, g: g, ctx: mctx}
	g.Go(func() error {
		defer stop()
		var queue []*flight // started, not yet collected; oldest first
		var firstErr error
		collect := func() {
			f := queue[0]
			queue = queue[1:]
			<-f.done
			if f.err != nil && firstErr == nil {
				firstErr = f.err
				stop() // collected in order: every earlier batch is committed
			}
			r.sum.Counts.Add(f.c)
		}
		for p := range in {
			if firstErr != nil {
				p.w.Abort() // drain: the producer must never block on a dead consumer
				continue
			}
			var prev *flight
			if len(queue) > 0 {
				prev = queue[len(queue)-1]
			}
			f := &flight{p: p, done: make(chan struct{})}
			go f.run(prev)
			queue = append(queue, f)
			if len(queue) == 2 {
				collect()
			}
		}
		for len(queue) > 0 {
			collect()
		}
		return firstErr
	})
	return m
}

// newBatcher returns a batcher feeding this merger.
func (m *merger) newBatcher(listed bool) *batcher {
	return &batcher{r: m.r, ctx: m.ctx, size: m.r.cfg.batchSize(), listed: listed}
}

// send hands a batch to the merger; it fails when the merger has failed.
func (m *merger) send(p pending) error {
	p.progress = m.r.progress()
	select {
	case m.in <- p:
		return nil
	case <-m.ctx.Done():
		p.w.Abort()
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
	b := m.newBatcher(true)
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
	b.discard()
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

// maxLookupFailuresInARow ends the lookups when that many fail one after
// the other: then the API is failing, not one ticket, and every further
// lookup would only wait through its retries.
const maxLookupFailuresInARow = 5

// ErrLookupsFailed fails a run whose reconciliation could not look up some
// tickets (an error other than not-found, past the retries). Everything the
// other lookups learned is stored.
var ErrLookupsFailed = errors.New("reconciliation could not look up some tickets")

// reconcile looks up, by id, every ticket the database holds as open or
// request that the complete scan did not see (and vanished tickets due for
// another look), and stores what the source says of it now. A not-found
// answer marks the ticket vanished; its state stays. A lookup that fails
// otherwise does not stop the others: the run fails at the end, naming the
// ids it could not look up.
func (r *runner) reconcile(ctx context.Context) error {
	ids, err := r.cfg.Store.ReconcileCandidates(ctx, r.runID, r.cfg.vanishedRecheck())
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	r.log.Info().Int("tickets", len(ids)).Msg("reconciling tickets that left the open list")
	m := startMerger(ctx, r)
	b := m.newBatcher(false)
	var gone, failed []int64
	var firstErr error
	lookErr := func() error {
		inARow := 0
		for i, id := range ids {
			raw, err := r.cfg.Client.Ticket(m.ctx, id)
			switch {
			case errors.Is(err, extract.ErrNotFound):
				gone = append(gone, id)
				inARow = 0
				continue
			case err != nil && (m.ctx.Err() != nil || errors.Is(err, extract.ErrUnauthorized)):
				// Every further lookup would fail the same way.
				return fmt.Errorf("reconcile ticket %d: %w", id, err)
			case err != nil:
				failed = append(failed, id)
				if firstErr == nil {
					firstErr = fmt.Errorf("ticket %d: %w", id, err)
				}
				r.log.Warn().Int64("ticket_id", id).Err(err).
					Msg("lookup failed; going on with the other tickets")
				if inARow++; inARow == maxLookupFailuresInARow {
					failed = append(failed, ids[i+1:]...)
					r.log.Warn().Int("failures_in_a_row", inARow).Int("not_tried", len(ids)-i-1).
						Msg("lookups keep failing; not trying the rest")
					return nil
				}
				continue
			}
			inARow = 0
			b.add(raw)
			r.sum.Reconciled++
			if b.due(r.cfg.flushInterval()) {
				if err := m.send(b.take()); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	// What the lookups before a failure learned is still true: store it.
	if b.n() > 0 && m.ctx.Err() == nil {
		lookErr = errors.Join(lookErr, m.send(b.take()))
	}
	mergeErr := m.wait()
	b.discard()
	if mergeErr != nil {
		return errors.Join(mergeErr, lookErr)
	}
	r.sum.NotFound = int64(len(gone))
	if ctx.Err() == nil {
		n, err := r.cfg.Store.MarkVanished(ctx, r.runID, gone)
		r.sum.Vanished = n
		lookErr = errors.Join(lookErr, err)
	}
	if len(failed) > 0 {
		r.sum.LookupFailed = failed
		lookErr = errors.Join(lookErr, fmt.Errorf("%w: %d of %d (ids %s); first error: %w",
			ErrLookupsFailed, len(failed), len(ids), idList(failed, 50), firstErr))
	}
	return lookErr
}

// idList writes up to limit ids, then how many more there are.
func idList(ids []int64, limit int) string {
	var sb strings.Builder
	for i, id := range ids {
		if i == limit {
			fmt.Fprintf(&sb, " and %d more", len(ids)-limit)
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(id, 10))
	}
	return sb.String()
}
