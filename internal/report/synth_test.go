package report_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// seedSynthetic fills an empty database with n generated tickets over ten
// years, a history that starts when "ratickets" was switched on (after 80 %
// of that time), some reopened tickets and a daily snapshot. It is for plans
// and volume, not for exact answers (those are in the hand-built tests).
func seedSynthetic(t testing.TB, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{
		`SELECT setseed(0.42)`,
		`INSERT INTO sync_runs (id, kind, status) VALUES (1, 'sync', 'succeeded')`,
		`INSERT INTO tickets (id, achievement_id, achievement_title, achievement_author, game_id,
		        game_title, console_name, reported_at, report_type, report_type_code,
		        report_state, report_state_code, resolved_at, resolved_by, emulator, emulator_core,
		        first_seen_at, updated_at, report_notes, raw)
		 SELECT g, g % ($1 / 4 + 1), 'Achievement ' || (g % ($1 / 4 + 1)), 'dev' || (g % 997),
		        gid, 'Game ' || gid, 'Console ' || (gid % 40),
		        rep,
		        CASE WHEN r2 < 0.6 THEN 'did_not_trigger' ELSE 'triggered_at_wrong_time' END::ticket_type,
		        CASE WHEN r2 < 0.6 THEN 2 ELSE 1 END,
		        st::ticket_state,
		        CASE st WHEN 'open' THEN 1 WHEN 'request' THEN 3 WHEN 'resolved' THEN 2 WHEN 'closed' THEN 0 ELSE 4 END,
		        CASE WHEN st IN ('resolved', 'closed') THEN least(rep + (r3 * r3 * 400) * interval '1 day', timestamptz '2025-06-01') END,
		        CASE WHEN st IN ('resolved', 'closed') THEN 'dev' || (g % 997) END,
		        (ARRAY['RALibRetro', 'RetroArch', 'PCSX2', 'DuckStation', 'PPSSPP', 'Dolphin', NULL])[1 + g % 7],
		        CASE WHEN g % 7 < 2 THEN (ARRAY['snes9x', 'genesis_plus_gx', 'mgba', 'fceumm'])[1 + g % 4] END,
		        greatest(rep, timestamptz '2023-06-01'), greatest(rep, timestamptz '2023-06-01'),
		        repeat(md5(g::text), 6),
		        -- about the size of a real ticket's JSON, so that scans read realistic pages
		        jsonb_build_object('ID', g, 'pad', repeat(md5(g::text), 25))
		 FROM (
		     SELECT g, ((g::bigint * 7919) % ($1 / 20 + 1)) AS gid,
		            timestamptz '2015-06-01' + (g::float8 / $1) * interval '3650 days' AS rep,
		            CASE WHEN r1 < 0.08 THEN 'open' WHEN r1 < 0.10 THEN 'request'
		                 WHEN r1 < 0.70 THEN 'resolved' WHEN r1 < 0.99 THEN 'closed' ELSE 'quarantined' END AS st,
		            r2, r3
		     FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3 FROM generate_series(1, $1) g) x
		 ) y`,
		// First version: when first seen. Tickets resolved before that are
		// first seen resolved; the others first seen open.
		`INSERT INTO ticket_history (ticket_id, valid_from, valid_to, report_state, report_state_code,
		        report_type, report_type_code, resolved_at, resolved_by, run_id)
		 SELECT id, first_seen_at,
		        CASE WHEN report_state IN ('resolved', 'closed') AND resolved_at > first_seen_at THEN resolved_at END,
		        CASE WHEN report_state IN ('resolved', 'closed') AND resolved_at > first_seen_at THEN 'open' ELSE report_state END,
		        CASE WHEN report_state IN ('resolved', 'closed') AND resolved_at > first_seen_at THEN 1 ELSE report_state_code END,
		        report_type, report_type_code,
		        CASE WHEN report_state IN ('resolved', 'closed') AND resolved_at > first_seen_at THEN NULL ELSE resolved_at END,
		        CASE WHEN report_state IN ('resolved', 'closed') AND resolved_at > first_seen_at THEN NULL ELSE resolved_by END,
		        1
		 FROM tickets`,
		`INSERT INTO ticket_history (ticket_id, valid_from, report_state, report_state_code,
		        report_type, report_type_code, resolved_at, resolved_by, run_id)
		 SELECT id, resolved_at, report_state, report_state_code, report_type, report_type_code,
		        resolved_at, resolved_by, 1
		 FROM tickets
		 WHERE report_state IN ('resolved', 'closed') AND resolved_at > first_seen_at`,
		// Reopen 1 % of the open tickets: open -> resolved -> open (current).
		`WITH pick AS (
		     SELECT id, first_seen_at FROM tickets
		     WHERE report_state = 'open' AND first_seen_at < timestamptz '2025-01-01' AND id % 3 = 0
		 ),
		 closed AS (
		     UPDATE ticket_history h SET valid_to = p.first_seen_at + interval '3 days'
		     FROM pick p WHERE h.ticket_id = p.id
		     RETURNING h.ticket_id
		 )
		 INSERT INTO ticket_history (ticket_id, valid_from, valid_to, report_state, report_state_code,
		        report_type, report_type_code, resolved_at, run_id)
		 SELECT p.id, v.valid_from, v.valid_to, v.st::ticket_state, v.code, 'did_not_trigger', 2, v.res, 1
		 FROM pick p
		 CROSS JOIN LATERAL (VALUES
		     (p.first_seen_at + interval '3 days', p.first_seen_at + interval '9 days', 'resolved', 2::smallint, p.first_seen_at + interval '2 days'),
		     (p.first_seen_at + interval '9 days', NULL, 'open', 1::smallint, NULL)) AS v(valid_from, valid_to, st, code, res)`,
		`INSERT INTO sync_runs (id, kind, status, started_at)
		 SELECT 1 + d, 'sync', 'succeeded', timestamptz '2023-06-01' + d * interval '1 day'
		 FROM generate_series(1, 700) d`,
		`INSERT INTO open_ticket_snapshots (run_id, taken_at, api_open_tickets, seen_open, seen_request)
		 SELECT id, started_at, $1 / 10, $1 / 12, $1 / 50 FROM sync_runs WHERE id > 1`,
		`VACUUM ANALYZE`,
	}
	for i, s := range stmts {
		var args []any
		if containsParam(s) {
			args = []any{n}
		}
		if _, err := pool.Exec(ctx, s, args...); err != nil {
			t.Fatalf("seed statement %d: %v", i, err)
		}
	}
}

func containsParam(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '1' {
			return true
		}
	}
	return false
}
