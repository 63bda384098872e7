// Package pipeline wires the three stages into the jobs ratickets runs:
// Sync (scan the open list, merge, reconcile the tickets that left it) and
// Backfill (fetch every ticket, tickets by id, or by game). It owns the order
// of the work and the run's bookkeeping; the stages own their own decisions:
//
//	extract (HTTP, paging, retries) -> transform (pure mapping) -> load (Postgres)
//
// Each run uses one API, chosen at its start (Config.API: v1, v2, or auto,
// which probes v2 once and falls back to v1); it is on the run's log lines
// and in sync_runs.api, and the batcher transforms records with that API's
// mapping (transform.Parse or transform.ParseV2).
//
// The pipeline decides where a batch ends (batch.go: by size or by age);
// load.Sink writes the batches, one at a time, each in one transaction, its
// tickets streamed to the database a page at a time, so memory does not grow
// with the number of tickets. Every backfill is one checkpointed loop
// (backfill.go: checkpointed), which commits each batch with the position
// it reached. Files: run.go (the run's lifecycle and the API choice), batch.go,
// sync.go (the open-list scan), reconcile.go, backfill.go.
package pipeline
