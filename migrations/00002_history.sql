-- +goose Up
-- Set when the source answered 404 for a ticket ratickets holds as open or
-- request (demoted, deleted, or no longer an achievement ticket). The state is
-- left as it was: ratickets never writes a state the source did not say.
ALTER TABLE tickets ADD COLUMN vanished_at timestamptz;

-- One row per version of a ticket (slowly changing dimension, type 2).
-- A version is valid over [valid_from, valid_to); valid_to is NULL for the
-- current version. Versions of a ticket are contiguous, and exactly one is
-- current (the exclusion constraint, checked at commit).
CREATE TABLE ticket_history (
    id                      bigserial    PRIMARY KEY,
    ticket_id               bigint       NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    valid_from              timestamptz  NOT NULL,
    valid_to                timestamptz,
    report_state            ticket_state NOT NULL,
    report_state_code       smallint     NOT NULL,
    report_type             ticket_type  NOT NULL,
    report_type_code        smallint     NOT NULL,
    resolved_at             timestamptz,
    resolved_by             text,
    report_notes            text,
    achievement_title       text,
    achievement_description text,
    points                  integer,
    vanished_at             timestamptz,
    run_id                  bigint       NOT NULL REFERENCES sync_runs (id),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT ticket_history_one_current EXCLUDE USING btree (ticket_id WITH =)
        WHERE (valid_to IS NULL) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX ticket_history_valid_from_idx ON ticket_history (valid_from);

-- The backlog time series: one row per successful sync run.
CREATE TABLE open_ticket_snapshots (
    run_id           bigint      PRIMARY KEY REFERENCES sync_runs (id),
    taken_at         timestamptz NOT NULL,
    api_open_tickets integer,
    seen_open        integer     NOT NULL,
    seen_request     integer     NOT NULL
);

-- The state of every ticket as ratickets knew it at time ts.
-- +goose StatementBegin
CREATE FUNCTION tickets_as_of(ts timestamptz)
RETURNS TABLE (
    ticket_id         bigint,
    report_state      ticket_state,
    report_state_code smallint,
    resolved_at       timestamptz,
    resolved_by       text,
    vanished_at       timestamptz,
    valid_from        timestamptz,
    valid_to          timestamptz
)
LANGUAGE sql STABLE
-- Resolve the tables in the schema the migration ran in, whatever the
-- caller's search_path (a dashboard's read-only role, say).
SET search_path FROM CURRENT
AS $$
    SELECT h.ticket_id, h.report_state, h.report_state_code, h.resolved_at,
           h.resolved_by, h.vanished_at, h.valid_from, h.valid_to
    FROM ticket_history h
    WHERE h.valid_from <= ts AND (h.valid_to IS NULL OR h.valid_to > ts)
$$;
-- +goose StatementEnd

-- Hours from report to resolution for every ticket whose current state is
-- resolved or closed (the latest resolution when a ticket was reopened).
CREATE VIEW ticket_resolution_times AS
SELECT t.id AS ticket_id,
       t.report_state,
       t.reported_at,
       t.resolved_at,
       EXTRACT(EPOCH FROM (t.resolved_at - t.reported_at)) / 3600.0 AS hours_to_resolution,
       t.game_id,
       t.game_title,
       t.console_name
FROM tickets t
WHERE t.report_state IN ('resolved', 'closed') AND t.resolved_at IS NOT NULL;

-- Open and request tickets at the end of each UTC day, from the history.
CREATE VIEW daily_backlog AS
WITH days AS (
    SELECT generate_series(
               (SELECT date_trunc('day', min(valid_from) AT TIME ZONE 'UTC') FROM ticket_history),
               (now() AT TIME ZONE 'UTC')::date,
               interval '1 day')::date AS day
)
SELECT d.day,
       count(h.ticket_id) FILTER (WHERE h.report_state = 'open')    AS open,
       count(h.ticket_id) FILTER (WHERE h.report_state = 'request') AS request
FROM days d
LEFT JOIN ticket_history h
       ON h.valid_from < ((d.day + 1)::timestamp AT TIME ZONE 'UTC')
      AND (h.valid_to IS NULL OR h.valid_to >= ((d.day + 1)::timestamp AT TIME ZONE 'UTC'))
      AND h.report_state IN ('open', 'request')
GROUP BY d.day
ORDER BY d.day;

-- +goose Down
DROP VIEW daily_backlog;
DROP VIEW ticket_resolution_times;
DROP FUNCTION tickets_as_of(timestamptz);
DROP TABLE open_ticket_snapshots;
DROP TABLE ticket_history;
ALTER TABLE tickets DROP COLUMN vanished_at;
