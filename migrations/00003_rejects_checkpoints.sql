-- +goose Up
-- Records that could not be understood, set aside with the reason so that a
-- run goes on with the rest and nothing is lost.
CREATE TABLE rejected_records (
    id          bigserial   PRIMARY KEY,
    run_id      bigint      NOT NULL REFERENCES sync_runs (id),
    ticket_id   bigint,
    raw         text        NOT NULL,
    reason      text        NOT NULL,
    rejected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejected_records_run_idx ON rejected_records (run_id);

-- Where a backfill got to, written in the same transaction as the batch it
-- covers, so that a crashed or interrupted backfill resumes exactly.
CREATE TABLE backfill_checkpoints (
    name       text        PRIMARY KEY,
    position   jsonb       NOT NULL,
    done       boolean     NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE backfill_checkpoints;
DROP TABLE rejected_records;
