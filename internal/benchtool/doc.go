// Command benchtool measures ratickets end to end, as a user runs it: the
// built binary (-bin) as a separate process against the simulator
// (internal/fakeapi, in this process, every ticket in the open list; request
// counts come from its side), each run into a fresh migrated database on
// -database-url (default $DATABASE_URL; not needed for -only requests). It prints one greppable line per
// figure, measured values only (the targets are in BENCHMARKS.md):
//
//	BENCH name=sync_new rows=185023 runs=3 seconds=… rows_per_s=… ceiling_rows_per_s=… ratio=… requests=… peak_rss_mib=…
//
// Figures, each the median of -runs runs measured in interleaved rounds so
// that a noisy neighbour slows every figure alike:
//
//	sync_new             `ratickets sync`, --rps 0, into an empty database
//	sync_unchanged       the same sync again (a quiet list)
//	backfill_new         `ratickets backfill --games …` of every game
//	copy_ceiling         one binary COPY of the rows the first run stored
//	                     into an empty table LIKE tickets INCLUDING ALL; the
//	                     ratios divide by it
//	rss_sync_small/large peak RSS of a sync of -small and of -tickets tickets
//	requests_quiet_sync  list requests of a quiet sync against ceil(open/100),
//	                     and its i= lookups
//
// The requests group (no database, no binary: the extract client in this
// process against a simulator of -tickets tickets in every state, each
// figure counted once, on the simulator's side; ratios to ceil(N/100), N
// the tickets v2 shows; hours at one request a second):
//
//	requests_backfill_all_v2        extract.ScanV2All, the v2 `backfill --all`
//	requests_backfill_all_v2_churn  the same while the world churns
//	requests_full_history_v1        one i= per id from 1 to the highest, all run
//	requests_reconcile              -departed tickets that left the open list,
//	                                one i= each (v1), 100 ids a request (v2)
//
// Files by concern: main.go (flags), rounds.go (the schedule), runs.go (one
// run of each kind), child.go (the subprocess and its peak RSS), world.go
// (the simulator), db.go (databases, through internal/pgtest), requests.go
// (the requests group), report.go (the BENCH lines). The loader's figures
// are `go test -bench Load ./load`.
package main
