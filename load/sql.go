package load

import "strings"

// The SQL of the load path. The ticket's column lists in it are generated
// from ticketColumns (columns.go); testdata/sql.golden shows the result.

// mergeSettingsSQL prepares a batch's transaction, with createStageSQL in
// one round trip (work_mem, see workMemKB, is set once the batch's size is
// known). The staging table has no statistics, so the planner guesses:
//   - JIT off: its estimates pass jit_above_cost, and compiling the merge
//     cost more than running it (60–80 ms per 5,000-row batch, measured);
//   - no hash or merge joins: it hashed the batch against a sequential scan
//     of all of tickets and ticket_history, which made a sync quadratic in
//     the table size; a batch joins them by primary key, so nested loops
//     over index lookups are always right;
//   - temp_buffers 64MB keeps the staging table in memory (the default 8 MB
//     holds about 5,000 tickets). It can only be set before the session
//     first touches a temporary table, hence the guarded DO block.
const mergeSettingsSQL = `SET LOCAL jit = off;
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
DO $$
BEGIN
    IF current_setting('temp_buffers') <> '64MB' THEN
        PERFORM set_config('temp_buffers', '64MB', false);
    END IF;
EXCEPTION WHEN OTHERS THEN
    NULL; -- temporary tables already used in this session: keep the value
END
$$;
`

// createStageSQL creates the staging table COPY fills: the ticket columns,
// then lacks (the lackBit of each column the record does not carry), then
// seq.
var createStageSQL = `CREATE TEMP TABLE ratickets_stage (
    ` + list("    ", all, func(c column) string { return c.name + " " + c.typ }) + `,
    lacks integer NOT NULL,
    seq integer NOT NULL
) ON COMMIT DROP`

// sqlf fills the template's «placeholders» with the ticket's column lists.
var sqlf = strings.NewReplacer(
	"«all»", list("        ", all, prefixed("")),
	"«set»", list("        ", compared, func(c column) string { return c.name + " = EXCLUDED." + c.name }),
	"«t.compared»", list("               ", compared, prefixed("t.")),
	"«merged»", list("           ", compared, func(c column) string {
		if c.lacking == nil {
			return "s." + c.name
		}
		return merged(c) + " AS " + c.name
	}),
	"«s.compared»", list("               ", compared, merged),
	"«conflict.t»", list("           ", compared, prefixed("t.")),
	"«conflict.excluded»", list("           ", compared, prefixed("EXCLUDED.")),
	"«t.history»", list("            ", history, prefixed("t.")),
	"«s.history»", list("            ", history, merged),
	"«history»", list("        ", history, prefixed("")),
).Replace

// mergeSQL: $1 run id, $2 whether the batch came from the open list.
//
// All CTEs see the tables as they were before the statement, so prev holds
// the old values; the deferred exclusion constraint on ticket_history lets
// the old current version close and the new one open in the same statement.
//
// Cost (see BENCHMARKS.md): change detection happens once, in prev, so an
// unchanged ticket never reaches INSERT … ON CONFLICT (which would lock,
// i.e. write, its row even when its WHERE rejects the update); history and
// counts come from prev, with no second pass over the staging table. The
// history columns are a subset of the compared ones (vanished_at is in
// both), so history_changed implies that up writes the row.
//
// For each column a v2 record lacks (a bit of s.lacks), prev holds the
// stored value (NULL for a new ticket): it compares equal, is written back
// unchanged and opens no history version.
var mergeSQL = sqlf(`
WITH prev AS MATERIALIZED (
    SELECT s.id, «merged»,
           t.id IS NULL AS is_new,
           t.id IS NULL OR t.vanished_at IS NOT NULL
           OR («t.compared»)
              IS DISTINCT FROM
              («s.compared»)
           AS changed,
           («t.history», t.vanished_at)
           IS DISTINCT FROM
           («s.history», NULL::timestamptz) AS history_changed
    FROM (SELECT DISTINCT ON (id) * FROM ratickets_stage ORDER BY id, seq DESC) s
    LEFT JOIN tickets t ON t.id = s.id
),
up AS (
    INSERT INTO tickets AS t (
        «all»,
        first_seen_at, updated_at, vanished_at)
    SELECT «all»,
        now(), now(), NULL
    FROM prev
    WHERE changed
    -- prev decided; the conflict branch stays exact should another writer
    -- have touched the row since (runs hold an advisory lock, others may not).
    ON CONFLICT (id) DO UPDATE SET
        «set»,
        updated_at = EXCLUDED.updated_at, vanished_at = NULL
    WHERE t.vanished_at IS NOT NULL
       OR («conflict.t»)
          IS DISTINCT FROM
          («conflict.excluded»)
),
closed AS (
    UPDATE ticket_history h SET valid_to = now()
    FROM prev p
    WHERE h.ticket_id = p.id AND h.valid_to IS NULL AND p.history_changed AND NOT p.is_new
),
opened AS (
    INSERT INTO ticket_history (ticket_id, valid_from,
        «history»,
        vanished_at, run_id)
    SELECT id, now(),
        «history»,
        NULL, $1
    FROM prev
    WHERE history_changed
),
seen AS (
    INSERT INTO ticket_sightings AS g (ticket_id, last_seen_at, last_seen_run_id, last_listed_run_id)
    SELECT id, now(), $1, CASE WHEN $2::boolean THEN $1::bigint END FROM prev
    ON CONFLICT (ticket_id) DO UPDATE SET
        last_seen_at = EXCLUDED.last_seen_at, last_seen_run_id = EXCLUDED.last_seen_run_id,
        last_listed_run_id = COALESCE(EXCLUDED.last_listed_run_id, g.last_listed_run_id)
)
SELECT count(*) FILTER (WHERE is_new),
       count(*) FILTER (WHERE changed AND NOT is_new),
       count(*) FILTER (WHERE NOT changed)
FROM prev`)

// mergeNoDupSQL is mergeSQL for a batch known to hold each id once (the
// usual case): the staging table is read as is, without the sort that
// keeps the last copy of a repeated id.
var mergeNoDupSQL = strings.Replace(mergeSQL,
	"(SELECT DISTINCT ON (id) * FROM ratickets_stage ORDER BY id, seq DESC) s", "ratickets_stage s", 1)

// markVanishedSQL: $1 ticket ids, $2 run id.
var markVanishedSQL = sqlf(`
WITH v AS (
    UPDATE tickets SET vanished_at = now(), updated_at = now()
    WHERE id = ANY($1) AND vanished_at IS NULL
    RETURNING id, vanished_at,
        «history»
),
closed AS (
    UPDATE ticket_history h SET valid_to = now()
    FROM v WHERE h.ticket_id = v.id AND h.valid_to IS NULL
    RETURNING h.id
),
opened AS (
    INSERT INTO ticket_history (ticket_id, valid_from,
        «history»,
        vanished_at, run_id)
    SELECT id, now(),
        «history»,
        vanished_at, $2
    FROM v
    RETURNING id
)
SELECT count(*) FROM v`)

const upsertCheckpointSQL = `INSERT INTO backfill_checkpoints (name, position, done, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, done = EXCLUDED.done, updated_at = now()`
