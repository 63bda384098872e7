-- +goose Up
-- Read-only views over tickets and ticket_history that answer the questions
-- people ask (how big is the backlog, how fast are tickets resolved, which
-- games, consoles, emulators and developers have the most open tickets).
-- They live in their own schema so that a dashboard role can be given
-- exactly this and nothing else to browse.
--
-- Shared definitions (the README's "Analytics" section says the same):
--   backlog      = report_state open or request, and not vanished (the
--                  source answered 404 for it; it is no longer in the list);
--   resolution   = report_state resolved or closed with resolved_at set and
--                  not before reported_at; hours are (resolved_at - reported_at);
--   days         = UTC calendar days.
CREATE SCHEMA analytics;
COMMENT ON SCHEMA analytics IS 'Read-only analytics views over tickets and ticket_history (ratickets).';

-- The backlog is a small part of all tickets: a partial index lets the open
-- ticket views, "oldest open" and the per-developer figures read only it.
CREATE INDEX tickets_backlog_reported_idx ON tickets (reported_at)
    WHERE report_state IN ('open', 'request') AND vanished_at IS NULL;
-- Recent resolutions (the 30-day window of by_developer, --since in the
-- report) without reading every resolved ticket.
-- INCLUDE reported_at: the hours to resolution come from the index alone.
CREATE INDEX tickets_resolution_idx ON tickets (resolved_at) INCLUDE (reported_at)
    WHERE report_state IN ('resolved', 'closed');
-- backlog_daily needs reported_at for every ticket in id order, to merge it
-- with the history; this reads it without touching the wide ticket rows.
CREATE INDEX tickets_id_reported_idx ON tickets (id) INCLUDE (reported_at);
-- backlog_daily and reopened walk every ticket's versions in order; with the
-- columns they read included, that walk is an index-only scan instead of a
-- visit to every (wide: notes, titles) history row.
CREATE INDEX ticket_history_walk_idx ON ticket_history (ticket_id, valid_from, id)
    INCLUDE (valid_to, report_state, resolved_at, vanished_at);
-- The last sync (the report's header) and the latest snapshot of each day.
CREATE INDEX open_ticket_snapshots_taken_idx ON open_ticket_snapshots (taken_at);

-- Per UTC day, the backlog at the end of the day and the day's flow.
--
-- History only starts when ratickets first saw a ticket, so the time before
-- its first version is reconstructed:
--   * first version open/request: the ticket was in that state from
--     reported_at until the first version;
--   * first version resolved/closed with resolved_at: it was open from
--     reported_at until min(resolved_at, first valid_from);
--   * otherwise (quarantined, unknown, resolved without resolved_at): nothing
--     is assumed before the first version.
-- After that every version counts over [valid_from, valid_to) — the time
-- ratickets observed it, which is correct across reopens. The counts are the
-- state at the last instant of the day, computed as running sums of +1 on the
-- day an interval starts and -1 on the day it ends, so the cost grows with
-- the number of versions, not versions x days.
--
-- opened counts tickets by the UTC day of reported_at (every ticket has at
-- least one version: the loader writes one with the ticket).
--
-- A resolution (resolved/closed column) is a version in state resolved or
-- closed whose (state, resolved_at) differs from the previous version's, dated
-- by its resolved_at (by valid_from when the source gave none). A first
-- version counts only when it has resolved_at: for a ticket first seen
-- already resolved without a date we do not know the day.
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
days AS (
    SELECT generate_series(
               (least((SELECT min(reported_at) FROM tickets), (SELECT min(valid_from) FROM ticket_history))
                AT TIME ZONE 'UTC')::date,
               (now() AT TIME ZONE 'UTC')::date,
               interval '1 day')::date AS day
)
SELECT d.day,
       coalesce(sum(p.open_delta) OVER w, 0)::bigint    AS open,
       coalesce(sum(p.request_delta) OVER w, 0)::bigint AS request,
       coalesce(p.opened, 0)::bigint                    AS opened,
       coalesce(p.resolved, 0)::bigint                  AS resolved,
       coalesce(p.closed, 0)::bigint                    AS closed,
       s.api_open_tickets,
       s.seen_open,
       s.seen_request
FROM days d
LEFT JOIN per_day p   ON p.day = d.day
LEFT JOIN snapshots s ON s.day = d.day
WINDOW w AS (ORDER BY d.day);

COMMENT ON VIEW analytics.backlog_daily IS
'One row per UTC day from the first reported ticket to today: open and request tickets at the end of the day (from ticket_history, with the time before a ticket was first seen reconstructed from reported_at/resolved_at), tickets reported (opened), resolved and closed that day, and the day''s last sync snapshot (api_open_tickets, seen_open, seen_request; NULL on days without a successful sync).';

-- Every ticket whose current state is a resolution.
CREATE VIEW analytics.resolution_times AS
SELECT t.id AS ticket_id,
       t.report_state,
       t.report_type,
       t.reported_at,
       t.resolved_at,
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
'One row per ticket whose current state is resolved or closed (with resolved_at not before reported_at): hours from report to resolution. For a reopened and re-resolved ticket this is the last resolution, because the source clears resolved_at on reopen.';

-- The title and console of a game's latest ticket come from one ordered
-- aggregate of both, not two (each is a sort of the game's tickets).
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

-- A function, so that the 30-day window and the ages can be measured from a
-- given moment (the report's --now, tests); by_developer calls it with now().
-- +goose StatementBegin
CREATE FUNCTION analytics.developer_stats(as_of timestamptz)
RETURNS TABLE (
    achievement_author      text,
    open_now                bigint,
    resolved_last_30d       bigint,
    closed_last_30d         bigint,
    median_open_age_days    double precision,
    oldest_open_reported_at timestamptz
)
LANGUAGE sql STABLE
SET search_path FROM CURRENT -- find the tables whatever the caller's search_path
AS $$
    SELECT x.achievement_author,
           count(*) FILTER (WHERE x.backlog),
           count(*) FILTER (WHERE NOT x.backlog AND x.report_state = 'resolved'),
           count(*) FILTER (WHERE NOT x.backlog AND x.report_state = 'closed'),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM as_of - x.reported_at) / 86400)
               FILTER (WHERE x.backlog),
           min(x.reported_at) FILTER (WHERE x.backlog)
    FROM (
        SELECT t.achievement_author, t.report_state, t.reported_at, true AS backlog
        FROM tickets t
        WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL
        UNION ALL
        SELECT t.achievement_author, t.report_state, t.reported_at, false
        FROM tickets t
        WHERE t.report_state IN ('resolved', 'closed')
          AND t.resolved_at > as_of - interval '30 days' AND t.resolved_at <= as_of
    ) x
    GROUP BY x.achievement_author
$$;
-- +goose StatementEnd

COMMENT ON FUNCTION analytics.developer_stats(timestamptz) IS
'analytics.by_developer measured from as_of instead of now(): the 30-day window is (as_of - 30 days, as_of] and ages are as_of - reported_at. States are always the current ones.';

CREATE VIEW analytics.by_developer AS
SELECT * FROM analytics.developer_stats(now());

COMMENT ON VIEW analytics.by_developer IS
'One row per achievement_author with tickets in the backlog now or resolved/closed in the last 30 days: open_now (open or request, not vanished), resolved_last_30d and closed_last_30d (current state resolved/closed with resolved_at in the last 30 days), median age in DAYS of the open tickets and the oldest one''s reported_at.';

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
SELECT r.ticket_id, r.reopen_count, r.first_reopened_at, r.last_reopened_at,
       t.report_state AS current_state, t.reported_at,
       t.game_id, t.game_title, t.console_name,
       t.achievement_id, t.achievement_title, t.achievement_author
FROM r
-- A lookup by primary key per reopened ticket. As a plain join the planner,
-- which cannot tell how few tickets are reopened, merged with a scan of the
-- whole table (1,000,000 tickets: 25,606 reopened, 162,532 pages read);
-- LIMIT keeps the subquery from being flattened into that join.
CROSS JOIN LATERAL (
    SELECT t.report_state, t.reported_at, t.game_id, t.game_title, t.console_name,
           t.achievement_id, t.achievement_title, t.achievement_author
    FROM tickets t
    WHERE t.id = r.ticket_id
    LIMIT 1
) t;

COMMENT ON VIEW analytics.reopened IS
'Tickets that went back to open or request after having been resolved or closed, from ticket_history: reopen_count is the number of versions that entered open/request from another state after an earlier resolved/closed version; first/last_reopened_at are when ratickets observed those versions (valid_from).';

CREATE VIEW analytics.open_tickets AS
SELECT t.id AS ticket_id,
       t.report_state,
       t.report_type,
       t.reported_at,
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
'The backlog now: every ticket in state open or request that has not vanished, with its age in days.';

-- +goose Down
DROP VIEW analytics.open_tickets;
DROP VIEW analytics.reopened;
DROP VIEW analytics.by_developer;
DROP FUNCTION analytics.developer_stats(timestamptz);
DROP VIEW analytics.by_emulator;
DROP VIEW analytics.by_console;
DROP VIEW analytics.by_game;
DROP VIEW analytics.resolution_times;
DROP VIEW analytics.backlog_daily;
DROP INDEX open_ticket_snapshots_taken_idx;
DROP INDEX ticket_history_walk_idx;
DROP INDEX tickets_id_reported_idx;
DROP INDEX tickets_resolution_idx;
DROP INDEX tickets_backlog_reported_idx;
DROP SCHEMA analytics;
