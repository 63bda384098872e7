package extract

import (
	"context"
	"fmt"
	"iter"
	"slices"
)

// Scanning the v2 collection while it moves
//
// v2 pages by number only: page[number]=m with page[size]=s is the window of
// positions [(m-1)s, ms) of the list as it is when that request runs. Every
// scan here sorts by id ascending, a total order in which a new ticket
// (a higher id than any before it) lands at the end. Between two requests
// tickets also leave the list anywhere (quarantined or deleted; for the open
// list also resolved or closed), shifting the items after them to the left,
// and come back anywhere (reopened, released from quarantine), shifting them
// to the right. Each response is a contiguous slice of the sorted list of
// its moment: every ticket listed then whose id lies between two ids of the
// response is in the response. Both scans rest on that.
//
// Both scans yield only ids above the largest id yielded so far by the page
// walk (call it last), so the page walk never yields a ticket twice, and
// each ends only on a short page (fewer items than page[size]): evidence
// from the list itself that its end was inside the window, never on
// meta.page.total or links.next alone, which the site computes with a
// separate query.
//
// # ScanV2All: every state, ids in the gaps
//
// ScanV2All walks filter[state]=all&sort=id with aligned pages of 100, the
// minimum number of requests on a quiet list. Removals before the scan's
// position make the next page skip the tickets that slid left past its
// start. Those are exactly the tickets whose ids lie strictly between last
// (the end of the previous page) and the first id of the next page; so
// whenever a response starts above last, the open interval (last, first) is
// recorded as a gap, and the gaps are later fetched by id (filter[id], 100
// ids a request, in every state). A response that starts at or below last
// overlaps what was seen: by contiguity nothing between last and its first
// new id exists, and no gap is recorded.
//
// Why nothing is missed. Let T be a ticket listed for the whole scan and
// y1 < y2 < ... < yM the ids the page walk yielded. (a) If yj < id(T) <
// yj+1 and both came from one response, T was in that response (contiguity):
// contradiction. Otherwise yj was the largest id before the response that
// yielded yj+1 first, whose first item was above yj, so (yj, yj+1) was
// recorded as a gap and T, still listed when the gap is fetched, is yielded
// then. (b) id(T) < y1: a fresh scan starts at page 1, position 0, whose
// first item is the smallest id then listed; a resumed one records (last,
// y1) as a gap like any other. (c) id(T) > yM: the scan ended on a short,
// non-empty response R, the tail of the list at its moment. Its largest id
// is at least id(T) (T was listed), and every id of R above last was
// yielded, so yM >= max(R) >= id(T): contradiction. An empty response at a
// position > 0 says nothing about where the items went; the scan then asks
// for the tail through a window whose size does not divide the reported
// total, so it is short unless the list grew, and goes on from there.
//
// Cost. A quiet list of N tickets costs ceil(N/100) pages (one or two more
// when N is a multiple of 100), plus one request per 100 ids in the gaps:
// the ids missing from the id sequence at page boundaries (about one
// boundary in ten in the simulator, hidden or deleted tickets on the site)
// and, under churn, the ids of the tickets that slid past. Gap ids are
// fetched as soon as 100 are pending and at the end, so a cursor carries
// fewer than 100 of them.
//
// Resuming. Every page carries the cursor after it (next page number, last,
// pending gaps). Starting from a cursor is the same walk, except that the
// first response's start is above position 0, so the interval between the
// cursor's last and that response is a gap like any other: tickets removed
// while the scan was stopped cost ids, never completeness.
//
// # ScanV2Open and ScanV2Game: overlapping windows
//
// In the open list (and a game's list) most ids between two neighbours are
// not in the list, so fetching the gaps by id would cost more than the
// pages. These scans instead make consecutive windows overlap, as the v1
// pager does. v2 has no offset, but the size may vary: a window of size s
// can start at any multiple of s. After a window that ended at position B,
// the next one is chosen among sizes 2..PageSize as the one that starts at
// a multiple of its size no later than B-MinOverlap and reaches furthest
// (preferring not to end exactly at the last known total, so the final
// window is short). With the default MinOverlap 2 that costs about 1.15
// times the minimum on a quiet list.
//
// The gap check of the v1 pager applies unchanged, with id ascending as the
// order: a window at position > 0 must hold an item with id <= last, or the
// list moved left by at least the overlap since the previous window and
// tickets may have slid past; the scan then steps back about a page and
// reads again (a reread). Invariant: after each accepted window, every ticket
// listed for the whole scan with id <= last has been yielded. It holds after
// the first window (position 0). An accepted window W holds an item A with
// id(A) <= last and ends with an item B; a ticket T listed for the whole
// scan with last < id(T) <= id(B) was listed when W was read, after A and
// not after B, so it is in W and is yielded; last becomes id(B). When W is
// short it held the tail, so every such T with id > last was in W: the scan
// is complete. MaxRereads bounds the rereads and the windows in a row that
// bring nothing new; MaxPages the requests.

// V2ScanOptions tunes the v2 scans. Zero values select defaults.
type V2ScanOptions struct {
	// PageSize is the largest page[size] used, default and maximum 100; at
	// least 4.
	PageSize int
	// MinOverlap (window scans) is the least number of positions two
	// consecutive windows share, default min(2, PageSize/4); 1 <= MinOverlap
	// <= PageSize/4.
	// Up to MinOverlap-1 removals before the window between two requests
	// cost nothing; more cost a reread.
	MinOverlap int
	// IDBatch (ScanV2All) is how many gap ids one request asks for,
	// default and maximum MaxIDsPerRequest.
	IDBatch int
	// MaxPages bounds the requests of one scan; 0 means no limit.
	MaxPages int
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
	// Next is the next page number (pages of 100); 0 means 1.
	Next int `json:"next"`
	// LastID is the largest id the page walk yielded.
	LastID int64 `json:"last_id"`
	// Gaps are id ranges still to be fetched by id.
	Gaps []IDRange `json:"gaps,omitempty"`
}

func (c V2Cursor) clone() V2Cursor {
	c.Gaps = slices.Clone(c.Gaps)
	return c
}

func gapCount(gaps []IDRange) int64 {
	var n int64
	for _, g := range gaps {
		n += g.To - g.From + 1
	}
	return n
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

func ascending(ids []int64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			return false
		}
	}
	return true
}

// ScanV2All walks every ticket in every state (filter[state]=all, sort=id),
// resuming from cursor (zero: from the start). See "ScanV2All" above for the
// algorithm and its guarantee. Pages hold only tickets new to the scan
// (pages of gap tickets have Number 0) and the cursor to resume from after
// them. On failure it yields (nil, err) once and stops; ending without an
// error means every ticket listed for the whole scan was yielded.
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
		var (
			pages, probes int
			// A tail probe: a window of probeSize at probeNumber instead
			// of the next aligned page.
			probeNumber, probeSize int
		)
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
			for len(cur.Gaps) > 0 && (all || gapCount(cur.Gaps) >= int64(opts.IDBatch)) {
				if limit() {
					return false
				}
				ids, rest := takeGapIDs(slices.Clone(cur.Gaps), opts.IDBatch)
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
		for {
			if !flush(false) || limit() {
				return
			}
			number, s := cur.Next, size
			if probeSize > 0 {
				number, s = probeNumber, probeSize
			}
			p, err := c.v2List(ctx, ModeV2List, q, number, s)
			if err != nil {
				yield(nil, err)
				return
			}
			if !ascending(p.IDs) {
				yield(nil, fmt.Errorf("ra api: v2 list is not sorted by id ascending (page %d); cannot scan it", number))
				return
			}
			start := (number - 1) * s
			probeSize = 0
			n := len(p.IDs)
			if n == 0 {
				if start == 0 || p.Total == 0 {
					// The list is empty: nothing was listed for the whole scan
					// beyond what is known.
					flush(true)
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
				probeSize = size
				for probeSize > 2 && total%probeSize == 0 {
					probeSize--
				}
				probeNumber = total/probeSize + 1
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
		}
	}
}

// ScanV2Open walks the open list (filter[state]=open,request, sort=id)
// with overlapping windows; see "ScanV2Open and ScanV2Game" above. Pages
// hold only tickets new to the scan. On failure it yields (nil, err) once
// and stops; ending without an error means every ticket open for the whole
// scan was yielded exactly once.
func (c *Client) ScanV2Open(ctx context.Context, opts V2ScanOptions) iter.Seq2[*V2Page, error] {
	return c.scanV2Window(ctx, V2Query{States: []string{"open", "request"}}, opts)
}

// ScanV2Game walks one game's tickets in every state (filter[gameId],
// filter[state]=all, sort=id), leaderboard tickets included, like
// ScanV2Open.
func (c *Client) ScanV2Game(ctx context.Context, gameID int64, opts V2ScanOptions) iter.Seq2[*V2Page, error] {
	return c.scanV2Window(ctx, V2Query{States: []string{"all"}, GameIDs: []int64{gameID}}, opts)
}

// nextWindow picks the window after one that ended at position end: the
// size in [4, maxSize] (and so the page number) whose window starts at a
// multiple of it no later than end-overlap and reaches furthest, avoiding
// one that ends exactly at total (known total >= 0), which would need one
// more request to see the end.
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
			last            int64
			hasLast         bool
			pages, rereads  int
			stalled         int
			number, size    = 1, opts.PageSize
			stepBack, total = opts.PageSize - 2*opts.MinOverlap, -1
		)
		for {
			if opts.MaxPages > 0 && pages >= opts.MaxPages {
				yield(nil, fmt.Errorf("%w: %w (%d) at page %d of size %d", ErrScanIncomplete, ErrPageLimit, opts.MaxPages, number, size))
				return
			}
			pages++
			p, err := c.v2List(ctx, ModeV2List, q, number, size)
			if err != nil {
				yield(nil, err)
				return
			}
			if !ascending(p.IDs) {
				yield(nil, fmt.Errorf("ra api: v2 list is not sorted by id ascending (page %d of size %d); cannot scan it", number, size))
				return
			}
			if p.Total >= 0 {
				total = p.Total
			}
			start, n := (number-1)*size, len(p.IDs)
			if start > 0 && (n == 0 || p.IDs[0] > last) {
				// The list moved left by the overlap or more: tickets may
				// have slid past unseen. Step back about a page.
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
			first := 0
			if hasLast {
				first, _ = slices.BinarySearch(p.IDs, last+1)
			}
			out := &V2Page{Number: number, Size: size, Total: p.Total, HasNext: p.HasNext,
				Tickets: p.Tickets[first:], IDs: p.IDs[first:]}
			if first < n {
				last, hasLast = p.IDs[n-1], true
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
