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
// With Field set it is only that field of a ticket that was stored anyway
// (the field NULL); such a Reject is recorded but not counted as rejected.
type Reject struct {
	TicketID *int64
	Raw      []byte
	Reason   string
	Field    *string // nil when the whole record was set aside
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

// Sink writes one run's batches, one at a time and in the order they are
// cut. A batch is one transaction: its tickets stream into the staging
// table a page at a time as they are added (a batch is never held in
// memory whole), and Commit merges it (see doc.go). Only one batch is ever
// open, so a run uses one connection besides its lock's.
//
// The first failure ends the sink: every later call returns it, and Close
// rolls back the batch it left open. A Sink is not safe for concurrent use.
type Sink struct {
	s      *Store
	runID  int64
	listed bool
	lock   *Lock // checked before each commit; nil for none

	counts Counts // of the committed batches
	err    error  // sticky: the sink failed

	// The current batch.
	tx      pgx.Tx             // nil until its first page is copied, or its Commit
	page    []transform.Ticket // added, not yet copied
	ids     map[int64]struct{} // fewer than the tickets added: an id came twice
	seq     int32              // rows copied: the staging table's seq column
	bytes   int
	rejects []Reject
	start   time.Time
	row     []any
}

// pageRows is how many tickets one COPY sends: one API page.
const pageRows = 100

// NewSink returns a sink for run runID. listed marks tickets from a scan of
// the open list (seen in the list, for reconciliation). lock, when non-nil,
// is the run's advisory lock: a batch whose run lost it is rolled back with
// ErrLockLost. Nothing touches the database before the first full page or
// Commit.
func (s *Store) NewSink(runID int64, listed bool, lock *Lock) *Sink {
	return &Sink{s: s, runID: runID, listed: listed, lock: lock, ids: map[int64]struct{}{}}
}

// Len is the number of tickets and rejects in the current batch.
func (k *Sink) Len() int { return int(k.seq) + len(k.page) + len(k.rejects) }

// Err is the sink's failure, or nil.
func (k *Sink) Err() error { return k.err }

// Add adds a ticket to the current batch. A ticket id may repeat; the last
// occurrence wins, as it is the fresher copy.
func (k *Sink) Add(ctx context.Context, t transform.Ticket) error {
	if k.err != nil {
		return k.err
	}
	if k.Len() == 0 {
		k.start = time.Now()
	}
	k.ids[t.ID] = struct{}{}
	k.bytes += ticketBytes(&t)
	k.page = append(k.page, t)
	if len(k.page) < pageRows {
		return nil
	}
	return k.fail(ctx, k.copyPage(ctx))
}

// Reject sets a record aside with the current batch.
func (k *Sink) Reject(r Reject) {
	if k.err != nil {
		return // nothing of a failed sink is stored
	}
	if k.Len() == 0 {
		k.start = time.Now()
	}
	k.rejects = append(k.rejects, r)
}

// begin opens the batch's transaction.
func (k *Sink) begin(ctx context.Context) (err error) {
	if k.tx == nil {
		k.tx, err = k.s.pool.Begin(ctx)
	}
	return err
}

// copyPage copies the added tickets into the staging table, creating it
// first when this is the batch's first page.
func (k *Sink) copyPage(ctx context.Context) error {
	if len(k.page) == 0 {
		return nil
	}
	if k.seq == 0 {
		if err := k.begin(ctx); err != nil {
			return err
		}
		if _, err := k.tx.Exec(ctx, mergeSettingsSQL+createStageSQL); err != nil {
			return fmt.Errorf("staging table: %w", err)
		}
	}
	_, err := k.tx.CopyFrom(ctx, pgx.Identifier{"ratickets_stage"}, stageColumns,
		pgx.CopyFromSlice(len(k.page), func(i int) ([]any, error) {
			// pgx encodes a row's values before it asks for the next row,
			// so one slice serves every row.
			k.row = appendTicketRow(k.row[:0], &k.page[i], k.seq+int32(i)+1)
			return k.row, nil
		}))
	if err != nil {
		return fmt.Errorf("copy to staging: %w", err)
	}
	k.seq += int32(len(k.page))
	k.page = k.page[:0]
	return nil
}

// Commit merges the current batch and commits it with its rejects, the
// run's counters, progress and checkpoint (when non-nil), once the run's
// lock is checked. An empty batch still commits those (backfills move their
// checkpoint across runs of 404s). On failure nothing of it is stored.
func (k *Sink) Commit(ctx context.Context, progress *Progress, cp *Checkpoint) error {
	if k.err != nil {
		return k.err
	}
	tickets := k.Len()
	c, err := k.commit(ctx, progress, cp)
	if err != nil {
		return k.fail(ctx, err)
	}
	k.counts.Add(c)
	k.s.logger(ctx).Debug().Int("tickets", tickets).Int64("inserted", c.Inserted).Int64("updated", c.Updated).
		Int64("unchanged", c.Unchanged).Int64("rejected", c.Rejected).Dur("duration", time.Since(k.start)).
		Msg("batch merged")
	k.reset()
	return nil
}

// reset empties the current batch, once committed or rolled back.
func (k *Sink) reset() {
	clear(k.ids)
	k.tx, k.seq, k.bytes, k.page, k.rejects = nil, 0, 0, k.page[:0], nil
}

func (k *Sink) commit(ctx context.Context, progress *Progress, cp *Checkpoint) (Counts, error) {
	var c Counts
	if err := k.copyPage(ctx); err != nil {
		return c, err
	}
	if err := k.begin(ctx); err != nil {
		return c, err
	}
	tx := k.tx
	if k.seq > 0 {
		merge := mergeNoDupSQL
		if len(k.ids) < int(k.seq) {
			merge = mergeSQL
		}
		// work_mem is sized now that the batch's size is known.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL work_mem = '%dkB'", workMemKB(k.bytes))); err != nil {
			return c, fmt.Errorf("merge settings: %w", err)
		}
		if err := tx.QueryRow(ctx, merge, k.runID, k.listed).Scan(&c.Inserted, &c.Updated, &c.Unchanged); err != nil {
			return c, fmt.Errorf("merge: %w", err)
		}
	}
	if len(k.rejects) > 0 {
		rows := make([][]any, len(k.rejects))
		for i, r := range k.rejects {
			if r.Field == nil {
				c.Rejected++
			}
			rows[i] = []any{k.runID, r.TicketID, sanitizeText(string(r.Raw)), sanitizeText(r.Reason), r.Field}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rejected_records"},
			[]string{"run_id", "ticket_id", "raw", "reason", "field"}, pgx.CopyFromRows(rows)); err != nil {
			return c, fmt.Errorf("rejected records: %w", err)
		}
	}
	var req, ret, pages *int64 // NULL, for no progress, keeps the stored values
	if p := progress; p != nil {
		req, ret, pages = &p.Requests, &p.Retries, &p.Pages
	}
	if _, err := tx.Exec(ctx, `UPDATE sync_runs SET tickets_seen = tickets_seen + $2,
		inserted = inserted + $3, updated = updated + $4, unchanged = unchanged + $5, rejected = rejected + $6,
		requests = coalesce($7, requests), retries = coalesce($8, retries), pages = coalesce($9, pages) WHERE id = $1`,
		k.runID, c.Inserted+c.Updated+c.Unchanged+c.Rejected, c.Inserted, c.Updated, c.Unchanged, c.Rejected,
		req, ret, pages); err != nil {
		return c, fmt.Errorf("run counters: %w", err)
	}
	if cp != nil {
		if _, err := tx.Exec(ctx, upsertCheckpointSQL, cp.Name, cp.Position, cp.Done); err != nil {
			return c, fmt.Errorf("checkpoint: %w", err)
		}
	}
	if err := k.lock.Check(ctx); err != nil {
		return c, err
	}
	return c, tx.Commit(ctx)
}

// fail makes err the sink's sticky error (when non-nil) and rolls back the
// open batch, which is then gone (Len is 0).
func (k *Sink) fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", cerr, err) // the cause, for callers that branch on it
	}
	k.err = fmt.Errorf("load: batch of %d tickets: %w", k.Len(), err)
	k.rollback()
	k.reset()
	return k.err
}

func (k *Sink) rollback() {
	if k.tx == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = k.tx.Rollback(ctx)
	k.tx = nil
}

// Close rolls back a batch not committed (the run stopped) and returns the
// committed batches' counts and the sink's failure. Safe to call twice.
func (k *Sink) Close() (Counts, error) {
	k.rollback()
	return k.counts, k.err
}

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
// the batch in a CTE (and sorts it when ids repeat), so twice that, at
// least the default 4 MB (at which 5,000 tickets spilled to temporary
// files, read four times), at most 256 MB.
func workMemKB(bytes int) int {
	return min(max(2*bytes/1024, 4<<10), 256<<10)
}
