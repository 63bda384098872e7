package pipeline

import (
	"context"
	"errors"
	"iter"

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
	pages := v1Pages(r.cfg.Client.ScanOpen(ctx, r.cfg.Scan))
	if r.v2() {
		pages = r.cfg.Client.ScanV2Open(ctx, r.cfg.v2Scan())
	}
	scanErr := func() error {
		for page, err := range pages {
			if err != nil {
				return err
			}
			r.sum.Pages++
			if page.Total >= 0 {
				n := int64(page.Total)
				r.sum.APIOpenTickets = &n
			}
			b.add(ctx, page.Tickets...)
			r.sum.Seen += int64(len(page.Tickets))
			if err := b.step(ctx); err != nil {
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

// v1Pages presents a v1 scan's pages as the v2 pages they stand for: their
// tickets, and OpenTickets as Total.
func v1Pages(pages iter.Seq2[*extract.Page, error]) iter.Seq2[*extract.V2Page, error] {
	return func(yield func(*extract.V2Page, error) bool) {
		for p, err := range pages {
			var v2 *extract.V2Page
			if p != nil {
				v2 = &extract.V2Page{Tickets: p.Tickets, Total: p.OpenTickets}
			}
			if !yield(v2, err) {
				return
			}
		}
	}
}
