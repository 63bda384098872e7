package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratickets/ratickets/transform"
)

// Reject is a record that could not be understood, set aside with its reason.
type Reject struct {
	TicketID *int64
	Raw      []byte
	Reason   string
}

// Batch is one unit of atomic work: all of it commits, or none of it.
type Batch struct {
	Tickets []transform.Ticket
	Rejects []Reject
	// Listed marks tickets that came from a scan of the open list: they count
	// as seen in the list for reconciliation.
	Listed bool
	// Progress, when non-nil, is written to the run's row with the batch.
	Progress *Progress
	// Checkpoint, when non-nil, is stored in the same transaction.
	Checkpoint *Checkpoint
}

// Counts is what a merge did.
type Counts struct {
	Inserted, Updated, Unchanged, Rejected int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Rejected += o.Rejected
}

// Merge upserts a batch in one transaction: COPY into a temporary staging
// table, then one statement that inserts new tickets, updates the ones that
// really changed (an unchanged ticket is never rewritten), versions
// ticket_history, and records the sightings. Rejected records, the run's
// counters and the checkpoint commit with it. It is NewBatch, Add and Commit
// in one call.
func (s *Store) Merge(ctx context.Context, runID int64, b Batch) (Counts, error) {
	w := s.NewBatch(ctx, runID, b.Listed)
	if err := w.Add(b.Tickets); err != nil {
		w.Abort()
		return Counts{}, err
	}
	for _, r := range b.Rejects {
		w.Reject(r)
	}
	return w.Commit(b.Progress, b.Checkpoint)
}

// BatchWriter is one batch being built in its own transaction. Tickets are
// streamed into the staging table (COPY) as they are added, so a batch is
// never held in memory whole, and the COPY overlaps with whatever the caller
// does meanwhile: fetching the next pages, or another writer's Commit (the
// pipeline fills the next batch while the previous one merges). Commit then
// runs the merge statement and commits; or Abort rolls back. Every writer
// must end with one of the two.
//
// A writer is not safe for concurrent use; two writers may run at once, but
// their Commits must come in batch order (a later batch may update what an
// earlier one inserted, and checkpoints must not run ahead).
type BatchWriter struct {
	s      *Store
	ctx    context.Context
	runID  int64
	listed bool
	start  time.Time

	tx      pgx.Tx
	feed    chan []transform.Ticket // to the COPY; closed to end it
	copyRes chan error              // the COPY's result, sent once
	copyOut bool                    // the COPY has ended; copyErr is its result
	copyErr error

	merged  bool   // the merge statement ran (Merge)
	counts  Counts // its result
	ids     map[int64]struct{}
	dup     bool // an id came twice: the merge keeps the last (see mergeSQL)
	tickets int
	bytes   int
	rejects []Reject
	err     error // sticky: the writer failed
	done    bool
}

// NewBatch starts a batch for run runID; listed marks tickets from a scan of
// the open list (they count as seen in the list, for reconciliation). ctx
// bounds the writer's whole life: its transaction and its COPY. Nothing
// touches the database until the first Add or Commit.
func (s *Store) NewBatch(ctx context.Context, runID int64, listed bool) *BatchWriter {
	return &BatchWriter{s: s, ctx: ctx, runID: runID, listed: listed, start: time.Now(), ids: map[int64]struct{}{}}
}

// Len is the number of tickets and rejects added so far.
func (w *BatchWriter) Len() int { return w.tickets + len(w.rejects) }

// Reject sets a record aside with the batch.
func (w *BatchWriter) Reject(r Reject) { w.rejects = append(w.rejects, r) }

// Add streams tickets into the batch. The writer owns ts from then on: the
// COPY reads it later, from another goroutine. A ticket id may repeat; the
// last occurrence wins, as it is the fresher copy.
func (w *BatchWriter) Add(ts []transform.Ticket) error {
	switch {
	case w.err != nil:
		return w.err
	case w.done:
		return errors.New("load: Add on a finished batch")
	case len(ts) == 0:
		return nil
	}
	if w.feed == nil {
		if err := w.begin(); err != nil {
			return w.fail(err)
		}
	}
	for i := range ts {
		if _, ok := w.ids[ts[i].ID]; ok {
			w.dup = true
		}
		w.ids[ts[i].ID] = struct{}{}
		w.bytes += ticketBytes(&ts[i])
	}
	w.tickets += len(ts)
	select {
	case w.feed <- ts:
		return nil
	case err := <-w.copyRes: // the COPY ended before its input did: it failed
		w.copyOut, w.copyErr = true, err
		if err == nil {
			err = errors.New("ended early")
		}
		return w.fail(fmt.Errorf("copy to staging: %w", err))
	case <-w.ctx.Done():
		return w.fail(w.ctx.Err())
	}
}

// Open takes the batch's connection and opens its transaction now, rather
// than at the first Add or at Commit. The pipeline opens each batch before
// handing it over, so that batches take connections in batch order: a
// batch waiting for its turn to commit then never holds a connection that
// one ahead of it still needs (which a small pool could otherwise deadlock
// on).
func (w *BatchWriter) Open() error {
	switch {
	case w.err != nil:
		return w.err
	case w.done:
		return errors.New("load: Open on a finished batch")
	case w.tx != nil:
		return nil
	}
	tx, err := w.s.pool.Begin(w.ctx)
	if err != nil {
		return w.fail(err)
	}
	w.tx = tx
	return nil
}

// begin opens the transaction (unless Open did), creates the staging table
// and starts the COPY into it, fed by Add.
func (w *BatchWriter) begin() error {
	if err := w.Open(); err != nil {
		return err
	}
	tx := w.tx
	if _, err := tx.Exec(w.ctx, mergeSettingsSQL+createStageSQL); err != nil {
		return fmt.Errorf("staging table: %w", err)
	}
	w.feed = make(chan []transform.Ticket)
	w.copyRes = make(chan error, 1)
	src := &feedSource{ctx: w.ctx, feed: w.feed}
	go func() {
		_, err := tx.CopyFrom(w.ctx, pgx.Identifier{"ratickets_stage"}, stageColumns, src)
		w.copyRes <- err
	}()
	return nil
}

// endCopy closes the COPY's input and waits for it to finish.
func (w *BatchWriter) endCopy() error {
	if w.feed == nil || w.copyOut {
		return w.copyErr
	}
	close(w.feed)
	w.copyOut = true
	w.copyErr = <-w.copyRes
	return w.copyErr
}

func (w *BatchWriter) fail(err error) error {
	if cerr := w.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%v)", cerr, err) // the cause, for callers that branch on it
	}
	if w.err == nil {
		w.err = fmt.Errorf("load: batch of %d tickets: %w", w.tickets, err)
	}
	return w.err
}

// Abort rolls the batch back. It is safe after Commit (then it does
// nothing) and more than once.
func (w *BatchWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	if w.tx == nil {
		return
	}
	_ = w.endCopy()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
	defer cancel()
	_ = w.tx.Rollback(ctx)
}

// Merge ends the batch's COPY and runs the merge statement, without
// committing: the rows stay invisible to others until Commit. The pipeline
// uses it to merge a batch while the previous one is still committing
// (when no ticket is in both, see Overlaps). Commit calls it when it was
// not called.
func (w *BatchWriter) Merge() (Counts, error) {
	switch {
	case w.done:
		return Counts{}, errors.New("load: Merge on a finished batch")
	case w.err != nil:
		return Counts{}, w.err
	case w.merged:
		return w.counts, nil
	}
	if err := w.merge(); err != nil {
		return Counts{}, w.fail(err)
	}
	return w.counts, nil
}

func (w *BatchWriter) merge() error {
	ctx := w.ctx
	// Without tickets there is nothing to merge (and maybe no transaction
	// yet: Commit opens one).
	if w.feed != nil {
		if err := w.endCopy(); err != nil {
			return fmt.Errorf("copy to staging: %w", err)
		}
		merge := mergeSQL
		if !w.dup {
			merge = mergeNoDupSQL
		}
		// work_mem is sized now that the batch's size is known.
		if _, err := w.tx.Exec(ctx, fmt.Sprintf("SET LOCAL work_mem = '%dkB'", workMemKB(w.bytes))); err != nil {
			return fmt.Errorf("merge settings: %w", err)
		}
		c := &w.counts
		if err := w.tx.QueryRow(ctx, merge, w.runID, w.listed).Scan(&c.Inserted, &c.Updated, &c.Unchanged); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	w.merged = true
	return nil
}

// Overlaps reports whether a ticket is in both batches; then the later one
// must not merge before the earlier one has committed. Call it only once
// both writers are done with Add.
func (w *BatchWriter) Overlaps(o *BatchWriter) bool {
	a, b := w.ids, o.ids
	if len(a) > len(b) {
		a, b = b, a
	}
	for id := range a {
		if _, ok := b[id]; ok {
			return true
		}
	}
	return false
}

// Commit merges the batch (unless Merge did already) and commits it
// together with its rejects, the run's counters, progress (when non-nil)
// and the checkpoint (when non-nil). On failure nothing of the batch is
// stored.
func (w *BatchWriter) Commit(progress *Progress, cp *Checkpoint) (Counts, error) {
	if w.done {
		return Counts{}, errors.New("load: Commit on a finished batch")
	}
	if w.err != nil {
		w.Abort()
		return Counts{}, w.err
	}
	c, err := w.commit(progress, cp)
	if err != nil {
		w.Abort()
		return Counts{}, w.fail(err)
	}
	w.done = true
	w.s.logger(w.ctx).Debug().Int("tickets", w.tickets).Int64("inserted", c.Inserted).Int64("updated", c.Updated).
		Int64("unchanged", c.Unchanged).Int64("rejected", c.Rejected).Dur("duration", time.Since(w.start)).
		Msg("batch merged")
	return c, nil
}

func (w *BatchWriter) commit(progress *Progress, cp *Checkpoint) (Counts, error) {
	ctx := w.ctx
	if !w.merged {
		if err := w.merge(); err != nil {
			return Counts{}, err
		}
	}
	if w.tx == nil {
		tx, err := w.s.pool.Begin(ctx)
		if err != nil {
			return Counts{}, err
		}
		w.tx = tx
	}
	c := w.counts
	tx := w.tx
	if len(w.rejects) > 0 {
		rows := make([][]any, len(w.rejects))
		for i, r := range w.rejects {
			rows[i] = []any{w.runID, r.TicketID, sanitizeText(string(r.Raw)), sanitizeText(r.Reason)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rejected_records"},
			[]string{"run_id", "ticket_id", "raw", "reason"}, pgx.CopyFromRows(rows)); err != nil {
			return c, fmt.Errorf("rejected records: %w", err)
		}
		c.Rejected = int64(len(w.rejects))
	}
	seen := c.Inserted + c.Updated + c.Unchanged + c.Rejected
	if _, err := tx.Exec(ctx, `UPDATE sync_runs SET tickets_seen = tickets_seen + $2,
		inserted = inserted + $3, updated = updated + $4, unchanged = unchanged + $5,
		rejected = rejected + $6 WHERE id = $1`,
		w.runID, seen, c.Inserted, c.Updated, c.Unchanged, c.Rejected); err != nil {
		return c, fmt.Errorf("run counters: %w", err)
	}
	if p := progress; p != nil {
		if _, err := tx.Exec(ctx, `UPDATE sync_runs SET requests = $2, retries = $3, pages = $4 WHERE id = $1`,
			w.runID, p.Requests, p.Retries, p.Pages); err != nil {
			return c, fmt.Errorf("run progress: %w", err)
		}
	}
	if cp != nil {
		if _, err := tx.Exec(ctx, upsertCheckpointSQL, cp.Name, cp.Position, cp.Done); err != nil {
			return c, fmt.Errorf("checkpoint: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return c, err
	}
	return c, nil
}

// feedSource is the COPY's row source: the slices Add sends, in order.
type feedSource struct {
	ctx  context.Context
	feed <-chan []transform.Ticket
	cur  []transform.Ticket
	i    int
	seq  int32 // rows so far: the staging table's seq column
	row  []any
	err  error
}

func (f *feedSource) Next() bool {
	for f.i >= len(f.cur) {
		select {
		case ts, ok := <-f.feed:
			if !ok {
				return false
			}
			f.cur, f.i = ts, 0
		case <-f.ctx.Done():
			f.err = f.ctx.Err()
			return false
		}
	}
	t := &f.cur[f.i]
	f.i++
	f.seq++
	// pgx encodes a row's values before it asks for the next row, so one
	// slice serves every row.
	f.row = appendTicketRow(f.row[:0], t, f.seq)
	return true
}

func (f *feedSource) Values() ([]any, error) { return f.row, nil }
func (f *feedSource) Err() error             { return f.err }

// ticketBytes estimates a ticket's size in the merge's memory: fixed
// columns and tuple overhead, raw, and the text kept twice (in raw and in
// its own column).
func ticketBytes(t *transform.Ticket) int {
	n := 400 + len(t.Raw)
	if t.ReportNotes != nil {
		n += len(*t.ReportNotes)
	}
	if t.AchievementDescription != nil {
		n += len(*t.AchievementDescription)
	}
	return n
}

// workMemKB sizes work_mem for a batch of the given bytes: the merge holds
// the batch in a CTE (and sorts it when ids repeat), so give it room for
// twice that, never less than PostgreSQL's default 4 MB, at most 256 MB.
func workMemKB(bytes int) int {
	return min(max(2*bytes/1024, 4<<10), 256<<10)
}
