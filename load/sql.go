package load

import "strings"

// The SQL of the load path, in one place so that the column lists of the
// staging table, the merge and the history stay in step.

// mergeSettingsSQL prepares a batch's transaction (it runs with
// createStageSQL in one round trip; work_mem is set at commit, once the
// batch's size is known):
//   - JIT off: with no statistics on a fresh staging table the planner's
//     estimates push the merge over jit_above_cost, and compiling it cost
//     more than running it (60–80 ms per 5,000-row batch, measured);
//   - work_mem large enough to keep the merge's CTE of the batch in memory
//     (at the default 4 MB a 5,000-ticket batch spilled to temporary files
//     that the statement then read four times);
//   - no hash or merge joins: the staging table has no statistics, and the
//     planner then chose to hash the batch against a sequential scan of all
//     of tickets (and of ticket_history) for every batch, which made a
//     sync quadratic in the table size; a batch joins to those tables by
//     primary key, so nested loops over index lookups are always right;
//   - temp_buffers, for the same reason for the staging table itself (the
//     default 8 MB holds about 5,000 tickets). It can only be set before the
//     session first touches a temporary table, hence the guarded DO block;
//     on a session where that is too late it keeps its value.
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

const createStageSQL = `CREATE TEMP TABLE ratickets_stage (
    id bigint NOT NULL, achievement_id bigint, achievement_title text, achievement_description text,
    achievement_type text, points integer, badge_name text, achievement_author text, game_id bigint,
    game_title text, game_icon text, console_name text, reported_at timestamptz NOT NULL,
    report_type ticket_type NOT NULL, report_type_code smallint NOT NULL,
    report_state ticket_state NOT NULL, report_state_code smallint NOT NULL, hardcore boolean,
    report_notes text, reported_by text, resolved_at timestamptz, resolved_by text, rom_hash text,
    emulator text, emulator_core text, emulator_version text, raw jsonb NOT NULL, seq integer NOT NULL
) ON COMMIT DROP`

// mergeSQL: $1 run id, $2 whether the batch came from the open list.
//
// All CTEs see the tables as they were before the statement, so prev holds
// the old values; the deferred exclusion constraint on ticket_history lets
// the old current version close and the new one open in the same statement.
// The history columns here must match 00002_history.sql.
//
// Cost notes (see BENCHMARKS.md): change detection happens once, in prev,
// so that an unchanged ticket never reaches INSERT … ON CONFLICT (which
// would lock, i.e. write, its row even when its WHERE rejects the update);
// ticket_history is written from prev, with no second pass over the
// staging table; the counts come from prev alone. A ticket whose history
// columns changed has changed as a whole (they are a subset of the compared
// columns, and vanished_at is in both), so "history_changed" implies that
// up writes the row.
const mergeSQL = `
WITH prev AS MATERIALIZED (
    SELECT s.*,
           t.id IS NULL AS is_new,
           t.id IS NULL OR t.vanished_at IS NOT NULL
           OR (t.achievement_id, t.achievement_title, t.achievement_description, t.achievement_type,
               t.points, t.badge_name, t.achievement_author, t.game_id, t.game_title, t.game_icon,
               t.console_name, t.reported_at, t.report_type, t.report_type_code, t.report_state,
               t.report_state_code, t.hardcore, t.report_notes, t.reported_by, t.resolved_at,
               t.resolved_by, t.rom_hash, t.emulator, t.emulator_core, t.emulator_version, t.raw)
              IS DISTINCT FROM
              (s.achievement_id, s.achievement_title, s.achievement_description, s.achievement_type,
               s.points, s.badge_name, s.achievement_author, s.game_id, s.game_title, s.game_icon,
               s.console_name, s.reported_at, s.report_type, s.report_type_code, s.report_state,
               s.report_state_code, s.hardcore, s.report_notes, s.reported_by, s.resolved_at,
               s.resolved_by, s.rom_hash, s.emulator, s.emulator_core, s.emulator_version, s.raw)
           AS changed,
           (t.report_state, t.report_state_code, t.report_type, t.report_type_code, t.resolved_at,
            t.resolved_by, t.report_notes, t.achievement_title, t.achievement_description, t.points,
            t.vanished_at)
           IS DISTINCT FROM
           (s.report_state, s.report_state_code, s.report_type, s.report_type_code, s.resolved_at,
            s.resolved_by, s.report_notes, s.achievement_title, s.achievement_description, s.points,
            NULL::timestamptz) AS history_changed
    FROM (SELECT DISTINCT ON (id) * FROM ratickets_stage ORDER BY id, seq DESC) s
    LEFT JOIN tickets t ON t.id = s.id
),
up AS (
    INSERT INTO tickets AS t (
        id, achievement_id, achievement_title, achievement_description, achievement_type, points,
        badge_name, achievement_author, game_id, game_title, game_icon, console_name, reported_at,
        report_type, report_type_code, report_state, report_state_code, hardcore, report_notes,
        reported_by, resolved_at, resolved_by, rom_hash, emulator, emulator_core, emulator_version,
        raw, first_seen_at, updated_at, vanished_at)
    SELECT id, achievement_id, achievement_title, achievement_description, achievement_type, points,
        badge_name, achievement_author, game_id, game_title, game_icon, console_name, reported_at,
        report_type, report_type_code, report_state, report_state_code, hardcore, report_notes,
        reported_by, resolved_at, resolved_by, rom_hash, emulator, emulator_core, emulator_version,
        raw, now(), now(), NULL
    FROM prev
    WHERE changed
    -- prev decided; the conflict branch stays exact should another writer
    -- have touched the row since (runs hold an advisory lock, others may not).
    ON CONFLICT (id) DO UPDATE SET
        achievement_id = EXCLUDED.achievement_id, achievement_title = EXCLUDED.achievement_title,
        achievement_description = EXCLUDED.achievement_description,
        achievement_type = EXCLUDED.achievement_type, points = EXCLUDED.points,
        badge_name = EXCLUDED.badge_name, achievement_author = EXCLUDED.achievement_author,
        game_id = EXCLUDED.game_id, game_title = EXCLUDED.game_title, game_icon = EXCLUDED.game_icon,
        console_name = EXCLUDED.console_name, reported_at = EXCLUDED.reported_at,
        report_type = EXCLUDED.report_type, report_type_code = EXCLUDED.report_type_code,
        report_state = EXCLUDED.report_state, report_state_code = EXCLUDED.report_state_code,
        hardcore = EXCLUDED.hardcore, report_notes = EXCLUDED.report_notes,
        reported_by = EXCLUDED.reported_by, resolved_at = EXCLUDED.resolved_at,
        resolved_by = EXCLUDED.resolved_by, rom_hash = EXCLUDED.rom_hash,
        emulator = EXCLUDED.emulator, emulator_core = EXCLUDED.emulator_core,
        emulator_version = EXCLUDED.emulator_version, raw = EXCLUDED.raw,
        updated_at = EXCLUDED.updated_at, vanished_at = NULL
    WHERE t.vanished_at IS NOT NULL
       OR (t.achievement_id, t.achievement_title, t.achievement_description, t.achievement_type,
           t.points, t.badge_name, t.achievement_author, t.game_id, t.game_title, t.game_icon,
           t.console_name, t.reported_at, t.report_type, t.report_type_code, t.report_state,
           t.report_state_code, t.hardcore, t.report_notes, t.reported_by, t.resolved_at,
           t.resolved_by, t.rom_hash, t.emulator, t.emulator_core, t.emulator_version, t.raw)
          IS DISTINCT FROM
          (EXCLUDED.achievement_id, EXCLUDED.achievement_title, EXCLUDED.achievement_description,
           EXCLUDED.achievement_type, EXCLUDED.points, EXCLUDED.badge_name,
           EXCLUDED.achievement_author, EXCLUDED.game_id, EXCLUDED.game_title, EXCLUDED.game_icon,
           EXCLUDED.console_name, EXCLUDED.reported_at, EXCLUDED.report_type,
           EXCLUDED.report_type_code, EXCLUDED.report_state, EXCLUDED.report_state_code,
           EXCLUDED.hardcore, EXCLUDED.report_notes, EXCLUDED.reported_by, EXCLUDED.resolved_at,
           EXCLUDED.resolved_by, EXCLUDED.rom_hash, EXCLUDED.emulator, EXCLUDED.emulator_core,
           EXCLUDED.emulator_version, EXCLUDED.raw)
),
closed AS (
    UPDATE ticket_history h SET valid_to = now()
    FROM prev p
    WHERE h.ticket_id = p.id AND h.valid_to IS NULL AND p.history_changed AND NOT p.is_new
),
opened AS (
    INSERT INTO ticket_history (ticket_id, valid_from, report_state, report_state_code, report_type,
        report_type_code, resolved_at, resolved_by, report_notes, achievement_title,
        achievement_description, points, vanished_at, run_id)
    SELECT id, now(), report_state, report_state_code, report_type, report_type_code,
        resolved_at, resolved_by, report_notes, achievement_title,
        achievement_description, points, NULL, $1
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
FROM prev`

// mergeNoDupSQL is mergeSQL for a batch known to hold each id once (the
// usual case): the staging table is read as is, without the sort that
// keeps the last copy of a repeated id.
var mergeNoDupSQL = strings.Replace(mergeSQL,
	"(SELECT DISTINCT ON (id) * FROM ratickets_stage ORDER BY id, seq DESC) s", "ratickets_stage s", 1)

// markVanishedSQL: $1 ticket ids, $2 run id.
const markVanishedSQL = `
WITH v AS (
    UPDATE tickets SET vanished_at = now(), updated_at = now()
    WHERE id = ANY($1) AND vanished_at IS NULL
    RETURNING id, vanished_at, report_state, report_state_code, report_type, report_type_code,
        resolved_at, resolved_by, report_notes, achievement_title, achievement_description, points
),
closed AS (
    UPDATE ticket_history h SET valid_to = now()
    FROM v WHERE h.ticket_id = v.id AND h.valid_to IS NULL
    RETURNING h.id
),
opened AS (
    INSERT INTO ticket_history (ticket_id, valid_from, report_state, report_state_code, report_type,
        report_type_code, resolved_at, resolved_by, report_notes, achievement_title,
        achievement_description, points, vanished_at, run_id)
    SELECT id, now(), report_state, report_state_code, report_type, report_type_code, resolved_at,
        resolved_by, report_notes, achievement_title, achievement_description, points, vanished_at, $2
    FROM v
    RETURNING id
)
SELECT count(*) FROM v`

const upsertCheckpointSQL = `INSERT INTO backfill_checkpoints (name, position, done, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, done = EXCLUDED.done, updated_at = now()`
