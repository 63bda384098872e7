// Package pipeline wires the three stages into the jobs ratickets runs:
// Sync (scan the open list, merge, reconcile the tickets that left it) and
// Backfill (fetch tickets by id or by game). It owns the order of the work
// and the run's bookkeeping; the stages own their own decisions:
//
//	extract (HTTP, paging, retries) -> transform (pure mapping) -> load (Postgres)
//
// The pipeline decides where a batch ends (batch.go: by size or by age);
// load.Sink writes the batches, one at a time, each in one transaction, its
// tickets streamed to the database a page at a time, so memory does not grow
// with the number of tickets. Files: run.go (the run's lifecycle), batch.go,
// sync.go (the open-list scan), reconcile.go, backfill.go.
package pipeline
