package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// Scan defaults.
const (
	MaxPageSize       = 100 // the server's cap on c
	DefaultOverlap    = 10
	DefaultMaxRereads = 50
)

// ScanOptions tunes ScanOpen and ScanGame. Zero values select defaults.
type ScanOptions struct {
	// PageSize is the window size, default and maximum 100 (larger values
	// are lowered to 100: the server would cap them anyway, and a page
	// shorter than PageSize means the end of the list). At least 2.
	PageSize int
	// Overlap is how many items consecutive windows share, default
	// min(10, PageSize/2); 1 <= Overlap < PageSize. Up to Overlap-g
	// removals above the window between two requests cost nothing (g is
	// the number of items of the window's bottom second, usually 1); more
	// cost a reread.
	Overlap int
	// MaxPages bounds the requests of one scan (rereads included); 0 means
	// no limit. Needing more yields an error wrapping ErrScanIncomplete.
	MaxPages int
	// MaxRereads bounds the rereads of one scan, default 50; it also bounds
	// how many full windows in a row may bring nothing new (new tickets
	// arriving faster than the scan advances). Exceeding either yields an
	// error wrapping ErrScanIncomplete.
	MaxRereads int
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

// ScanOpen walks the whole open-ticket list while it shifts under the scan
// (see the package documentation for the algorithm and its guarantee).
//
// Each yielded page holds only the tickets new to this scan, with the
// offset it was fetched at and that response's OpenTickets; pages may hold
// no tickets. On failure it yields (nil, err) once and stops. Ending without
// an error means the scan was complete: every ticket open for the whole scan
// was yielded exactly once. Breaking out of the loop stops all requests.
func (c *Client) ScanOpen(ctx context.Context, opts ScanOptions) iter.Seq2[*Page, error] {
	return c.scan(ctx, ModeList, opts, c.OpenPage)
}

// ScanGame walks one game's ticket list (every state; unofficial
// achievements when unofficial is set) the same way as ScanOpen. That list
// is ordered the same way; it grows at the top and loses tickets whose
// achievements are promoted or demoted, which the same algorithm handles.
// Only a short or empty page ends it, as in ScanOpen; OpenTickets is not
// consulted at all (the API documents it as the open tickets while this
// list holds every state).
func (c *Client) ScanGame(ctx context.Context, gameID int64, unofficial bool, opts ScanOptions) iter.Seq2[*Page, error] {
	return c.scan(ctx, ModeGame, opts, func(ctx context.Context, offset, count int) (*Page, error) {
		return c.GamePage(ctx, gameID, unofficial, offset, count)
	})
}

type fetchFunc func(ctx context.Context, offset, count int) (*Page, error)

// scanState is what the scan remembers: the smallest key yielded (last)
// and the IDs yielded that share last's ReportedAt (ties). Memory stays
// flat: ties only grows with tickets reported in the same second.
type scanState struct {
	hasLast bool
	last    sortKey
	ties    map[int64]struct{}
}

// fresh reports whether a keyed item is new to the scan. Under the
// documented total order only key < last is new. An item with last's
// ReportedAt and a larger ID that was never yielded is new too: the server
// has been seen ordering by ReportedAt alone, where same-second tickets may
// swap places between requests. Yielding it is safe (it is in the list and
// cannot be yielded again: it is recorded in ties).
func (s *scanState) fresh(k sortKey) bool {
	if !s.hasLast || k.cmp(s.last) < 0 {
		return true
	}
	if k.at != s.last.at {
		return false
	}
	_, seen := s.ties[k.id]
	return !seen
}

// covers is the gap check. A window at offset 0 needs none: nothing lies
// above it. Any other window must hold an anchor: a keyed item reported
// in a later second than last (strictly: same-second tickets may come in
// any order, so an item of last's second proves nothing about the ones
// around it). In loose mode, used only after a window whose bottom second
// filled it (see scan), an item with key >= last is enough, which holds
// only if the server orders same-second tickets by ID. An empty window, a
// window without keyed items, or any window before something keyed was
// yielded has no anchor.
func (s *scanState) covers(offset int, keys []sortKey, keyed []bool, loose bool) bool {
	if offset == 0 {
		return true
	}
	if !s.hasLast {
		return false
	}
	for i, k := range keys {
		if !keyed[i] {
			continue
		}
		if k.at > s.last.at || (loose && k.cmp(s.last) >= 0) {
			return true
		}
	}
	return false
}

// anchor returns the index of the last keyed item reported in a later
// second than last (-1 if none): the next window must start at or above
// it to pass the gap check.
func (s *scanState) anchor(keys []sortKey, keyed []bool) int {
	for i := len(keys) - 1; i >= 0; i-- {
		if keyed[i] && (!s.hasLast || keys[i].at > s.last.at) {
			return i
		}
	}
	return -1
}

// take returns the fresh items of an accepted window and advances the state.
// An item without a usable key is taken when it lies after the last stale
// keyed item, i.e. in the fresh part by position; under churn it can be
// taken twice (see the package documentation).
func (s *scanState) take(items []json.RawMessage, keys []sortKey, keyed []bool) []json.RawMessage {
	isFresh := make([]bool, len(items))
	lastStale := -1
	for i := range items {
		if keyed[i] {
			isFresh[i] = s.fresh(keys[i])
			if !isFresh[i] {
				lastStale = i
			}
		}
	}
	out := make([]json.RawMessage, 0, len(items)-lastStale-1)
	newLast, has := s.last, s.hasLast
	for i, it := range items {
		switch {
		case keyed[i] && isFresh[i]:
			if !has || keys[i].cmp(newLast) < 0 {
				newLast, has = keys[i], true
			}
		case keyed[i] || i <= lastStale:
			continue
		}
		out = append(out, it)
	}
	if !has {
		return out
	}
	if s.ties == nil {
		s.ties = make(map[int64]struct{})
	} else if !s.hasLast || newLast.at != s.last.at {
		clear(s.ties)
	}
	for i := range items {
		if isFresh[i] && keys[i].at == newLast.at {
			s.ties[keys[i].id] = struct{}{}
		}
	}
	s.last, s.hasLast = newLast, true
	return out
}

func (c *Client) scan(ctx context.Context, mode string, opts ScanOptions, fetch fetchFunc) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		opts, err := opts.normalize()
		if err != nil {
			yield(nil, err)
			return
		}
		var (
			st        scanState
			offset    int
			pages     int
			rereads   int
			stalled   int
			warnedOrd bool
			loose     bool   // the next gap check may only use the ID order
			uncertain string // why this scan, read to the end, is still not complete
			keys      []sortKey
			keyed     []bool
		)
		stride := opts.PageSize - opts.Overlap
		// reread counts one more reread against the budget; false means
		// the budget is spent and the scan has ended with an error.
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
			keys, keyed = keys[:0], keyed[:0]
			var prev sortKey
			havePrev := false
			for _, raw := range p.Tickets {
				k, ok := keyOf(raw)
				// A ReportedAt that is no real time (MySQL's zero date, a
				// garbled value) says nothing about the item's place in the
				// list. Trusted as a key, an item sorting below its
				// neighbours would make every later item look already seen
				// and end the scan early, silently; as a keyless item it is
				// taken by position (and transform rejects it).
				ok = ok && isListTime(k.at)
				keys, keyed = append(keys, k), append(keyed, ok)
				if ok {
					// Only ReportedAt is checked: same-second tickets may come
					// in any ID order (see the package documentation).
					if havePrev && k.at > prev.at && !warnedOrd {
						warnedOrd = true
						c.cfg.Logger.Warn().Str("mode", mode).Int("offset", offset).
							Msg("ra api list is not ordered by ReportedAt descending; scan completeness is not guaranteed")
					}
					prev, havePrev = k, true
				}
			}

			if !st.covers(offset, keys, keyed, loose) {
				// Items above the window were removed, more than the
				// overlap absorbs, or the window shows nothing to tell:
				// some items may have slid past the previous window. Step
				// back and read again.
				if !reread("possible gap") {
					return
				}
				offset = max(0, offset-stride)
				continue
			}

			fresh := st.take(p.Tickets, keys, keyed)
			// The end is a window shorter than asked: the list ended inside
			// it. A full window never ends the scan, even one ending exactly
			// at OpenTickets: that count comes from a query of its own, run
			// before the list, so a ticket created in between pushes the
			// oldest one past it. A short window while the very same
			// response counts more open tickets than it reaches is read
			// past instead (a server capping c lower, or a ticket resolved
			// between the two queries): only in list mode, where
			// OpenTickets counts the list paged through; in game mode the
			// API documents it as the open tickets while the list holds
			// every state.
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
			// The next window overlaps this one by Overlap items, more if
			// needed to keep the anchor (the last item of an earlier second
			// than the bottom one) inside it.
			step := min(n-opts.Overlap, st.anchor(keys, keyed))
			loose = false
			switch {
			case step >= 1:
			case beforeCount:
				step = max(0, step) // read the same offset again (counted above)
			default:
				// The bottom second fills the window (or nothing in it has
				// a key): no window can hold it with an anchor above it.
				// Read on, trusting the ID order for ties, but do not call
				// the scan complete.
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

// isListTime reports whether a ReportedAt is a real time in one of the
// forms the API sends ("2006-01-02 15:04:05", or RFC 3339 from newer server
// builds), so that it can place an item in the list.
func isListTime(at string) bool {
	if _, err := time.Parse(time.DateTime, at); err == nil {
		return true
	}
	_, err := time.Parse(time.RFC3339, at)
	return err == nil
}
