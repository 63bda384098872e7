// Package extract is ratickets' HTTP client for RetroAchievements'
// API_GetTicketData endpoint, and the pager that walks its open-ticket list
// while that list changes.
//
// # Client
//
// A Client (see New and Config) sends z (username), y (web API key), the
// mode parameters, a User-Agent and Accept: application/json. Every attempt,
// retries included, first waits on a client-side rate limiter. 429, 5xx,
// per-attempt timeouts, connection resets/EOF and 2xx bodies that are not the
// expected JSON (HTML error pages, truncated JSON, wrong top-level shape) are
// retried with exponential backoff and full jitter, never sooner than a
// Retry-After header asks. 401/403 (ErrUnauthorized), 404 and other 4xx fail
// at once; only the API's own answer to a missing ticket or game (404 with
// {"error":"Ticket ID N not found"} for the id asked) matches ErrNotFound. A
// redirect to another host or from https to http is refused
// (ErrRedirectRefused) and no Referer is ever sent: both would hand the key
// to someone else. The API key never appears in an error or a log: every
// error passes through internal/redact, which sanitizes *url.Error URLs and
// replaces the key in any spelling, and a malformed body is quoted from its
// redacted copy, so a key cut in half by the quote cannot escape.
//
// # Scanning a list that moves
//
// The open list is sorted by ReportedAt descending, to the second. Within
// one second the order is not to be trusted: RAWeb's own source orders by
// ReportedAt alone, so same-second tickets may come in a different order
// on every request. Call an item's (ReportedAt, ID) its key and its
// ReportedAt its second. Between two requests tickets leave the list
// anywhere (resolved: the items below move up) and join it (new ones at the
// top, reopened ones at their own place). A plain offset walk therefore
// skips items at page boundaries whenever items above the boundary leave,
// and wherever a same-second run straddles a boundary and is reordered.
// A game's list (ScanGame) is ordered and paged the same way.
//
// ScanOpen fetches windows of PageSize items, the first at offset 0. The
// scan remembers last, the smallest key it has yielded, and the IDs it has
// yielded with last's second (ties). An item is new when its key is below
// last, or when it has last's second and is not in ties. For every window:
//
//   - Gap check. A window at offset > 0 must hold an anchor: a keyed item
//     of a later second than last's. Without one (the list moved up past
//     the overlap, the window is empty, or it holds no keyed item at all)
//     items may have slid past unseen: the scan steps back (offset -=
//     PageSize-Overlap, not below 0), counts a reread and fetches again.
//     At offset 0 the check always passes: nothing lies above.
//   - Otherwise it yields the new items and moves last down to the
//     smallest of them. Other items were yielded before or joined the list
//     during the scan; they are dropped, without a set of IDs beyond ties:
//     memory stays flat however long the list.
//   - Only a window shorter than PageSize ends the scan: evidence from the
//     list itself. A full window never does, not even one ending exactly
//     at the response's OpenTickets: that count comes from a query of its
//     own, run before the list, so a ticket created in between pushes the
//     oldest one past it. In list mode a short window whose own response
//     counts more open tickets than it reaches is not the end either (a
//     server capping c lower, or a ticket resolved between the two
//     queries): the scan reads on, counting it as a reread.
//   - The next window starts Overlap items before this one's end, or
//     earlier if needed to keep this window's anchor item (its last keyed
//     item of a second later than last's) inside it. When there is no
//     such item past the window's first (one second, or keyless items,
//     fill the window), no window can anchor the next: the scan reads on
//     trusting the ID order for ties, and ends with ErrScanIncomplete.
//
// Why nothing is missed. Invariant: after each accepted window, every
// ticket open for the whole scan whose second is later than last's has
// been yielded. It holds after the first window. Take an accepted later
// window W at offset o, its anchor A (second sA later than last's, or o =
// 0) and its last keyed item B (second sB). A ticket T open for the whole
// scan with sB < second(T) <= last's second was in the list when W was
// fetched; whatever the order within a second, T sat strictly below A and
// strictly above B, i.e. between two positions W covers. So T is in W; it
// is new unless yielded already (then it is in ties, or its key is not
// below last), so it is yielded now at the latest, and the new last's
// second is sB or later: the invariant holds again. When W is short the
// list ended inside W at fetch time, so every such T with second(T) <=
// last's is in W: the scan is complete. No ticket is yielded twice: every
// key yielded stays >= last, and one yielded in last's second is in ties,
// so neither counts as new again.
//
// Costs. Rereads only happen when the window's start moved up by about
// Overlap or more between two requests (removals above it minus
// insertions). On a quiet list a scan of N >= PageSize items costs
// 2 + floor((N-PageSize)/(PageSize-Overlap)) requests, one for N <
// PageSize: about 1.11x the minimum with the defaults 100/10. That is one
// request more than counting on OpenTickets cost, and only when the last
// window is full (N-PageSize a multiple of the stride, one list length in
// 90): the scan must then see a short or empty page to know the list
// ended; that extra request is the price of never ending on the count.
//
// Progress is bounded: MaxRereads caps the rereads, and also the number of
// full windows in a row that bring nothing new (new tickets arriving faster
// than the scan advances); MaxPages caps the requests. Hitting a cap ends
// the scan with an error wrapping ErrScanIncomplete. The iterator ending
// without an error means a complete scan.
//
// Keys are read from each item's ID (number or string) and ReportedAt
// ("YYYY-MM-DD HH:MM:SS", which sorts as text in time order). An item with
// no usable key is yielded when it lies after the window's last already-seen
// keyed item, i.e. in the new part by position. Such an item can be yielded
// twice under churn (or at a window edge), so consumers must upsert. It
// never serves as an anchor.
package extract
