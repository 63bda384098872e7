package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ratickets/ratickets/extract"
)

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
// answer (v1 404, an id absent from the v2 answer) marks the ticket
// vanished; its state stays. A lookup that fails otherwise does not stop
// the others: the run fails at the end, naming the ids it could not look
// up. v1 looks up one id per request, v2 up to 100 (see lookup).
func (r *runner) reconcile(ctx context.Context) error {
	ids, err := r.cfg.Store.ReconcileCandidates(ctx, r.runID, r.cfg.VanishedRecheck, r.v2())
	if err != nil || len(ids) == 0 {
		return err
	}
	r.log.Info().Int("tickets", len(ids)).Msg("reconciling tickets that left the open list")
	b := r.newBatcher(false)
	var gone, failed []int64
	var firstErr error
	lookErr := func() error {
		inARow := 0
		for i, per := 0, r.perLookup(); i < len(ids); i += per {
			chunk := ids[i:min(i+per, len(ids))]
			found, missing, err := r.lookup(ctx, chunk)
			switch {
			case err != nil && (ctx.Err() != nil || errors.Is(err, extract.ErrUnauthorized)):
				// Every further lookup would fail the same way.
				return fmt.Errorf("reconcile ticket %s: %w", idList(chunk, 3), err)
			case err != nil:
				failed = append(failed, chunk...)
				if firstErr == nil {
					firstErr = fmt.Errorf("ticket %s: %w", idList(chunk, 3), err)
				}
				r.log.Warn().Int64("ticket_id", chunk[0]).Int("tickets", len(chunk)).Err(err).
					Msg("lookup failed; going on with the other tickets")
				if inARow++; inARow == maxLookupFailuresInARow {
					rest := ids[i+len(chunk):]
					failed = append(failed, rest...)
					r.log.Warn().Int("failures_in_a_row", inARow).Int("not_tried", len(rest)).
						Msg("lookups keep failing; not trying the rest")
					return nil
				}
				continue
			}
			inARow = 0
			gone = append(gone, missing...)
			b.add(ctx, found...)
			r.sum.Reconciled += int64(len(found))
			if err := b.step(ctx); err != nil {
				return err
			}
		}
		return nil
	}()
	// What the lookups before a failure learned is still true: end stores it.
	if lookErr = b.end(ctx, lookErr); b.sink.Err() != nil {
		return lookErr
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
	s := make([]string, 0, min(len(ids), limit))
	for _, id := range ids[:min(len(ids), limit)] {
		s = append(s, strconv.FormatInt(id, 10))
	}
	if len(ids) > limit {
		return fmt.Sprintf("%s and %d more", strings.Join(s, ", "), len(ids)-limit)
	}
	return strings.Join(s, ", ")
}

// perLookup is how many ids one lookup request takes.
func (r *runner) perLookup() int {
	if r.v2() {
		return extract.MaxIDsPerRequest
	}
	return 1
}

// lookup fetches ids (perLookup of them) in any state: the records found,
// and the ids the source does not have (v1 404, absent from the v2 answer).
// A failing v2 request fails the lookup of all its ids.
func (r *runner) lookup(ctx context.Context, ids []int64) (found []json.RawMessage, missing []int64, err error) {
	if r.v2() {
		b, err := r.cfg.Client.TicketsByID(ctx, ids)
		if err != nil {
			return nil, nil, err
		}
		return b.Tickets, b.Missing, nil
	}
	for _, id := range ids {
		raw, err := r.cfg.Client.Ticket(ctx, id)
		switch {
		case errors.Is(err, extract.ErrNotFound):
			missing = append(missing, id)
		case err != nil:
			return nil, nil, err
		default:
			found = append(found, raw)
		}
	}
	return found, missing, nil
}
