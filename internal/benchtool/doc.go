// Command benchtool measures ratickets end to end, as a user runs it: the
// built binary (-bin) as a separate process against the simulator
// (internal/fakeapi, in this process, every ticket in the open list; request
// counts come from its side), each run into a fresh migrated database on
// -database-url (default $DATABASE_URL; not needed for -only requests). It
// prints one greppable line per figure, measured values only; BENCHMARKS.md
// says what each figure means and holds the targets:
//
//	BENCH name=sync_new rows=185023 runs=3 seconds=… rows_per_s=… ceiling_rows_per_s=… ratio=… requests=… peak_rss_mib=…
//
// Groups (-only) and their figures, each the median of -runs runs measured
// in interleaved rounds, so that a noisy neighbour slows every figure alike:
//
//	sync      sync_new, sync_unchanged (`ratickets sync`, --rps 0, into an
//	          empty database, then again), requests_quiet_sync
//	backfill  backfill_new (`backfill --games` of every game)
//	          and with either: copy_ceiling, one binary COPY of the rows the
//	          first run stored (the ratios divide by it)
//	rss       rss_sync_small, rss_sync_large: peak RSS of a sync of -small
//	          and of -tickets tickets
//	requests  requests_backfill_all_v2, requests_backfill_all_v2_churn,
//	          requests_full_history_v1, requests_reconcile: the extract
//	          client in this process against a simulator of -tickets tickets
//	          in every state, no database and no binary (requests.go)
//
// The loader's figures are `go test -bench Load ./load`.
package main
