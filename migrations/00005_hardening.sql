-- +goose Up
-- Tickets of unofficial achievements: a game backfill received them from a
-- game's unofficial list (f=5). They can never appear in the open list, so
-- reconciliation does not look them up when a complete scan does not see
-- them. A mark is written as soon as the page is read, before its batch
-- commits (hence no foreign key to tickets); it is removed when the ticket
-- is received from a game's official list or seen in the open list (the
-- achievement was promoted).
CREATE TABLE unofficial_tickets (
    ticket_id bigint      PRIMARY KEY,
    run_id    bigint      NOT NULL REFERENCES sync_runs (id),
    marked_at timestamptz NOT NULL DEFAULT now()
);

-- When a run last looked up a vanished ticket and the source still answered
-- not found. A vanished ticket is looked up again once the later of this and
-- tickets.vanished_at is older than the recheck interval (a day by default),
-- since a ticket can come back.
ALTER TABLE ticket_sightings ADD COLUMN vanished_checked_at timestamptz;

-- +goose Down
ALTER TABLE ticket_sightings DROP COLUMN vanished_checked_at;
DROP TABLE unofficial_tickets;
