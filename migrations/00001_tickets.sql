-- +goose Up
CREATE TYPE ticket_type AS ENUM ('triggered_at_wrong_time', 'did_not_trigger', 'unknown');
CREATE TYPE ticket_state AS ENUM ('closed', 'open', 'resolved', 'request', 'quarantined', 'unknown');

-- One row per run of `ratickets sync` or `ratickets backfill`.
CREATE TABLE sync_runs (
    id               bigserial PRIMARY KEY,
    kind             text        NOT NULL DEFAULT 'sync' CHECK (kind IN ('sync', 'backfill')),
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    status           text        NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'abandoned')),
    error            text,
    requests         integer     NOT NULL DEFAULT 0,
    retries          integer     NOT NULL DEFAULT 0,
    pages            integer     NOT NULL DEFAULT 0,
    tickets_seen     integer     NOT NULL DEFAULT 0,
    inserted         integer     NOT NULL DEFAULT 0,
    updated          integer     NOT NULL DEFAULT 0,
    unchanged        integer     NOT NULL DEFAULT 0,
    rejected         integer     NOT NULL DEFAULT 0,
    reconciled       integer     NOT NULL DEFAULT 0,
    vanished         integer     NOT NULL DEFAULT 0,
    not_found        integer     NOT NULL DEFAULT 0,
    scan_complete    boolean     NOT NULL DEFAULT false,
    api_open_tickets integer,
    version          text
);
CREATE INDEX sync_runs_status_idx ON sync_runs (status) WHERE status = 'running';

-- The current version of every ticket ratickets has seen.
CREATE TABLE tickets (
    id                      bigint       PRIMARY KEY,
    achievement_id          bigint,
    achievement_title       text,
    achievement_description text,
    achievement_type        text,
    points                  integer,
    badge_name              text,
    achievement_author      text,
    game_id                 bigint,
    game_title              text,
    game_icon               text,
    console_name            text,
    reported_at             timestamptz  NOT NULL,
    report_type             ticket_type  NOT NULL,
    report_type_code        smallint     NOT NULL,
    report_state            ticket_state NOT NULL,
    report_state_code       smallint     NOT NULL,
    hardcore                boolean,
    report_notes            text,
    reported_by             text,
    resolved_at             timestamptz,
    resolved_by             text,
    rom_hash                text,
    emulator                text,
    emulator_core           text,
    emulator_version        text,
    first_seen_at           timestamptz  NOT NULL,
    updated_at              timestamptz  NOT NULL,
    raw                     jsonb        NOT NULL
);
CREATE INDEX tickets_state_idx ON tickets (report_state);
CREATE INDEX tickets_game_idx ON tickets (game_id);
CREATE INDEX tickets_reported_at_idx ON tickets (reported_at);

-- When each ticket was last seen. Kept out of `tickets` on purpose: every
-- sync sees every open ticket, and writing that into `tickets` would rewrite
-- every row on every run.
CREATE TABLE ticket_sightings (
    ticket_id          bigint      PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    last_seen_at       timestamptz NOT NULL,
    last_seen_run_id   bigint      NOT NULL REFERENCES sync_runs (id),
    last_listed_run_id bigint      REFERENCES sync_runs (id)
);

-- +goose Down
DROP TABLE ticket_sightings;
DROP TABLE tickets;
DROP TABLE sync_runs;
DROP TYPE ticket_state;
DROP TYPE ticket_type;
