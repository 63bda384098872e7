-- +goose Up
-- A row with field set records one optional field of a ticket that could
-- not be read: the ticket was kept and that field stored NULL. A row with
-- field NULL is a record set aside whole (unusable id, state or report
-- time, invalid JSON, or JSON that jsonb cannot store).
ALTER TABLE rejected_records ADD COLUMN field text;

-- +goose Down
ALTER TABLE rejected_records DROP COLUMN field;
