// Package load owns everything ratickets writes to PostgreSQL: the schema
// migrations (through goose), the bulk merge of tickets with their history,
// run bookkeeping, the writers' advisory lock, and backfill checkpoints.
//
// A run writes its batches through a Sink, one batch at a time; the merge
// path, per batch and in one transaction (its SQL generated from the one
// list of ticket columns in columns.go):
//
//	COPY batch -> temp table ratickets_stage
//	one INSERT … ON CONFLICT (id) DO UPDATE … WHERE <the row really changed>
//	    + close the current ticket_history version and open the new one
//	    + upsert ticket_sightings (last seen; kept apart so no ticket row is rewritten)
//	rejected_records, sync_runs counters and the checkpoint
//
// An unchanged ticket costs no write to tickets or ticket_history. A batch
// either commits whole or leaves the database as it was. Tickets of either
// API (transform.Parse, transform.ParseV2) go through the same Sink: a
// column a record does not carry (Ticket.Lacks; the other API's raw object)
// keeps its stored value and is never a change.
package load
