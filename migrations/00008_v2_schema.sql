-- +goose Up
-- The v2 tickets API (issue 12): leaderboard tickets, their four report
-- types, and records that do not carry every v1 field.
--
--   * tickets.ticketable_type says what a ticket is about (v1 only knows
--     achievement tickets: every existing row is one). A leaderboard ticket
--     has leaderboard_id and leaderboard_title, and its achievement columns
--     are NULL.
--   * ticket_type gains the leaderboard types. ALTER TYPE … ADD VALUE runs
--     in this migration's transaction (PostgreSQL 12 and later) because
--     nothing below uses the new labels: a new label cannot be used before
--     its transaction commits (by_emulator compares report_type as text).
--   * report_type_code and report_state_code are NULL where the source has
--     no legacy code (a leaderboard type, a state v2 names but v1 has no code
--     for, on a ticket no v1 record has described).
--   * raw keeps the last v1 object, raw_v2 the last v2 object: a merge writes
--     only the column of the record's source, so switching APIs never
--     rewrites the other one. A ticket seen only through v2 has raw NULL
--     (and one seen only through v1 raw_v2 NULL); never both.
--   * ticket_history versions leaderboard_title as it does achievement_title.
CREATE TYPE ticketable_type AS ENUM ('achievement', 'leaderboard');
ALTER TYPE ticket_type ADD VALUE 'did_not_start' BEFORE 'unknown';
ALTER TYPE ticket_type ADD VALUE 'did_not_cancel' BEFORE 'unknown';
ALTER TYPE ticket_type ADD VALUE 'did_not_submit' BEFORE 'unknown';
ALTER TYPE ticket_type ADD VALUE 'submitted_wrong_value' BEFORE 'unknown';

-- A constant default: no table rewrite.
ALTER TABLE tickets
    ADD COLUMN ticketable_type ticketable_type NOT NULL DEFAULT 'achievement',
    ADD COLUMN leaderboard_id bigint,
    ADD COLUMN leaderboard_title text,
    ADD COLUMN raw_v2 jsonb,
    ALTER COLUMN raw DROP NOT NULL,
    ALTER COLUMN report_type_code DROP NOT NULL,
    ALTER COLUMN report_state_code DROP NOT NULL,
    ADD CONSTRAINT tickets_raw_check CHECK (raw IS NOT NULL OR raw_v2 IS NOT NULL);

ALTER TABLE ticket_history
    ADD COLUMN leaderboard_title text,
    ALTER COLUMN report_type_code DROP NOT NULL,
    ALTER COLUMN report_state_code DROP NOT NULL;

-- The views as in 00007, each with new columns at the end (CREATE OR
-- REPLACE keeps the grants a reader role was given). Per-ticket views get
-- ticketable_type (text, like the other enums) and the leaderboard; the
-- per-group views keep their grain and their counts, which include both
-- kinds, and say how many of them are about leaderboards.
-- backlog_daily as in 00007, with the leaderboard tickets' share of the
-- levels and of opened. The ticket's kind comes from tickets, which the view
-- already reads for reported_at: tickets_id_reported_idx includes the kind
-- too, so that read stays index-only.
DROP INDEX tickets_id_reported_idx;
CREATE INDEX tickets_id_reported_idx ON tickets (id) INCLUDE (reported_at, ticketable_type);

CREATE OR REPLACE VIEW analytics.backlog_daily AS
WITH versions AS (
    SELECT h.ticket_id, h.valid_from, h.valid_to, h.report_state, h.resolved_at, h.vanished_at,
           row_number() OVER w = 1   AS is_first,
           lag(h.report_state) OVER w AS prev_state,
           lag(h.resolved_at) OVER w  AS prev_resolved_at
    FROM ticket_history h
    WINDOW w AS (PARTITION BY h.ticket_id ORDER BY h.valid_from, h.id)
),
classified AS (
    SELECT v.*,
           t.reported_at,
           t.ticketable_type = 'leaderboard' AS lb,
           v.report_state IN ('open', 'request') AND v.vanished_at IS NULL AS in_backlog,
           -- the interval before the first version, when there is one
           CASE WHEN NOT v.is_first THEN NULL
                WHEN v.report_state IN ('open', 'request') AND v.vanished_at IS NULL THEN v.valid_from
                WHEN v.report_state IN ('resolved', 'closed') AND v.resolved_at IS NOT NULL
                    THEN least(v.resolved_at, v.valid_from)
           END AS pre_end,
           CASE WHEN v.report_state = 'request' THEN 'request' ELSE 'open' END AS pre_state,
           v.report_state IN ('resolved', 'closed')
             AND CASE WHEN v.is_first THEN v.resolved_at IS NOT NULL
                      ELSE (v.prev_state, v.prev_resolved_at) IS DISTINCT FROM (v.report_state, v.resolved_at) END
               AS resolution
    FROM versions v
    JOIN tickets t ON t.id = v.ticket_id
),
-- Every version turns into at most six dated events; one aggregate sums them.
events AS (
    -- Set-returning functions in the select list (a ProjectSet), not a
    -- lateral VALUES or unnest: those set up a scan for every outer row,
    -- which made the whole view 1.3 to 2.5 times slower (100,000 tickets).
    SELECT (x.at AT TIME ZONE 'UTC')::date AS day, x.kind, x.n, x.lb
    FROM (
        SELECT unnest(ARRAY[CASE WHEN c.in_backlog THEN c.valid_from END,
                            CASE WHEN c.in_backlog THEN c.valid_to END,
                            CASE WHEN c.reported_at < c.pre_end THEN c.reported_at END,
                            CASE WHEN c.reported_at < c.pre_end THEN c.pre_end END,
                            CASE WHEN c.is_first THEN c.reported_at END,
                            CASE WHEN c.resolution THEN coalesce(c.resolved_at, c.valid_from) END]) AS at,
               unnest(ARRAY[c.report_state::text, c.report_state::text, c.pre_state, c.pre_state,
                            'opened', c.report_state::text]) AS kind,
               unnest(ARRAY[1, -1, 1, -1, 1, 1]) AS n,
               c.lb
        FROM classified c
    ) x
    WHERE x.at IS NOT NULL
),
per_day AS (
    SELECT e.day,
           sum(e.n) FILTER (WHERE e.kind = 'open')     AS open_delta,
           sum(e.n) FILTER (WHERE e.kind = 'request')  AS request_delta,
           sum(e.n) FILTER (WHERE e.kind = 'opened')   AS opened,
           sum(e.n) FILTER (WHERE e.kind = 'resolved') AS resolved,
           sum(e.n) FILTER (WHERE e.kind = 'closed')   AS closed,
           sum(e.n) FILTER (WHERE e.kind = 'open' AND e.lb)    AS lb_open_delta,
           sum(e.n) FILTER (WHERE e.kind = 'request' AND e.lb) AS lb_request_delta,
           sum(e.n) FILTER (WHERE e.kind = 'opened' AND e.lb)  AS lb_opened
    FROM events e
    GROUP BY e.day
),
snapshots AS (
    SELECT DISTINCT ON ((s.taken_at AT TIME ZONE 'UTC')::date)
           (s.taken_at AT TIME ZONE 'UTC')::date AS day, s.api_open_tickets, s.seen_open, s.seen_request
    FROM open_ticket_snapshots s
    ORDER BY (s.taken_at AT TIME ZONE 'UTC')::date, s.taken_at DESC, s.run_id DESC
),
-- Dates plus whole days: generate_series over dates would go through
-- timestamptz, that is through the session's TimeZone.
bounds AS (
    SELECT (least((SELECT min(reported_at) FROM tickets), (SELECT min(valid_from) FROM ticket_history))
            AT TIME ZONE 'UTC')::date AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS today,
           -- A day is complete once a successful sync finished after it ended.
           (SELECT (max(r.finished_at) AT TIME ZONE 'UTC')::date
            FROM sync_runs r WHERE r.kind = 'sync' AND r.status = 'succeeded') AS last_success_day
),
days AS (
    SELECT b.first_day + g AS day, b.first_day + g < b.last_success_day AS complete
    FROM bounds b
    CROSS JOIN generate_series(0, b.today - b.first_day) g
)
SELECT d.day,
       coalesce(sum(p.open_delta) OVER w, 0)::bigint    AS open,
       coalesce(sum(p.request_delta) OVER w, 0)::bigint AS request,
       coalesce(p.opened, 0)::bigint                    AS opened,
       coalesce(p.resolved, 0)::bigint                  AS resolved,
       coalesce(p.closed, 0)::bigint                    AS closed,
       s.api_open_tickets,
       s.seen_open,
       s.seen_request,
       coalesce(d.complete, false)                      AS complete,
       coalesce(sum(p.lb_open_delta) OVER w, 0)::bigint    AS leaderboard_open,
       coalesce(sum(p.lb_request_delta) OVER w, 0)::bigint AS leaderboard_request,
       coalesce(p.lb_opened, 0)::bigint                    AS leaderboard_opened
FROM days d
LEFT JOIN per_day p   ON p.day = d.day
LEFT JOIN snapshots s ON s.day = d.day
WINDOW w AS (ORDER BY d.day);

COMMENT ON COLUMN analytics.backlog_daily.leaderboard_open IS 'Of open, the tickets about a leaderboard: a level.';
COMMENT ON COLUMN analytics.backlog_daily.leaderboard_request IS 'Of request, the tickets about a leaderboard: a level.';
COMMENT ON COLUMN analytics.backlog_daily.leaderboard_opened IS 'Of opened, the tickets about a leaderboard.';

CREATE OR REPLACE VIEW analytics.resolution_times AS
SELECT t.id AS ticket_id,
       t.report_state::text                AS report_state,
       t.report_type::text                 AS report_type,
       t.reported_at AT TIME ZONE 'UTC'    AS reported_at,
       t.resolved_at AT TIME ZONE 'UTC'    AS resolved_at,
       t.resolved_by,
       (extract(epoch FROM t.resolved_at - t.reported_at) / 3600)::double precision AS hours_to_resolution,
       t.game_id,
       t.game_title,
       t.console_name,
       t.achievement_id,
       t.achievement_author,
       t.ticketable_type::text             AS ticketable_type,
       t.leaderboard_id
FROM tickets t
WHERE t.report_state IN ('resolved', 'closed')
  AND t.resolved_at IS NOT NULL
  AND t.resolved_at >= t.reported_at;

COMMENT ON COLUMN analytics.resolution_times.ticketable_type IS 'achievement or leaderboard';

CREATE OR REPLACE VIEW analytics.by_game AS
SELECT t.game_id,
       (array_agg(ARRAY[t.game_title, t.console_name] ORDER BY t.reported_at DESC, t.id DESC))[1][1] AS game_title,
       (array_agg(ARRAY[t.game_title, t.console_name] ORDER BY t.reported_at DESC, t.id DESC))[1][2] AS console_name,
       count(*) FILTER (WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL) AS open_now,
       count(*)                                              AS total_seen,
       count(*) FILTER (WHERE t.report_state = 'resolved')  AS resolved,
       count(*) FILTER (WHERE t.report_state = 'closed')    AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS median_hours_to_resolution,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS p90_hours_to_resolution,
       count(DISTINCT t.achievement_id)                      AS achievements,
       round(count(t.achievement_id)::numeric / nullif(count(DISTINCT t.achievement_id), 0), 2) AS tickets_per_achievement,
       count(*) FILTER (WHERE t.ticketable_type = 'leaderboard' AND t.report_state IN ('open', 'request')
                          AND t.vanished_at IS NULL)         AS leaderboard_open_now,
       count(*) FILTER (WHERE t.ticketable_type = 'leaderboard') AS leaderboard_total_seen,
       count(DISTINCT t.leaderboard_id)                      AS leaderboards
FROM tickets t
GROUP BY t.game_id;

COMMENT ON COLUMN analytics.by_game.leaderboard_open_now IS 'Of open_now, the tickets about a leaderboard.';
COMMENT ON COLUMN analytics.by_game.leaderboard_total_seen IS 'Of total_seen, the tickets about a leaderboard.';

CREATE OR REPLACE VIEW analytics.by_console AS
SELECT t.console_name,
       count(DISTINCT t.game_id)                             AS games,
       count(*) FILTER (WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL) AS open_now,
       count(*)                                              AS total_seen,
       count(*) FILTER (WHERE t.report_state = 'resolved')  AS resolved,
       count(*) FILTER (WHERE t.report_state = 'closed')    AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS median_hours_to_resolution,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS p90_hours_to_resolution,
       count(DISTINCT t.achievement_id)                      AS achievements,
       round(count(t.achievement_id)::numeric / nullif(count(DISTINCT t.achievement_id), 0), 2) AS tickets_per_achievement,
       count(*) FILTER (WHERE t.ticketable_type = 'leaderboard' AND t.report_state IN ('open', 'request')
                          AND t.vanished_at IS NULL)         AS leaderboard_open_now,
       count(*) FILTER (WHERE t.ticketable_type = 'leaderboard') AS leaderboard_total_seen,
       count(DISTINCT t.leaderboard_id)                      AS leaderboards
FROM tickets t
GROUP BY t.console_name;

COMMENT ON COLUMN analytics.by_console.leaderboard_open_now IS 'Of open_now, the tickets about a leaderboard.';
COMMENT ON COLUMN analytics.by_console.leaderboard_total_seen IS 'Of total_seen, the tickets about a leaderboard.';

-- The leaderboard types as text: their labels are new in this transaction.
CREATE OR REPLACE VIEW analytics.by_emulator AS
SELECT t.emulator,
       t.emulator_core,
       count(*) AS total,
       count(*) FILTER (WHERE t.report_state = 'open' AND t.vanished_at IS NULL)    AS open_now,
       count(*) FILTER (WHERE t.report_state = 'request' AND t.vanished_at IS NULL) AS request_now,
       count(*) FILTER (WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NOT NULL) AS vanished,
       count(*) FILTER (WHERE t.report_state = 'resolved')    AS resolved,
       count(*) FILTER (WHERE t.report_state = 'closed')      AS closed,
       count(*) FILTER (WHERE t.report_state = 'quarantined') AS quarantined,
       count(*) FILTER (WHERE t.report_state = 'unknown')     AS unknown_state,
       count(*) FILTER (WHERE t.report_type = 'triggered_at_wrong_time') AS triggered_at_wrong_time,
       count(*) FILTER (WHERE t.report_type = 'did_not_trigger')         AS did_not_trigger,
       count(*) FILTER (WHERE t.report_type = 'unknown')                 AS unknown_type,
       round(count(*) FILTER (WHERE t.report_type = 'did_not_trigger')::numeric / count(*), 4) AS did_not_trigger_share,
       count(*) FILTER (WHERE t.ticketable_type = 'leaderboard')         AS leaderboard_total,
       count(*) FILTER (WHERE t.report_type::text = 'did_not_start')         AS did_not_start,
       count(*) FILTER (WHERE t.report_type::text = 'did_not_cancel')        AS did_not_cancel,
       count(*) FILTER (WHERE t.report_type::text = 'did_not_submit')        AS did_not_submit,
       count(*) FILTER (WHERE t.report_type::text = 'submitted_wrong_value') AS submitted_wrong_value
FROM tickets t
GROUP BY t.emulator, t.emulator_core;

COMMENT ON VIEW analytics.by_emulator IS
'One row per (emulator, emulator_core) parsed from the report notes (NULL when the notes do not say): tickets by current state (open_now, request_now, vanished, resolved, closed, quarantined, unknown_state add up to total) and by type (the seven type columns add up to total), the share of did_not_trigger tickets (0-1), and how many are about a leaderboard.';
COMMENT ON COLUMN analytics.by_emulator.leaderboard_total IS 'Of total, the tickets about a leaderboard.';

CREATE OR REPLACE VIEW analytics.reopened AS
WITH v AS (
    SELECT h.ticket_id, h.valid_from, h.report_state,
           lag(h.report_state) OVER w AS prev_state,
           bool_or(h.report_state IN ('resolved', 'closed'))
               OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS was_resolved
    FROM ticket_history h
    WINDOW w AS (PARTITION BY h.ticket_id ORDER BY h.valid_from, h.id)
),
r AS (
    SELECT ticket_id, count(*) AS reopen_count,
           min(valid_from) AS first_reopened_at, max(valid_from) AS last_reopened_at
    FROM v
    WHERE report_state IN ('open', 'request')
      AND prev_state NOT IN ('open', 'request')
      AND was_resolved
    GROUP BY ticket_id
)
SELECT r.ticket_id, r.reopen_count,
       r.first_reopened_at AT TIME ZONE 'UTC' AS first_reopened_at,
       r.last_reopened_at AT TIME ZONE 'UTC'  AS last_reopened_at,
       t.report_state::text                   AS current_state,
       t.reported_at AT TIME ZONE 'UTC'       AS reported_at,
       t.game_id, t.game_title, t.console_name,
       t.achievement_id, t.achievement_title, t.achievement_author,
       t.ticketable_type::text                AS ticketable_type,
       t.leaderboard_id, t.leaderboard_title
FROM r
-- A primary-key lookup per reopened ticket (see 00004).
CROSS JOIN LATERAL (
    SELECT t.report_state, t.reported_at, t.game_id, t.game_title, t.console_name,
           t.achievement_id, t.achievement_title, t.achievement_author,
           t.ticketable_type, t.leaderboard_id, t.leaderboard_title
    FROM tickets t
    WHERE t.id = r.ticket_id
    LIMIT 1
) t;

COMMENT ON COLUMN analytics.reopened.ticketable_type IS 'achievement or leaderboard';

CREATE OR REPLACE VIEW analytics.open_tickets AS
SELECT t.id AS ticket_id,
       t.report_state::text             AS report_state,
       t.report_type::text              AS report_type,
       t.reported_at AT TIME ZONE 'UTC' AS reported_at,
       t.reported_by,
       (extract(epoch FROM now() - t.reported_at) / 86400)::double precision AS age_days,
       t.game_id,
       t.game_title,
       t.console_name,
       t.achievement_id,
       t.achievement_title,
       t.achievement_author,
       t.emulator,
       t.emulator_core,
       t.ticketable_type::text          AS ticketable_type,
       t.leaderboard_id,
       t.leaderboard_title
FROM tickets t
WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL;

COMMENT ON COLUMN analytics.open_tickets.ticketable_type IS 'achievement or leaderboard';

-- +goose Down
-- Back to 00007 exactly. What its schema cannot hold is dropped or folded
-- first: leaderboard tickets are deleted (their history and sightings with
-- them), a ticket seen only through v2 keeps its v2 object in raw, and a
-- missing legacy code becomes -1.
DROP VIEW analytics.open_tickets;
DROP VIEW analytics.reopened;
DROP VIEW analytics.by_emulator;
DROP VIEW analytics.by_console;
DROP VIEW analytics.by_game;
DROP VIEW analytics.resolution_times;
DROP VIEW analytics.backlog_daily;

DELETE FROM tickets WHERE ticketable_type = 'leaderboard';
UPDATE tickets SET raw = raw_v2 WHERE raw IS NULL;
UPDATE tickets SET report_type_code = coalesce(report_type_code, -1), report_state_code = coalesce(report_state_code, -1)
WHERE report_type_code IS NULL OR report_state_code IS NULL;
UPDATE ticket_history SET report_type_code = coalesce(report_type_code, -1), report_state_code = coalesce(report_state_code, -1)
WHERE report_type_code IS NULL OR report_state_code IS NULL;

ALTER TABLE ticket_history
    DROP COLUMN leaderboard_title,
    ALTER COLUMN report_type_code SET NOT NULL,
    ALTER COLUMN report_state_code SET NOT NULL;
ALTER TABLE tickets
    DROP CONSTRAINT tickets_raw_check,
    DROP COLUMN raw_v2,
    DROP COLUMN leaderboard_title,
    DROP COLUMN leaderboard_id,
    DROP COLUMN ticketable_type,
    ALTER COLUMN raw SET NOT NULL,
    ALTER COLUMN report_type_code SET NOT NULL,
    ALTER COLUMN report_state_code SET NOT NULL;
DROP TYPE ticketable_type;
-- (dropping ticketable_type dropped the index that included it)
CREATE INDEX tickets_id_reported_idx ON tickets (id) INCLUDE (reported_at);

-- An enum label cannot be dropped: ticket_type is rebuilt without the
-- leaderboard types (an achievement ticket cannot have one; were there
-- such a row, it would become unknown).
ALTER TYPE ticket_type RENAME TO ticket_type_v2;
CREATE TYPE ticket_type AS ENUM ('triggered_at_wrong_time', 'did_not_trigger', 'unknown');
ALTER TABLE tickets ALTER COLUMN report_type TYPE ticket_type USING
    (CASE WHEN report_type::text IN ('triggered_at_wrong_time', 'did_not_trigger') THEN report_type::text ELSE 'unknown' END)::ticket_type;
ALTER TABLE ticket_history ALTER COLUMN report_type TYPE ticket_type USING
    (CASE WHEN report_type::text IN ('triggered_at_wrong_time', 'did_not_trigger') THEN report_type::text ELSE 'unknown' END)::ticket_type;
DROP TYPE ticket_type_v2;

-- The views as 00007 left them (by_game, by_console and by_emulator as
-- 00004 created them).
CREATE VIEW analytics.backlog_daily AS
WITH versions AS (
    SELECT h.ticket_id, h.valid_from, h.valid_to, h.report_state, h.resolved_at, h.vanished_at,
           row_number() OVER w = 1   AS is_first,
           lag(h.report_state) OVER w AS prev_state,
           lag(h.resolved_at) OVER w  AS prev_resolved_at
    FROM ticket_history h
    WINDOW w AS (PARTITION BY h.ticket_id ORDER BY h.valid_from, h.id)
),
classified AS (
    SELECT v.*,
           t.reported_at,
           v.report_state IN ('open', 'request') AND v.vanished_at IS NULL AS in_backlog,
           -- the interval before the first version, when there is one
           CASE WHEN NOT v.is_first THEN NULL
                WHEN v.report_state IN ('open', 'request') AND v.vanished_at IS NULL THEN v.valid_from
                WHEN v.report_state IN ('resolved', 'closed') AND v.resolved_at IS NOT NULL
                    THEN least(v.resolved_at, v.valid_from)
           END AS pre_end,
           CASE WHEN v.report_state = 'request' THEN 'request' ELSE 'open' END AS pre_state,
           v.report_state IN ('resolved', 'closed')
             AND CASE WHEN v.is_first THEN v.resolved_at IS NOT NULL
                      ELSE (v.prev_state, v.prev_resolved_at) IS DISTINCT FROM (v.report_state, v.resolved_at) END
               AS resolution
    FROM versions v
    JOIN tickets t ON t.id = v.ticket_id
),
-- Every version turns into at most six dated events; one aggregate sums them.
events AS (
    -- Set-returning functions in the select list (a ProjectSet), not a
    -- lateral VALUES or unnest: those set up a scan for every outer row,
    -- which made the whole view 1.3 to 2.5 times slower (100,000 tickets).
    SELECT (x.at AT TIME ZONE 'UTC')::date AS day, x.kind, x.n
    FROM (
        SELECT unnest(ARRAY[CASE WHEN c.in_backlog THEN c.valid_from END,
                            CASE WHEN c.in_backlog THEN c.valid_to END,
                            CASE WHEN c.reported_at < c.pre_end THEN c.reported_at END,
                            CASE WHEN c.reported_at < c.pre_end THEN c.pre_end END,
                            CASE WHEN c.is_first THEN c.reported_at END,
                            CASE WHEN c.resolution THEN coalesce(c.resolved_at, c.valid_from) END]) AS at,
               unnest(ARRAY[c.report_state::text, c.report_state::text, c.pre_state, c.pre_state,
                            'opened', c.report_state::text]) AS kind,
               unnest(ARRAY[1, -1, 1, -1, 1, 1]) AS n
        FROM classified c
    ) x
    WHERE x.at IS NOT NULL
),
per_day AS (
    SELECT e.day,
           sum(e.n) FILTER (WHERE e.kind = 'open')     AS open_delta,
           sum(e.n) FILTER (WHERE e.kind = 'request')  AS request_delta,
           sum(e.n) FILTER (WHERE e.kind = 'opened')   AS opened,
           sum(e.n) FILTER (WHERE e.kind = 'resolved') AS resolved,
           sum(e.n) FILTER (WHERE e.kind = 'closed')   AS closed
    FROM events e
    GROUP BY e.day
),
snapshots AS (
    SELECT DISTINCT ON ((s.taken_at AT TIME ZONE 'UTC')::date)
           (s.taken_at AT TIME ZONE 'UTC')::date AS day, s.api_open_tickets, s.seen_open, s.seen_request
    FROM open_ticket_snapshots s
    ORDER BY (s.taken_at AT TIME ZONE 'UTC')::date, s.taken_at DESC, s.run_id DESC
),
-- Dates plus whole days: generate_series over dates would go through
-- timestamptz, that is through the session's TimeZone.
bounds AS (
    SELECT (least((SELECT min(reported_at) FROM tickets), (SELECT min(valid_from) FROM ticket_history))
            AT TIME ZONE 'UTC')::date AS first_day,
           (now() AT TIME ZONE 'UTC')::date AS today,
           -- A day is complete once a successful sync finished after it ended.
           (SELECT (max(r.finished_at) AT TIME ZONE 'UTC')::date
            FROM sync_runs r WHERE r.kind = 'sync' AND r.status = 'succeeded') AS last_success_day
),
days AS (
    SELECT b.first_day + g AS day, b.first_day + g < b.last_success_day AS complete
    FROM bounds b
    CROSS JOIN generate_series(0, b.today - b.first_day) g
)
SELECT d.day,
       coalesce(sum(p.open_delta) OVER w, 0)::bigint    AS open,
       coalesce(sum(p.request_delta) OVER w, 0)::bigint AS request,
       coalesce(p.opened, 0)::bigint                    AS opened,
       coalesce(p.resolved, 0)::bigint                  AS resolved,
       coalesce(p.closed, 0)::bigint                    AS closed,
       s.api_open_tickets,
       s.seen_open,
       s.seen_request,
       coalesce(d.complete, false)                      AS complete
FROM days d
LEFT JOIN per_day p   ON p.day = d.day
LEFT JOIN snapshots s ON s.day = d.day
WINDOW w AS (ORDER BY d.day);

COMMENT ON VIEW analytics.backlog_daily IS
'One row per UTC day from the first reported ticket to today: open and request tickets at the end of the day (levels: aggregate them with the last value or an average, not a sum), tickets reported (opened), resolved and closed that day, the day''s last sync snapshot (api_open_tickets, seen_open, seen_request; NULL on days without a successful sync), and complete: true once a successful sync finished after the day ended (false for today).';
COMMENT ON COLUMN analytics.backlog_daily.open IS 'Tickets in state open at the end of the UTC day: a level, not a flow (do not sum it over days).';
COMMENT ON COLUMN analytics.backlog_daily.request IS 'Tickets in state request at the end of the UTC day: a level, not a flow (do not sum it over days).';
COMMENT ON COLUMN analytics.backlog_daily.complete IS 'True once a successful sync finished after the day ended; false for today and for days after the last successful sync.';

CREATE VIEW analytics.resolution_times AS
SELECT t.id AS ticket_id,
       t.report_state::text                AS report_state,
       t.report_type::text                 AS report_type,
       t.reported_at AT TIME ZONE 'UTC'    AS reported_at,
       t.resolved_at AT TIME ZONE 'UTC'    AS resolved_at,
       t.resolved_by,
       (extract(epoch FROM t.resolved_at - t.reported_at) / 3600)::double precision AS hours_to_resolution,
       t.game_id,
       t.game_title,
       t.console_name,
       t.achievement_id,
       t.achievement_author
FROM tickets t
WHERE t.report_state IN ('resolved', 'closed')
  AND t.resolved_at IS NOT NULL
  AND t.resolved_at >= t.reported_at;

COMMENT ON VIEW analytics.resolution_times IS
'One row per ticket whose current state is resolved or closed (with resolved_at not before reported_at): hours from report to resolution. For a reopened and re-resolved ticket this is the last resolution, because the source clears resolved_at on reopen. Times are UTC.';
COMMENT ON COLUMN analytics.resolution_times.reported_at IS 'UTC';
COMMENT ON COLUMN analytics.resolution_times.resolved_at IS 'UTC';

CREATE VIEW analytics.by_game AS
SELECT t.game_id,
       (array_agg(ARRAY[t.game_title, t.console_name] ORDER BY t.reported_at DESC, t.id DESC))[1][1] AS game_title,
       (array_agg(ARRAY[t.game_title, t.console_name] ORDER BY t.reported_at DESC, t.id DESC))[1][2] AS console_name,
       count(*) FILTER (WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL) AS open_now,
       count(*)                                              AS total_seen,
       count(*) FILTER (WHERE t.report_state = 'resolved')  AS resolved,
       count(*) FILTER (WHERE t.report_state = 'closed')    AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS median_hours_to_resolution,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS p90_hours_to_resolution,
       count(DISTINCT t.achievement_id)                      AS achievements,
       round(count(t.achievement_id)::numeric / nullif(count(DISTINCT t.achievement_id), 0), 2) AS tickets_per_achievement
FROM tickets t
GROUP BY t.game_id;

COMMENT ON VIEW analytics.by_game IS
'One row per game_id: tickets in the backlog now (open_now = open or request, not vanished), every ticket seen, currently resolved and closed, median and 90th percentile hours from report to resolution (over resolution_times), distinct achievements with tickets and tickets per such achievement. game_title and console_name are those of the game''s most recently reported ticket.';

CREATE VIEW analytics.by_console AS
SELECT t.console_name,
       count(DISTINCT t.game_id)                             AS games,
       count(*) FILTER (WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL) AS open_now,
       count(*)                                              AS total_seen,
       count(*) FILTER (WHERE t.report_state = 'resolved')  AS resolved,
       count(*) FILTER (WHERE t.report_state = 'closed')    AS closed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS median_hours_to_resolution,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.resolved_at - t.reported_at) / 3600)
           FILTER (WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at >= t.reported_at) AS p90_hours_to_resolution,
       count(DISTINCT t.achievement_id)                      AS achievements,
       round(count(t.achievement_id)::numeric / nullif(count(DISTINCT t.achievement_id), 0), 2) AS tickets_per_achievement
FROM tickets t
GROUP BY t.console_name;

COMMENT ON VIEW analytics.by_console IS
'One row per console_name: games with tickets, tickets in the backlog now (open or request, not vanished), every ticket seen, currently resolved and closed, median and 90th percentile hours from report to resolution, distinct achievements with tickets and tickets per such achievement.';

CREATE VIEW analytics.by_emulator AS
SELECT t.emulator,
       t.emulator_core,
       count(*) AS total,
       count(*) FILTER (WHERE t.report_state = 'open' AND t.vanished_at IS NULL)    AS open_now,
       count(*) FILTER (WHERE t.report_state = 'request' AND t.vanished_at IS NULL) AS request_now,
       count(*) FILTER (WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NOT NULL) AS vanished,
       count(*) FILTER (WHERE t.report_state = 'resolved')    AS resolved,
       count(*) FILTER (WHERE t.report_state = 'closed')      AS closed,
       count(*) FILTER (WHERE t.report_state = 'quarantined') AS quarantined,
       count(*) FILTER (WHERE t.report_state = 'unknown')     AS unknown_state,
       count(*) FILTER (WHERE t.report_type = 'triggered_at_wrong_time') AS triggered_at_wrong_time,
       count(*) FILTER (WHERE t.report_type = 'did_not_trigger')         AS did_not_trigger,
       count(*) FILTER (WHERE t.report_type = 'unknown')                 AS unknown_type,
       round(count(*) FILTER (WHERE t.report_type = 'did_not_trigger')::numeric / count(*), 4) AS did_not_trigger_share
FROM tickets t
GROUP BY t.emulator, t.emulator_core;

COMMENT ON VIEW analytics.by_emulator IS
'One row per (emulator, emulator_core) parsed from the report notes (NULL when the notes do not say): tickets by current state (open_now, request_now, vanished, resolved, closed, quarantined, unknown_state add up to total) and by type, and the share of did_not_trigger tickets (0-1).';

CREATE VIEW analytics.reopened AS
WITH v AS (
    SELECT h.ticket_id, h.valid_from, h.report_state,
           lag(h.report_state) OVER w AS prev_state,
           bool_or(h.report_state IN ('resolved', 'closed'))
               OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS was_resolved
    FROM ticket_history h
    WINDOW w AS (PARTITION BY h.ticket_id ORDER BY h.valid_from, h.id)
),
r AS (
    SELECT ticket_id, count(*) AS reopen_count,
           min(valid_from) AS first_reopened_at, max(valid_from) AS last_reopened_at
    FROM v
    WHERE report_state IN ('open', 'request')
      AND prev_state NOT IN ('open', 'request')
      AND was_resolved
    GROUP BY ticket_id
)
SELECT r.ticket_id, r.reopen_count,
       r.first_reopened_at AT TIME ZONE 'UTC' AS first_reopened_at,
       r.last_reopened_at AT TIME ZONE 'UTC'  AS last_reopened_at,
       t.report_state::text                   AS current_state,
       t.reported_at AT TIME ZONE 'UTC'       AS reported_at,
       t.game_id, t.game_title, t.console_name,
       t.achievement_id, t.achievement_title, t.achievement_author
FROM r
-- A primary-key lookup per reopened ticket (see 00004).
CROSS JOIN LATERAL (
    SELECT t.report_state, t.reported_at, t.game_id, t.game_title, t.console_name,
           t.achievement_id, t.achievement_title, t.achievement_author
    FROM tickets t
    WHERE t.id = r.ticket_id
    LIMIT 1
) t;

COMMENT ON VIEW analytics.reopened IS
'Tickets that went back to open or request after having been resolved or closed, from ticket_history: reopen_count is the number of versions that entered open/request from another state after an earlier resolved/closed version; first/last_reopened_at are when ratickets observed those versions (valid_from), UTC.';

CREATE VIEW analytics.open_tickets AS
SELECT t.id AS ticket_id,
       t.report_state::text             AS report_state,
       t.report_type::text              AS report_type,
       t.reported_at AT TIME ZONE 'UTC' AS reported_at,
       t.reported_by,
       (extract(epoch FROM now() - t.reported_at) / 86400)::double precision AS age_days,
       t.game_id,
       t.game_title,
       t.console_name,
       t.achievement_id,
       t.achievement_title,
       t.achievement_author,
       t.emulator,
       t.emulator_core
FROM tickets t
WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL;

COMMENT ON VIEW analytics.open_tickets IS
'The backlog now: every ticket in state open or request that has not vanished, with its age in days. reported_at is UTC.';
