package pipeline

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/load"
)

// Sync runs one sync: scan the whole open list, merge every ticket, and,
// after a complete scan only, look up the tickets that left the list.
func Sync(ctx context.Context, cfg Config) (Summary, error) {
	return run(ctx, cfg, load.KindSync, func(ctx context.Context, r *runner) error {
		complete, err := r.scanOpen(ctx)
		if err != nil || !complete {
			return err
		}
		r.sum.ScanComplete = true
		return r.reconcile(ctx)
	})
}

// scanOpen scans the open list and merges every ticket. complete is true
// when the scan reached the end of the list without error. With v2 it walks
// filter[state]=open,request (extract.Client.ScanV2Open); its
// meta.page.total stands for v1's OpenTickets.
func (r *runner) scanOpen(ctx context.Context) (complete bool, err error) {
	b := r.newBatcher(true)
	take := func(tickets []json.RawMessage, open int) error {
		r.sum.Pages++
		if open >= 0 {
			n := int64(open)
			r.sum.APIOpenTickets = &n
		}
		b.add(ctx, tickets...)
		r.sum.Seen += int64(len(tickets))
		if b.due() {
			return b.flush(ctx, nil)
		}
		return nil
	}
	scanErr := func() error {
		if r.v2() {
			for page, err := range r.cfg.Client.ScanV2Open(ctx, r.cfg.v2Scan()) {
				if err == nil {
					err = take(page.Tickets, page.Total)
				}
				if err != nil {
					return err
				}
			}
			return nil
		}
		for page, err := range r.cfg.Client.ScanOpen(ctx, r.cfg.Scan) {
			if err == nil {
				err = take(page.Tickets, page.OpenTickets)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}()
	// What was read before a failed page is still true: end stores it.
	err = b.end(ctx, scanErr)
	if b.sink.Err() == nil && errors.Is(scanErr, extract.ErrPageLimit) {
		// The page limit the user asked for: what was read is stored, but a
		// partial scan proves nothing about the tickets it did not reach.
		r.log.Warn().Int("max_pages", r.cfg.Scan.MaxPages).Msg("page limit reached: scan incomplete, nothing reconciled")
		return false, nil
	}
	return err == nil, err
}
