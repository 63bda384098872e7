package report_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/report"
)

// Leaderboard tickets (v2) have no achievement: the report counts them like
// any ticket and names their leaderboard where it names an achievement.
func TestGenerateWithLeaderboardTickets(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	// Ticket 1: an achievement ticket, open. Ticket 2: a leaderboard
	// ticket, resolved on 5 Mar and reopened on 10 Mar (open now, and the
	// oldest). Ticket 3: a leaderboard ticket resolved on 12 Mar.
	if _, err := db.Pool.Exec(context.Background(), `
		INSERT INTO sync_runs (id, status, finished_at) VALUES (1, 'succeeded', '2024-03-19 00:00Z');
		INSERT INTO tickets (id, reported_at, report_type, report_type_code, report_state, report_state_code,
		                     resolved_at, first_seen_at, updated_at, raw, raw_v2, ticketable_type,
		                     achievement_id, achievement_title, achievement_author, leaderboard_id, leaderboard_title,
		                     game_id, game_title, console_name)
		VALUES (1, '2024-03-02 00:00Z', 'did_not_trigger', 2, 'open', 1, NULL, '2024-03-02 00:00Z', now(),
		        '{}', NULL, 'achievement', 11, 'Boss Rush', 'dev1', NULL, NULL, 7, 'Some Game', 'SNES'),
		       (2, '2024-03-01 00:00Z', 'did_not_submit', NULL, 'open', 1, NULL, '2024-03-01 00:00Z', now(),
		        NULL, '{}', 'leaderboard', NULL, NULL, NULL, 99, 'Fastest lap', 7, 'Some Game', 'SNES'),
		       (3, '2024-03-03 00:00Z', 'submitted_wrong_value', NULL, 'resolved', 2, '2024-03-12 00:00Z', '2024-03-03 00:00Z', now(),
		        NULL, '{}', 'leaderboard', NULL, NULL, NULL, 98, NULL, 7, 'Some Game', 'SNES');
		INSERT INTO ticket_history (ticket_id, valid_from, valid_to, report_state, report_state_code, report_type,
		                            report_type_code, resolved_at, leaderboard_title, run_id)
		VALUES (1, '2024-03-02 00:00Z', NULL, 'open', 1, 'did_not_trigger', 2, NULL, NULL, 1),
		       (2, '2024-03-01 00:00Z', '2024-03-05 00:00Z', 'open', 1, 'did_not_submit', NULL, NULL, 'Fastest lap', 1),
		       (2, '2024-03-05 00:00Z', '2024-03-10 00:00Z', 'resolved', 2, 'did_not_submit', NULL, '2024-03-05 00:00Z', 'Fastest lap', 1),
		       (2, '2024-03-10 00:00Z', NULL, 'open', 1, 'did_not_submit', NULL, NULL, 'Fastest lap', 1),
		       (3, '2024-03-03 00:00Z', '2024-03-12 00:00Z', 'open', 1, 'submitted_wrong_value', NULL, NULL, NULL, 1),
		       (3, '2024-03-12 00:00Z', NULL, 'resolved', 2, 'submitted_wrong_value', NULL, '2024-03-12 00:00Z', NULL, 1);
		INSERT INTO open_ticket_snapshots (run_id, taken_at, seen_open, seen_request) VALUES (1, '2024-03-19 00:00Z', 2, 0)`); err != nil {
		t.Fatal(err)
	}
	// The views count them, and split the counts where they are per group.
	var got string
	if err := db.Pool.QueryRow(context.Background(), `SELECT concat_ws(' | ',
		(SELECT concat_ws(' ', open_now, leaderboard_open_now, total_seen, leaderboard_total_seen, leaderboards, achievements)
		 FROM analytics.by_game WHERE game_id = 7),
		(SELECT concat_ws(' ', open_now, leaderboard_open_now, total_seen, leaderboard_total_seen, leaderboards)
		 FROM analytics.by_console WHERE console_name = 'SNES'),
		(SELECT concat_ws(' ', total, leaderboard_total, did_not_trigger, did_not_start, did_not_cancel, did_not_submit,
		        submitted_wrong_value, triggered_at_wrong_time + did_not_trigger + unknown_type + did_not_start
		        + did_not_cancel + did_not_submit + submitted_wrong_value)
		 FROM analytics.by_emulator),
		(SELECT string_agg(ticket_id || ' ' || ticketable_type || ' ' || coalesce(leaderboard_title, '-'), ', ' ORDER BY ticket_id)
		 FROM analytics.open_tickets),
		(SELECT string_agg(ticket_id || ' ' || ticketable_type || ' ' || coalesce(leaderboard_id::text, '-'), ', ')
		 FROM analytics.resolution_times),
		(SELECT string_agg(ticket_id || ' ' || ticketable_type || ' ' || leaderboard_title, ', ') FROM analytics.reopened),
		(SELECT concat_ws(' ', open, leaderboard_open, resolved) FROM analytics.backlog_daily WHERE day = '2024-03-12'),
		(SELECT sum(opened) || ' ' || sum(leaderboard_opened) FROM analytics.backlog_daily))`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := "2 1 3 2 2 1 | 2 1 3 2 2 | 3 2 1 0 0 1 1 3 | 1 achievement -, 2 leaderboard Fastest lap" +
		" | 3 leaderboard 98 | 2 leaderboard Fastest lap | 2 1 1 | 3 2"; got != want {
		t.Errorf("views:\n got %s\nwant %s", got, want)
	}

	html := generate(t, db, report.Options{Now: reportNow})
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Open now<b>2</b>`),
		regexp.MustCompile(`Tickets seen<b>3</b>`),
		// the oldest open tickets: the leaderboard ticket first
		regexp.MustCompile(`(?s)<td class="n">2</td><td>2024-03-01</td>.*?<td>Leaderboard: Fastest lap</td><td></td></tr>.*?<td>Boss Rush</td><td>dev1</td>`),
		// reopened: the leaderboard ticket
		regexp.MustCompile(`<td class="n">2</td><td class="n">1</td><td>2024-03-10</td><td>open</td><td>Some Game</td><td>Leaderboard: Fastest lap</td>`),
	} {
		if !want.MatchString(html) {
			t.Errorf("the report has no match for %s", want)
		}
	}
	if strings.Count(html, "Leaderboard: ") != 2 {
		t.Errorf("%d leaderboard names in the report, want 2 (oldest open, reopened)", strings.Count(html, "Leaderboard: "))
	}
}
