package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
)

// Scan defaults.
const (
	MaxPageSize       = 100 // the server's cap on c
	DefaultOverlap    = 10
	DefaultMaxRereads = 50
)

// ScanOptions tunes ScanOpen and ScanGame. Zero values select defaults.
type ScanOptions struct {
	// PageSize is the window size, 2 to 100 (more is lowered to 100, as
	// the server would), default 100.
	PageSize int
	// Overlap is how many items consecutive windows share, default
	// min(10, PageSize/2); 1 <= Overlap < PageSize. Up to Overlap-g
	// removals above the window between two requests cost nothing (g is
	// the number of items of the window's bottom second, usually 1); more
	// cost a reread.
	Overlap    int
	MaxPages   int // bounds the requests of one scan, rereads included; 0: no limit
	MaxRereads int // bounds the rereads, and full windows in a row that bring nothing new; default 50
}

func (o ScanOptions) normalize() (ScanOptions, error) {
	switch {
	case o.PageSize == 0 || o.PageSize > MaxPageSize:
		o.PageSize = MaxPageSize
	case o.PageSize < 2:
		return o, fmt.Errorf("ra api: scan: PageSize must be at least 2, got %d", o.PageSize)
	}
	if o.Overlap == 0 {
		o.Overlap = min(DefaultOverlap, o.PageSize/2)
	}
	if o.Overlap < 1 || o.Overlap >= o.PageSize {
		return o, fmt.Errorf("ra api: scan: Overlap must be in [1, PageSize=%d), got %d", o.PageSize, o.Overlap)
	}
	if o.MaxPages < 0 || o.MaxRereads < 0 {
		return o, fmt.Errorf("ra api: scan: MaxPages and MaxRereads must not be negative")
	}
	if o.MaxRereads == 0 {
		o.MaxRereads = DefaultMaxRereads
	}
	return o, nil
}

// ScanOpen walks the open-ticket list (see the package documentation).
// Each page has the offset it was fetched at and that response's
// OpenTickets.
func (c *Client) ScanOpen(ctx context.Context, opts ScanOptions) iter.Seq2[*Page, error] {
	return c.scan(ctx, ModeList, opts, c.OpenPage)
}

// ScanGame walks one game's ticket list (every state; unofficial
// achievements when unofficial is set) like ScanOpen: it is ordered the
// same way and loses tickets anywhere too (achievements promoted or
// demoted). OpenTickets is never consulted: it counts open tickets only.
func (c *Client) ScanGame(ctx context.Context, gameID int64, unofficial bool, opts ScanOptions) iter.Seq2[*Page, error] {
	return c.scan(ctx, ModeGame, opts, func(ctx context.Context, offset, count int) (*Page, error) {
		return c.GamePage(ctx, gameID, unofficial, offset, count)
	})
}

// scanState is what a scan remembers: the smallest key yielded (last; the
// zero key before any) and the IDs yielded in last's second (ties).
type scanState struct {
	last sortKey
	ties map[int64]bool
}

// fresh reports whether a keyed item is new to the scan: below last, or in
// last's second and not yet yielded (same-second tickets may swap places
// between requests).
func (s *scanState) fresh(k sortKey) bool {
	if s.last.at == "" || k.cmp(s.last) < 0 {
		return true
	}
	return k.at == s.last.at && !s.ties[k.id]
}

// covers is the gap check: a window at offset > 0 must hold an anchor, a
// keyed item of a later second than last's. In loose mode, used only after
// a window its bottom second filled, an item with key >= last is enough,
// which holds only if the server orders same-second tickets by ID.
func (s *scanState) covers(offset int, keys []sortKey, loose bool) bool {
	if offset == 0 {
		return true
	}
	return s.last.at != "" && slices.ContainsFunc(keys, func(k sortKey) bool {
		return k.at > s.last.at || (loose && k.cmp(s.last) >= 0) // keyless sort below
	})
}

// anchor returns the index of the last keyed item of a later second than
// last's (-1 if none): the next window must start at or above it.
func (s *scanState) anchor(keys []sortKey) int {
	for i := len(keys) - 1; i >= 0; i-- {
		if keys[i].at > s.last.at { // keyed, and later than last's second if any
			return i
		}
	}
	return -1
}

// take returns the fresh items of an accepted window and advances the
// state. A keyless item is taken when it lies after the last stale keyed
// item, i.e. in the fresh part by position.
func (s *scanState) take(items []json.RawMessage, keys []sortKey) []json.RawMessage {
	isFresh := make([]bool, len(items))
	lastStale := -1
	for i, k := range keys {
		if k.at != "" {
			isFresh[i] = s.fresh(k)
			if !isFresh[i] {
				lastStale = i
			}
		}
	}
	out := make([]json.RawMessage, 0, len(items)-lastStale-1)
	newLast := s.last
	for i, it := range items {
		switch {
		case isFresh[i]:
			if newLast.at == "" || keys[i].cmp(newLast) < 0 {
				newLast = keys[i]
			}
		case keys[i].at != "" || i <= lastStale:
			continue
		}
		out = append(out, it)
	}
	if newLast.at == "" {
		return out
	}
	if newLast.at != s.last.at {
		s.ties = make(map[int64]bool)
	}
	for i, k := range keys {
		if isFresh[i] && k.at == newLast.at {
			s.ties[k.id] = true
		}
	}
	s.last = newLast
	return out
}

func (c *Client) scan(ctx context.Context, mode string, opts ScanOptions,
	fetch func(ctx context.Context, offset, count int) (*Page, error)) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		opts, err := opts.normalize()
		if err != nil {
			yield(nil, err)
			return
		}
		var (
			st                              scanState
			offset, pages, rereads, stalled int
			warnedOrd                       bool
			loose                           bool   // the next gap check may only use the ID order
			uncertain                       string // why this scan, read to the end, is still not complete
		)
		// reread counts one more reread; false means the budget is spent
		// and the scan has ended with an error.
		reread := func(why string) bool {
			if rereads >= opts.MaxRereads {
				yield(nil, fmt.Errorf("%w: %s (%d rereads) at offset %d", ErrScanIncomplete, why, rereads, offset))
				return false
			}
			rereads++
			c.rereads.Add(1)
			c.cfg.Logger.Debug().Str("mode", mode).Int("offset", offset).Int("rereads", rereads).Msg("ra api scan: " + why + "; rereading")
			return true
		}
		for {
			if opts.MaxPages > 0 && pages >= opts.MaxPages {
				yield(nil, fmt.Errorf("%w: %w (%d) at offset %d", ErrScanIncomplete, ErrPageLimit, opts.MaxPages, offset))
				return
			}
			p, err := fetch(ctx, offset, opts.PageSize)
			pages++
			if err != nil {
				yield(nil, err)
				return
			}
			n := len(p.Tickets)
			keys := make([]sortKey, n)
			prev := ""
			for i, raw := range p.Tickets {
				keys[i], _ = keyOf(raw)
				if at := keys[i].at; at != "" {
					// Only ReportedAt is checked: same-second tickets may
					// come in any ID order.
					if prev != "" && at > prev && !warnedOrd {
						warnedOrd = true
						c.cfg.Logger.Warn().Str("mode", mode).Int("offset", offset).
							Msg("ra api list is not ordered by ReportedAt descending; scan completeness is not guaranteed")
					}
					prev = at
				}
			}

			if !st.covers(offset, keys, loose) {
				if !reread("possible gap") {
					return
				}
				offset = max(0, offset-(opts.PageSize-opts.Overlap))
				continue
			}

			fresh := st.take(p.Tickets, keys)
			// Only a short window ends the scan, and in list mode not one
			// whose own response counts open tickets past it.
			short := n < opts.PageSize
			beforeCount := short && mode == ModeList && p.OpenTickets > offset+n
			if !yield(&Page{Offset: offset, Tickets: fresh, OpenTickets: p.OpenTickets}, nil) {
				return
			}
			if short && !beforeCount {
				if uncertain != "" {
					yield(nil, fmt.Errorf("%w: read to the end, but %s", ErrScanIncomplete, uncertain))
				}
				return
			}
			if beforeCount {
				c.cfg.Logger.Warn().Str("mode", mode).Int("offset", offset).Int("got", n).Int("asked", opts.PageSize).
					Int("open_tickets", p.OpenTickets).Msg("ra api scan: short page before OpenTickets says the list ends; reading on")
				if !reread("short page before OpenTickets") {
					return
				}
			} else if len(fresh) == 0 {
				stalled++
				if stalled > opts.MaxRereads {
					yield(nil, fmt.Errorf("%w: %d windows in a row brought nothing new at offset %d", ErrScanIncomplete, stalled, offset))
					return
				}
			} else {
				stalled = 0
			}
			// Overlap Overlap items, more if needed to keep the anchor.
			step := min(n-opts.Overlap, st.anchor(keys))
			loose = false
			switch {
			case step >= 1:
			case beforeCount:
				step = max(0, step) // read the same offset again (counted above)
			default:
				// Nothing in the window can anchor the next one: read on,
				// trusting the ID order for ties, but never call the scan
				// complete.
				step, loose = n-opts.Overlap, true
				if uncertain == "" {
					uncertain = fmt.Sprintf("a window at offset %d holds no item of an earlier second to anchor the next one (same-second or keyless items fill it)", offset)
					c.cfg.Logger.Warn().Str("mode", mode).Int("offset", offset).Msg("ra api scan: " + uncertain + "; the scan will be reported incomplete")
				}
			}
			offset += step
		}
	}
}
