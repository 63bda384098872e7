-- +goose Up
-- The API a run used: 'v1' (API_GetTicketData) or 'v2' (/api/v2/tickets),
-- as chosen by --api (auto probes v2 at the start of the run). NULL for runs
-- from before this column, and for a run that failed before it chose.
ALTER TABLE sync_runs ADD COLUMN api text CHECK (api IN ('v1', 'v2'));

-- +goose Down
ALTER TABLE sync_runs DROP COLUMN api;
