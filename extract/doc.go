// Package extract is ratickets' HTTP client for the RetroAchievements ticket
// API (v1 API_GetTicketData, v2 /api/v2/tickets), and the pagers that walk
// its lists while they change.
//
// Every pager (ScanOpen, ScanGame, ScanV2All, ScanV2Open, ScanV2Game) is an
// iterator of pages holding only the tickets new to the scan (maybe none).
// On failure it yields (nil, err) once and stops; ending without an error
// means every ticket listed for the whole scan was yielded, none twice
// (keyless v1 items aside). Breaking out of the loop stops all requests.
//
// # Client
//
// Every attempt, retries included, first waits on a client-side rate
// limiter. 429, 5xx, per-attempt timeouts, connection resets and 2xx bodies
// that are not the expected JSON are retried with exponential backoff and
// full jitter, never sooner than Retry-After asks. 401/403
// (ErrUnauthorized) and other 4xx fail at once; only the API's own answer to
// a missing ticket or game matches ErrNotFound. A redirect to another host
// or to plain http is refused (ErrRedirectRefused) and no Referer is sent:
// both would hand the key to someone else. v1 sends the key in the URL, v2
// only in the X-API-Key header. Every error passes through internal/redact,
// and a malformed body is quoted from its redacted copy, so not even half a
// key reaches an error or a log.
//
// # Scanning a list that moves (ScanOpen, ScanGame)
//
// The list is sorted by ReportedAt descending, to the second; within one
// second the order is not to be trusted (RAWeb orders by ReportedAt alone).
// Between two requests tickets leave anywhere and join at the top or at
// their own place, so a plain offset walk skips items at page boundaries.
// An item's key is (ReportedAt, ID); its second is its ReportedAt.
//
// A scan reads windows of PageSize items from offset 0 and remembers last,
// the smallest key it yielded, and ties, the IDs it yielded in last's
// second. An item is new when its key is below last, or it is in last's
// second and not in ties; memory stays flat however long the list.
//
//   - Gap check: a window at offset > 0 must hold an anchor, a keyed item of
//     a later second than last's. Without one items may have slid past
//     unseen: the scan steps back PageSize-Overlap and reads again (a
//     reread). Otherwise it yields the new items and moves last down.
//   - Only a window shorter than PageSize ends the scan, never OpenTickets
//     (a query of its own, run before the list). In list mode a short
//     window whose own OpenTickets counts past it is read past, as a reread.
//   - The next window starts Overlap items before this one's end, or earlier
//     to keep this window's last anchor item inside it. If no item past the
//     first can (one second or keyless items fill the window), the scan
//     reads on trusting the ID order for ties and ends with
//     ErrScanIncomplete.
//
// Why nothing is missed. Invariant: after each accepted window, every ticket
// open for the whole scan with a second later than last's was yielded. It
// holds after the first window. Let W be an accepted later window with
// anchor A (or at offset 0) and last keyed item B. A ticket T open
// throughout with second(B) < second(T) <= second(last) sat strictly below
// A and above B when W was fetched, whatever the order within a second, so
// T is in W and is yielded now if not before; last's second becomes
// second(B) or later. A short W held the list's end, so every such T down
// to the end was in it: the scan is complete. No ticket is yielded twice:
// every yielded key stays >= last, and those in last's second are in ties.
//
// Costs. A quiet list of N >= PageSize items costs 2 +
// floor((N-PageSize)/(PageSize-Overlap)) requests, about 1.11x the minimum
// at 100/10 (seeing the end of an exactly full last window costs one).
// MaxRereads caps the rereads and the full windows in a row that bring
// nothing new, MaxPages the requests; hitting a cap ends the scan with an
// error wrapping ErrScanIncomplete. No error means complete.
//
// An item without a usable key (an ID and a real ReportedAt) is yielded
// when it lies after the window's last already-seen keyed item; under churn
// it may be yielded twice, so consumers upsert. It never anchors.
//
// The v2 scans page by number over a list sorted by id; see v2scan.go.
package extract
