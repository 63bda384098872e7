// Package pipeline wires the three stages into the jobs ratickets runs:
// Sync (scan the open list, merge, reconcile the tickets that left it) and
// Backfill (fetch tickets by id or by game). It owns the order of the work
// and the run's bookkeeping; the stages own their own decisions:
//
//	extract (HTTP, paging, retries) -> transform (pure mapping) -> load (Postgres)
//
// The stages overlap through bounded channels: the next page downloads while
// the previous batch merges, and memory does not grow with the number of
// tickets.
package pipeline
