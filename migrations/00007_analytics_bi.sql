-- +goose Up
-- The analytics views as BI tools use them (issue 13). Three changes, and
-- nothing else in the views' logic:
--
--   * enum columns (report_state, report_type, current_state) are text:
--     LIKE/ILIKE and "= 'no-such-label'" work on text, and BI tools type
--     text columns as strings. The tickets table keeps its enums.
--   * every point in time is a UTC timestamp without time zone (the UTC wall
--     clock of the timestamptz it comes from). date_trunc, ::date and
--     comparisons with literals then give the same answer whatever the
--     session's TimeZone; on a timestamptz they follow the session.
--   * backlog_daily says whether a day is complete (a successful sync
--     finished after it ended), so today's partial levels can be told apart.
--
-- The two partial indexes that serve "oldest open tickets" and "resolved
-- since" are keyed on the same UTC expression as the view columns, so
-- ORDER BY reported_at and WHERE resolved_at >= ... on the views still use
-- them.
DROP VIEW analytics.open_tickets;
DROP VIEW analytics.reopened;
DROP VIEW analytics.by_developer;
DROP FUNCTION analytics.developer_stats(timestamptz);
DROP VIEW analytics.resolution_times;
DROP VIEW analytics.backlog_daily;

DROP INDEX tickets_backlog_reported_idx;
CREATE INDEX tickets_backlog_reported_idx ON tickets ((reported_at AT TIME ZONE 'UTC'))
    WHERE report_state IN ('open', 'request') AND vanished_at IS NULL;
-- Both timestamps included: hours_to_resolution is computed from them, and
-- an index-only scan needs the columns, not only the key's expression.
DROP INDEX tickets_resolution_idx;
CREATE INDEX tickets_resolution_idx ON tickets ((resolved_at AT TIME ZONE 'UTC')) INCLUDE (reported_at, resolved_at)
    WHERE report_state IN ('resolved', 'closed');

-- As in 00004, with the days counted in whole days from the first one and
-- a column complete.
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

-- The 30-day window is computed on the UTC wall clock: "30 days" on a
-- timestamptz is counted in the session's time zone, an hour off across a
-- daylight-saving change.
-- +goose StatementBegin
CREATE FUNCTION analytics.developer_stats(as_of timestamptz)
RETURNS TABLE (
    achievement_author      text,
    open_now                bigint,
    resolved_last_30d       bigint,
    closed_last_30d         bigint,
    median_open_age_days    double precision,
    oldest_open_reported_at timestamp
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
           min(x.reported_at) FILTER (WHERE x.backlog) AT TIME ZONE 'UTC'
    FROM (
        SELECT t.achievement_author, t.report_state, t.reported_at, true AS backlog
        FROM tickets t
        WHERE t.report_state IN ('open', 'request') AND t.vanished_at IS NULL
        UNION ALL
        SELECT t.achievement_author, t.report_state, t.reported_at, false
        FROM tickets t
        WHERE t.report_state IN ('resolved', 'closed')
          AND t.resolved_at AT TIME ZONE 'UTC' > (as_of AT TIME ZONE 'UTC') - interval '30 days'
          AND t.resolved_at AT TIME ZONE 'UTC' <= as_of AT TIME ZONE 'UTC'
    ) x
    GROUP BY x.achievement_author
$$;
-- +goose StatementEnd

COMMENT ON FUNCTION analytics.developer_stats(timestamptz) IS
'analytics.by_developer measured from as_of instead of now(): the 30-day window is (as_of - 30 days, as_of] on the UTC clock and ages are as_of - reported_at. States are always the current ones. oldest_open_reported_at is UTC.';

CREATE VIEW analytics.by_developer AS
SELECT * FROM analytics.developer_stats(now());

COMMENT ON VIEW analytics.by_developer IS
'One row per achievement_author with tickets in the backlog now or resolved/closed in the last 30 days: open_now (open or request, not vanished), resolved_last_30d and closed_last_30d (current state resolved/closed with resolved_at in the last 30 days), median age in DAYS of the open tickets and the oldest one''s reported_at (UTC).';

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

-- +goose Down
-- Back to the views and indexes of 00004, as they were.
DROP VIEW analytics.open_tickets;
DROP VIEW analytics.reopened;
DROP VIEW analytics.by_developer;
DROP FUNCTION analytics.developer_stats(timestamptz);
DROP VIEW analytics.resolution_times;
DROP VIEW analytics.backlog_daily;

DROP INDEX tickets_resolution_idx;
CREATE INDEX tickets_resolution_idx ON tickets (resolved_at) INCLUDE (reported_at)
    WHERE report_state IN ('resolved', 'closed');
DROP INDEX tickets_backlog_reported_idx;
CREATE INDEX tickets_backlog_reported_idx ON tickets (reported_at)
    WHERE report_state IN ('open', 'request') AND vanished_at IS NULL;

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

