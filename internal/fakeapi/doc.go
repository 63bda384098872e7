// Package fakeapi is a deterministic, in-memory simulator of the
// RetroAchievements web API endpoint API_GetTicketData. The demo, the
// integration tests and the benchmarks run ratickets against it instead of
// the real site, so it reproduces the parts of the real server a consumer can
// notice: the JSON shapes and field order of every mode ratickets may call
// (open list, i= single ticket, g=&d=1 game tickets, f=1 most reported
// games), PHP-style paging arithmetic and JSON escaping, a list that shifts
// while it is being paged, and the failures of a busy production site
// (429, 5xx, HTML error pages, truncated bodies, slow answers, resets).
// The same world is also served through the JSON:API resource
// /api/v2/tickets (v2.go), which adds the leaderboard tickets v1 never
// shows; Options.DisableV2 turns it into a 404, like a site without it.
//
// The world (games, achievements, users, tickets) is generated from a seed,
// so the same Options always give the same world; the methods of Server let a
// test change it between, or during, requests.
package fakeapi
