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
// The open list is sorted by (ReportedAt desc, ID desc), a total order; call
// an item's (ReportedAt, ID) its key. Between two requests tickets leave the
// list anywhere (resolved: the items below move up) and join it (new ones at
// the top, reopened ones at their own place). A plain offset walk therefore
// skips items at page boundaries whenever items above the boundary leave.
//
// ScanOpen fetches windows of PageSize items. The first is at offset 0; each
// next one starts at offset+len(window)-Overlap, so consecutive windows share
// Overlap positions. The scan remembers one key, last: the smallest key it
// has yielded. For every window after the first:
//
//   - Gap check. If the window (at offset > 0) holds no item with key >= last
//     (its first keyed item is already older than last, or it is empty), the
//     list moved up by at least Overlap since the previous window and items
//     may have slid past unseen. The scan steps back (offset -=
//     PageSize-Overlap, not below 0), counts a reread and fetches again. At
//     offset 0 the check always passes: nothing lies above.
//   - Otherwise it yields the items with key < last (new to the scan) and
//     sets last to the smallest of them. Items with key >= last were yielded
//     before, or joined the list during the scan; either way they are
//     dropped. Seen-twice tickets are thus dropped without a set of IDs:
//     memory stays flat however long the list.
//   - A window shorter than PageSize that passed the check ends the scan, as
//     does (open list only) a full one that ends exactly at the response's
//     OpenTickets, which counts the same list.
//
// Why nothing is missed. Invariant: after each accepted window, every ticket
// open for the whole scan whose key is >= last has been yielded. It holds
// after the first window, which covers positions 0..n-1. Take an accepted
// later window W at offset o with n items, holding an item A with key >=
// last at position p >= o (or o = 0), and let B be its last item (key kB).
// A ticket T open for the whole scan with kB <= key(T) < last was in the
// list when W was fetched; as the list is sorted, T sat strictly below A and
// no lower than B, i.e. between two positions W covers. So T is in W, and
// since key(T) < last it is yielded now; the new last is kB (or last is
// unchanged when W brought nothing new). When W is short, the list ended
// inside W at fetch time, so every such T with key < last is in W: the scan
// is complete. Keys strictly decrease from one yield to the next and each
// yielded key is < last, so no ticket is ever yielded twice, even one that
// leaves and comes back. Rereads only happen when the window's start moved
// up by Overlap or more between two requests (removals above it minus
// insertions). On a quiet list a scan of N > PageSize items costs
// 1 + ceil((N-PageSize)/(PageSize-Overlap)) requests, one more when N-PageSize
// is a multiple of the stride and OpenTickets is absent: about 1.11x the
// minimum with the defaults 100/10.
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
// twice under churn (or at a window edge), so consumers must upsert.
//
// Ties. RAWeb's own source orders the list by ReportedAt alone, so two
// tickets reported in the same second may swap places between requests.
// The scan therefore also treats as new an item with last's ReportedAt and a
// larger ID that it has not yielded yet, keeping the (few) IDs yielded with
// last's ReportedAt. Under a strict total order this changes nothing but
// may yield a ticket that joined mid-scan; it never yields one twice.
package extract
