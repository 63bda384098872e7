package extract

import (
	"context"
	"fmt"
	"iter"
	"slices"
)

// Scanning the v2 collection while it moves
//
// page[number]=m with page[size]=s is the window of positions [(m-1)s, ms)
// of the list when that request runs. Sorted by id ascending, new tickets
// land at the end; others leave and come back anywhere between requests.
// Each response is a contiguous slice of the sorted list of its moment:
// every ticket listed then with an id between two of its ids is in it.
// Both scans yield only ids above last, the largest id the page walk
// yielded, and end only on a short page, never on meta.page.total or
// links.next (another query).
//
// # ScanV2All: every state, ids in the gaps
//
// Aligned pages of 100 cost the fewest requests. Removals before the scan's
// position make the next page skip the tickets that slid left past its
// start: exactly those with ids between last and its first id. So when a
// response past position 0 starts above last+1, that open interval is
// recorded as a gap, to be fetched by id (100 a request, once 100 are
// pending, and at the end). A quiet list of N costs ceil(N/100) pages (one
// or two more when 100 divides N) plus a request per 100 gap ids. Every
// page carries the cursor after it (next page, last, gaps); resuming is the
// same walk, so removals while stopped cost ids, never completeness.
//
// Why nothing is missed. Let T be listed for the whole scan and y1 < ... <
// yM the ids the page walk yielded. If yj < id(T) < yj+1 came from one
// response, T was in it (contiguity); otherwise the response that yielded
// yj+1 started above yj, so (yj, yj+1) was a gap. If id(T) < y1: a fresh
// scan starts at position 0, a resumed one records (last, y1) as a gap. If
// id(T) > yM: the scan ended on a short, non-empty response, the tail of
// its moment, so holding T, and yielded all of it above last. An empty
// response past position 0 says nothing: the scan asks for the tail
// through a window whose size does not divide the reported total, so it is
// short unless the list grew.
//
// # ScanV2Open and ScanV2Game: overlapping windows
//
// Most ids are not in these lists, so gaps would cost more than pages:
// consecutive windows overlap instead, as in v1. A window of size s starts
// at a multiple of s, so after one ending at position B the next is the
// size in 4..PageSize whose window starts no later than B-MinOverlap and
// reaches furthest (not ending exactly at the known total, so the last one
// is short): about 1.15x the minimum with MinOverlap 2.
//
// Gap check: a window past position 0 must hold an id <= last, or the list
// moved left by the overlap or more and the scan steps back about a page (a
// reread). Invariant: after each accepted window every ticket listed for
// the whole scan with id <= last was yielded. An accepted window holds some
// A with id(A) <= last and ends with B; a ticket T listed throughout with
// last < id(T) <= id(B) lay after A and not after B, so it is in the window
// and yielded; last becomes id(B). A short window held the tail: the scan
// is complete. MaxRereads bounds the rereads and the windows in a row that
// bring nothing new, MaxPages the requests.

// V2ScanOptions tunes the v2 scans. Zero values select defaults.
type V2ScanOptions struct {
	// PageSize is the largest page[size] used, 4 to 100, default 100.
	PageSize int
	// MinOverlap (window scans) is the least number of positions two
	// consecutive windows share, 1 to PageSize/4, default min(2,
	// PageSize/4). Up to MinOverlap-1 removals before the window between
	// two requests cost nothing; more cost a reread.
	MinOverlap int
	IDBatch    int // (ScanV2All) gap ids one request asks for, default and maximum 100
	MaxPages   int // bounds the requests of one scan; 0: no limit
	// MaxRereads bounds rereads and unproductive windows in a row (window
	// scans) and tail probes (ScanV2All); default 50.
	MaxRereads int
}

func (o V2ScanOptions) normalize() (V2ScanOptions, error) {
	switch {
	case o.PageSize == 0 || o.PageSize > MaxPageSize:
		o.PageSize = MaxPageSize
	case o.PageSize < 4:
		return o, fmt.Errorf("ra api: v2 scan: PageSize must be at least 4, got %d", o.PageSize)
	}
	if o.MinOverlap == 0 {
		o.MinOverlap = min(2, o.PageSize/4)
	}
	if o.MinOverlap < 1 || o.MinOverlap > o.PageSize/4 {
		return o, fmt.Errorf("ra api: v2 scan: MinOverlap must be in [1, PageSize/4=%d], got %d", o.PageSize/4, o.MinOverlap)
	}
	if o.IDBatch == 0 || o.IDBatch > MaxIDsPerRequest {
		o.IDBatch = MaxIDsPerRequest
	}
	if o.IDBatch < 1 || o.MaxPages < 0 || o.MaxRereads < 0 {
		return o, fmt.Errorf("ra api: v2 scan: IDBatch, MaxPages and MaxRereads must not be negative")
	}
	if o.MaxRereads == 0 {
		o.MaxRereads = DefaultMaxRereads
	}
	return o, nil
}

// IDRange is an inclusive range of ticket ids.
type IDRange struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// V2Cursor is where ScanV2All resumes. Its zero value starts at the
// beginning. It marshals to JSON for a checkpoint.
type V2Cursor struct {
	Next   int       `json:"next"`           // the next page number (pages of 100); 0 means 1
	LastID int64     `json:"last_id"`        // the largest id the page walk yielded
	Gaps   []IDRange `json:"gaps,omitempty"` // id ranges still to be fetched by id
}

func (c V2Cursor) clone() V2Cursor {
	c.Gaps = slices.Clone(c.Gaps)
	return c
}

// takeGapIDs removes up to n ids from the front of gaps.
func takeGapIDs(gaps []IDRange, n int) ([]int64, []IDRange) {
	var ids []int64
	for len(gaps) > 0 && len(ids) < n {
		g := &gaps[0]
		for g.From <= g.To && len(ids) < n {
			ids = append(ids, g.From)
			g.From++
		}
		if g.From > g.To {
			gaps = gaps[1:]
		}
	}
	return ids, gaps
}

// scanPage fetches one page of a scan and checks the order every scan
// relies on; at names the page in that error.
func (c *Client) scanPage(ctx context.Context, q V2Query, number, size int, at string) (*V2Page, error) {
	p, err := c.v2List(ctx, ModeV2List, q, number, size)
	for i := 1; err == nil && i < len(p.IDs); i++ {
		if p.IDs[i] <= p.IDs[i-1] {
			return nil, fmt.Errorf("ra api: v2 list is not sorted by id ascending (%s); cannot scan it", at)
		}
	}
	return p, err
}

// ScanV2All walks every ticket in every state, resuming from cursor (zero:
// from the start); see "ScanV2All" above. Each page carries the cursor
// after it; pages of gap tickets have Number 0.
func (c *Client) ScanV2All(ctx context.Context, cursor V2Cursor, opts V2ScanOptions) iter.Seq2[*V2Page, error] {
	return func(yield func(*V2Page, error) bool) {
		opts, err := opts.normalize()
		if err != nil {
			yield(nil, err)
			return
		}
		cur := cursor.clone()
		cur.Next = max(cur.Next, 1)
		size := opts.PageSize
		q := V2Query{States: []string{"all"}}
		var pages, probes int
		limit := func() bool {
			if opts.MaxPages > 0 && pages >= opts.MaxPages {
				yield(nil, fmt.Errorf("%w: %w (%d) at page %d", ErrScanIncomplete, ErrPageLimit, opts.MaxPages, cur.Next))
				return true
			}
			pages++
			return false
		}
		// flush fetches gap ids, a batch at a time: all of them when all
		// is set, else while a full batch is pending.
		flush := func(all bool) bool {
			for len(cur.Gaps) > 0 {
				ids, rest := takeGapIDs(slices.Clone(cur.Gaps), opts.IDBatch)
				if !all && len(ids) < opts.IDBatch {
					return true
				}
				if limit() {
					return false
				}
				b, err := c.TicketsByID(ctx, ids)
				if err != nil {
					yield(nil, err)
					return false
				}
				cur.Gaps = rest
				if !yield(&V2Page{Tickets: b.Tickets, IDs: b.IDs, Total: -1, Cursor: cur.clone()}, nil) {
					return false
				}
			}
			return true
		}
		number, s := cur.Next, size // the next aligned page, or a tail probe
		for {
			if !flush(false) || limit() {
				return
			}
			p, err := c.scanPage(ctx, q, number, s, fmt.Sprintf("page %d", number))
			if err != nil {
				yield(nil, err)
				return
			}
			start, n := (number-1)*s, len(p.IDs)
			if n == 0 {
				if start == 0 || p.Total == 0 {
					flush(true) // the list is empty
					return
				}
				// Past the end: ask for the tail through a window that
				// ends beyond the reported total.
				probes++
				if probes > opts.MaxRereads {
					yield(nil, fmt.Errorf("%w: list shrank faster than the scan (%d tail probes)", ErrScanIncomplete, probes-1))
					return
				}
				total := p.Total
				if total < 0 {
					total = start // no total: step back a window
				}
				s = size
				for s > 2 && total%s == 0 {
					s--
				}
				number = total/s + 1
				continue
			}
			first := slices.IndexFunc(p.IDs, func(id int64) bool { return id > cur.LastID })
			out := &V2Page{Number: number, Size: s, Total: p.Total, HasNext: p.HasNext}
			if first >= 0 {
				if first == 0 && start > 0 && p.IDs[0] > cur.LastID+1 {
					cur.Gaps = append(cur.Gaps, IDRange{From: cur.LastID + 1, To: p.IDs[0] - 1})
				}
				out.Tickets, out.IDs = p.Tickets[first:], p.IDs[first:]
				cur.LastID = p.IDs[n-1]
			}
			cur.Next = (start+n)/size + 1
			out.Cursor = cur.clone()
			if !yield(out, nil) {
				return
			}
			if n < s {
				flush(true)
				return
			}
			number, s = cur.Next, size
		}
	}
}

// ScanV2Open walks the open list (states open and request) with
// overlapping windows; see "ScanV2Open and ScanV2Game" above.
func (c *Client) ScanV2Open(ctx context.Context, opts V2ScanOptions) iter.Seq2[*V2Page, error] {
	return c.scanV2Window(ctx, V2Query{States: []string{"open", "request"}}, opts)
}

// ScanV2Game walks one game's tickets in every state, leaderboard tickets
// included, like ScanV2Open.
func (c *Client) ScanV2Game(ctx context.Context, gameID int64, opts V2ScanOptions) iter.Seq2[*V2Page, error] {
	return c.scanV2Window(ctx, V2Query{States: []string{"all"}, GameIDs: []int64{gameID}}, opts)
}

// nextWindow picks the window after one that ended at position end (see
// "ScanV2Open and ScanV2Game" above); total < 0 is unknown.
func nextWindow(end, overlap, maxSize, total int) (number, size int) {
	if end-overlap <= 0 {
		return 1, maxSize
	}
	best := -1
	for s := maxSize; s >= 4; s-- {
		start := (end - overlap) / s * s
		reach := start + s
		score := 2 * reach
		if reach == total {
			score--
		}
		if score > best {
			best, number, size = score, start/s+1, s
		}
	}
	return number, size
}

func (c *Client) scanV2Window(ctx context.Context, q V2Query, opts V2ScanOptions) iter.Seq2[*V2Page, error] {
	return func(yield func(*V2Page, error) bool) {
		opts, err := opts.normalize()
		if err != nil {
			yield(nil, err)
			return
		}
		var (
			last                    int64 // ids are > 0: 0 is "none yet"
			pages, rereads, stalled int
			number, size            = 1, opts.PageSize
			stepBack, total         = opts.PageSize - 2*opts.MinOverlap, -1
		)
		for {
			if opts.MaxPages > 0 && pages >= opts.MaxPages {
				yield(nil, fmt.Errorf("%w: %w (%d) at page %d of size %d", ErrScanIncomplete, ErrPageLimit, opts.MaxPages, number, size))
				return
			}
			pages++
			p, err := c.scanPage(ctx, q, number, size, fmt.Sprintf("page %d of size %d", number, size))
			if err != nil {
				yield(nil, err)
				return
			}
			if p.Total >= 0 {
				total = p.Total
			}
			start, n := (number-1)*size, len(p.IDs)
			if start > 0 && (n == 0 || p.IDs[0] > last) {
				// Tickets may have slid past unseen: step back about a page.
				if rereads >= opts.MaxRereads {
					yield(nil, fmt.Errorf("%w: list churned faster than the scan (%d rereads) at page %d of size %d", ErrScanIncomplete, rereads, number, size))
					return
				}
				rereads++
				c.rereads.Add(1)
				c.cfg.Logger.Debug().Int("page", number).Int("size", size).Int("rereads", rereads).Msg("ra api v2 scan: possible gap; rereading")
				number, size = nextWindow(max(0, start-stepBack), opts.MinOverlap, opts.PageSize, total)
				continue
			}
			first, _ := slices.BinarySearch(p.IDs, last+1)
			out := &V2Page{Number: number, Size: size, Total: p.Total, HasNext: p.HasNext,
				Tickets: p.Tickets[first:], IDs: p.IDs[first:]}
			if first < n {
				last = p.IDs[n-1]
				stalled = 0
			} else {
				stalled++
			}
			if !yield(out, nil) {
				return
			}
			if n < size {
				return
			}
			if stalled > opts.MaxRereads {
				yield(nil, fmt.Errorf("%w: %d windows in a row brought nothing new at page %d of size %d", ErrScanIncomplete, stalled, number, size))
				return
			}
			number, size = nextWindow(start+n, opts.MinOverlap, opts.PageSize, total)
		}
	}
}
