package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

// batcher cuts a run's records into batches: it transforms each record,
// sets the rejects aside, and ends a batch by size or by age (or, in a
// backfill, with a checkpoint). Where a batch ends is all it decides; its
// load.Sink writes the batches, one at a time.
type batcher struct {
	r       *runner
	sink    *load.Sink
	listed  bool
	parse   func(json.RawMessage) (transform.Ticket, error) // the run's API's transform
	started time.Time                                       // when the current batch got its first record
	failed  bool                                            // flush returned the sink's failure

	// A backfill's checkpoint name ("" for none), pointer to its position
	// (stored as JSON), when that was last stored, and progress report.
	name     string
	pos      any
	lastCP   time.Time
	progress func(final bool)
}

func (r *runner) newBatcher(listed bool) *batcher {
	parse := transform.Parse
	if r.v2() {
		parse = transform.ParseV2
	}
	return &batcher{r: r, sink: r.cfg.Store.NewSink(r.runID, listed, r.lock), listed: listed, parse: parse}
}

// add transforms records of the run's API into the current batch, and
// returns the ids of those that have a usable one. A failure to write them
// is kept by the sink: due reports the batch due, and flush returns it.
func (b *batcher) add(ctx context.Context, raws ...json.RawMessage) (ids []int64) {
	for _, raw := range raws {
		if b.sink.Len() == 0 {
			b.started = time.Now()
		}
		t, err := b.parse(raw)
		if err != nil {
			var re *transform.RecordError
			rej := load.Reject{Raw: raw, Reason: err.Error()}
			if errors.As(err, &re) && re.TicketID != nil {
				rej.TicketID = re.TicketID
				ids = append(ids, *re.TicketID)
			}
			b.sink.Reject(rej)
			b.r.log.Warn().Str("reason", err.Error()).Msg("record set aside")
			continue
		}
		ids = append(ids, t.ID)
		for _, p := range t.Problems {
			b.sink.Reject(load.Reject{TicketID: &t.ID, Raw: raw, Reason: p.Reason, Field: &p.Field})
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
		_ = b.sink.Add(ctx, t)
	}
	return ids
}

// due reports whether the current batch should end: it is full, older than
// the flush interval, or failed.
func (b *batcher) due() bool {
	n := b.sink.Len()
	return b.sink.Err() != nil || n >= b.r.cfg.BatchSize || (n > 0 && time.Since(b.started) >= b.r.cfg.FlushInterval)
}

// step ends the batch when it is due, or when a backfill's last checkpoint
// is older than checkpointEvery. Call it only where a backfill's position
// covers every record added so far.
func (b *batcher) step(ctx context.Context) error {
	if !b.due() && (b.name == "" || time.Since(b.lastCP) < checkpointEvery) {
		return nil
	}
	if err := b.flush(ctx, false); err != nil {
		return err
	}
	if b.progress != nil {
		b.progress(false)
	}
	return nil
}

// flush ends the current batch (an empty one when nothing was added, e.g. to
// carry a checkpoint) and commits it with the run's progress and a
// backfill's position as it is now, done or not.
func (b *batcher) flush(ctx context.Context, done bool) error {
	var cp *load.Checkpoint
	if b.name != "" {
		raw, err := json.Marshal(b.pos)
		if err != nil {
			return err
		}
		cp, b.lastCP = &load.Checkpoint{Name: b.name, Position: raw, Done: done}, time.Now()
	}
	err := b.sink.Commit(ctx, b.r.progress(), cp)
	b.failed = err != nil
	return err
}

// end stores what the batch holds unless the run was cancelled (records
// read before err are still true), closes the batcher, and joins the
// failures to err.
func (b *batcher) end(ctx context.Context, err error) error {
	if b.sink.Len() > 0 && ctx.Err() == nil {
		err = errors.Join(err, b.flush(ctx, false))
	}
	return errors.Join(err, b.close())
}

// close rolls back a batch that was never flushed (the run stopped) and
// adds what was committed to the run's counts. It returns the sink's
// failure unless flush returned it already.
func (b *batcher) close() error {
	c, err := b.sink.Close()
	b.r.sum.Counts.Add(c)
	if b.failed {
		return nil
	}
	return err
}
