package report_test

import (
	"context"
	"testing"

	"github.com/ratickets/ratickets/internal/pgtest"
)

// v2Migration is 00008_v2_schema.sql.
const v2Migration = 8

// schemaSnapshot is analyticsSnapshot plus what 00008 changes in the
// tables: the columns of tickets and ticket_history (type, NOT NULL,
// default), their constraints and indexes, and the enum types with their
// labels.
func schemaSnapshot(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	return schemaText(t, db, `
		SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
		       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
		       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
		FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE c.relname IN ('tickets', 'ticket_history') AND c.relkind = 'r'
		  AND c.relnamespace = current_schema()::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		FROM pg_constraint WHERE conrelid IN ('tickets'::regclass, 'ticket_history'::regclass)
		UNION ALL
		SELECT 'index ' || indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename IN ('tickets', 'ticket_history')
		UNION ALL
		SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
		FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
		WHERE t.typnamespace = current_schema()::regnamespace
		GROUP BY t.typname
		ORDER BY 1`, "\n") + analyticsSnapshot(t, db)
}

// TestV2MigrationDownRestores: rolling 00008 back gives exactly the schema
// of 00007 (tables, enums, views, comments, indexes), keeps the achievement
// tickets (a ticket seen only through v2 keeps its v2 object as raw, a
// missing legacy code becomes -1), drops the leaderboard tickets it cannot
// hold, and 00008 applies again after.
func TestV2MigrationDownRestores(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	ctx := context.Background()
	p := migrator(t, db)
	prev := int64(v2Migration - 1)
	if _, err := p.UpTo(ctx, prev); err != nil {
		t.Fatal(err)
	}
	before := schemaSnapshot(t, db)
	if _, err := p.UpTo(ctx, v2Migration); err != nil {
		t.Fatal(err)
	}
	after := schemaSnapshot(t, db)
	if after == before {
		t.Fatal("00008 changed nothing the snapshot sees")
	}
	// One ticket of each kind 00008 allows: from v1, an achievement ticket
	// seen only through v2 (no v1 raw, no state code), a leaderboard ticket.
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO sync_runs (id) VALUES (1);
		INSERT INTO tickets (id, reported_at, report_type, report_type_code, report_state, report_state_code,
		                     first_seen_at, updated_at, raw, raw_v2, ticketable_type, leaderboard_id, leaderboard_title)
		VALUES (1, now(), 'did_not_trigger', 2, 'open', 1, now(), now(), '{"ID":1}', NULL, 'achievement', NULL, NULL),
		       (2, now(), 'did_not_trigger', 2, 'unknown', NULL, now(), now(), NULL, '{"id":"2"}', 'achievement', NULL, NULL),
		       (3, now(), 'did_not_submit', NULL, 'open', 1, now(), now(), NULL, '{"id":"3"}', 'leaderboard', 9, 'LB');
		INSERT INTO ticket_history (ticket_id, valid_from, report_state, report_state_code, report_type, report_type_code,
		                            leaderboard_title, run_id)
		SELECT id, now(), report_state, report_state_code, report_type, report_type_code, leaderboard_title, 1 FROM tickets;
		INSERT INTO ticket_sightings (ticket_id, last_seen_at, last_seen_run_id) SELECT id, now(), 1 FROM tickets`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if got := schemaSnapshot(t, db); got != before {
		t.Errorf("after down to %d the schema differs from before 00008:\n--- before\n%s\n--- after down\n%s", prev, before, got)
	}
	var got string
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(concat_ws(' ', id, report_state, report_state_code, report_type_code, raw), '; ' ORDER BY id)
		|| ' | ' || (SELECT count(*) FROM ticket_history) || ' ' || (SELECT count(*) FROM ticket_sightings)
		FROM tickets`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := `1 open 1 2 {"ID": 1}; 2 unknown -1 2 {"id": "2"} | 2 2`; got != want {
		t.Errorf("tickets after down: %s, want %s", got, want)
	}
	if _, err := p.UpTo(ctx, v2Migration); err != nil {
		t.Fatal(err)
	}
	if got := schemaSnapshot(t, db); got != after {
		t.Errorf("up again differs from the first up:\n%s\n---\n%s", after, got)
	}
}
