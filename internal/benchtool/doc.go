// Command benchtool measures ratickets against the limits of its machine and
// prints one greppable line per figure:
//
//	BENCH name=load_new rows=200000 runs=3 seconds=… rows_per_s=… ceiling_rows_per_s=… ratio=…
//
// Figures (each the median of -runs runs, measured in interleaved rounds so
// that a noisy neighbour slows every figure alike):
//
//	copy_ceiling      COPY of the tickets' rows into an empty copy of the
//	                  tickets table (same columns and indexes), one statement
//	load_new          load.Store.Merge of the same rows into an empty
//	                  database, in batches of -batch (writes tickets,
//	                  ticket_history and ticket_sightings)
//	load_unchanged    the same merge again: nothing changed; must write no
//	                  row of tickets or ticket_history (checked by xmin)
//	sync_new          `ratickets sync` end to end (separate process) against
//	                  the simulator, --rps 0, into an empty database
//	sync_unchanged    the same sync again (a quiet list)
//	backfill_new      `ratickets backfill --games …` of every game, empty database
//	rss_sync_small    peak RSS of `ratickets sync` for -small tickets
//	rss_sync_large    peak RSS of `ratickets sync` for -tickets tickets
//	requests_quiet_sync  requests of a sync of an unchanged list, against
//	                  ceil(open/100); and how many i= lookups it made
//
// What-if figures (not targets; they measure the cost of the loader's extra
// work, for BENCHMARKS.md):
//
//	whatif_upsert_tickets_only   the reference technique (temp
//	                  table, COPY, INSERT … ON CONFLICT DO UPDATE WHERE
//	                  changed) into tickets alone
//	whatif_load_new_without_fks  load_new on a database without the foreign
//	                  keys of ticket_history and ticket_sightings
//	whatif_sync_new_without_fks  sync_new on such a database
//
// It needs a PostgreSQL it may create databases in (-database-url, default
// $DATABASE_URL, as scripts/devpg.sh prints) and the built binary (-bin).
// The simulator runs in this process (internal/fakeapi, the same code as
// `ratickets fakeapi`), so every ticket is in the open list and request
// counts come from the server side.
package main
