package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/ratickets/ratickets/extract"
)

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
	b := r.newBatcher(false)
	var gone []int64
	lookErr := func() error {
		for _, id := range ids {
			raw, err := r.cfg.Client.Ticket(ctx, id)
			if errors.Is(err, extract.ErrNotFound) {
				gone = append(gone, id)
				continue
			}
			if err != nil {
				return fmt.Errorf("reconcile ticket %d: %w", id, err)
			}
			b.add(ctx, raw)
			r.sum.Reconciled++
			if b.due(r.cfg.flushInterval()) {
				if err := b.flush(ctx, nil); err != nil {
					return err
				}
			}
		}
		if b.n() > 0 {
			return b.flush(ctx, nil)
		}
		return nil
	}()
	err = errors.Join(b.close(), lookErr)
	if err != nil {
		return err
	}
	r.sum.NotFound = int64(len(gone))
	n, err := r.cfg.Store.MarkVanished(ctx, r.runID, gone)
	r.sum.Vanished = n
	return err
}
