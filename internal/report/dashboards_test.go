package report_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// readerRoleSQL is the README's read-only role for dashboards ("Dashboards"),
// with the role, database and owner names as placeholders.
const readerRoleSQL = `
CREATE ROLE ratickets_reader LOGIN PASSWORD 'change-me';
GRANT CONNECT ON DATABASE ratickets TO ratickets_reader;
GRANT USAGE ON SCHEMA public, analytics TO ratickets_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public, analytics TO ratickets_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE ratickets IN SCHEMA public, analytics
    GRANT SELECT ON TABLES TO ratickets_reader;
ALTER ROLE ratickets_reader SET default_transaction_read_only = on;
ALTER ROLE ratickets_reader SET statement_timeout = '60s';
`

// dashboardQueries are the README's five ready panel queries.
var dashboardQueries = map[string]string{
	"backlog": `SELECT day::timestamptz AS time, open, request, api_open_tickets
FROM analytics.backlog_daily
WHERE day >= current_date - 180
ORDER BY day`,
	"weekly flow": `SELECT date_trunc('week', day)::date AS week,
       sum(opened) AS opened, sum(resolved) AS resolved, sum(closed) AS closed
FROM analytics.backlog_daily
WHERE day >= current_date - 7 * 26
GROUP BY 1
ORDER BY 1`,
	"resolution time by month": `SELECT date_trunc('month', resolved_at) AS month, count(*) AS resolutions,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_resolution))::numeric, 1) AS median_hours,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY hours_to_resolution))::numeric, 1) AS p90_hours
FROM analytics.resolution_times
WHERE resolved_at >= now() - interval '12 months'
GROUP BY 1
ORDER BY 1`,
	"top games": `SELECT game_title, console_name, open_now, total_seen,
       round((median_hours_to_resolution / 24)::numeric, 1) AS median_days_to_resolution
FROM analytics.by_game
WHERE open_now > 0
ORDER BY open_now DESC, total_seen DESC
LIMIT 15`,
	"developers": `SELECT achievement_author, open_now, resolved_last_30d,
       round(median_open_age_days::numeric, 1) AS median_open_age_days
FROM analytics.by_developer
ORDER BY open_now DESC, resolved_last_30d DESC
LIMIT 20`,
}

// TestDashboardRoleAndQueries runs the README's role SQL and then every
// panel query as that role: they work, and the role cannot write.
func TestDashboardRoleAndQueries(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	ctx := context.Background()
	var dbName, owner string
	if err := db.Pool.QueryRow(ctx, `SELECT current_database(), current_user`).Scan(&dbName, &owner); err != nil {
		t.Fatal(err)
	}
	// Roles are global to the server: give this run's its own name.
	role := "ratickets_reader_" + strings.ToLower(dbName[len(dbName)-12:])
	role = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, role)
	sql := strings.NewReplacer("ratickets_reader", role, "DATABASE ratickets", "DATABASE "+pgx.Identifier{dbName}.Sanitize(),
		"FOR ROLE ratickets", "FOR ROLE "+pgx.Identifier{owner}.Sanitize()).Replace(readerRoleSQL)
	if _, err := db.Pool.Exec(ctx, sql); err != nil {
		t.Fatalf("role SQL: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Pool.Exec(context.Background(), fmt.Sprintf(`DROP OWNED BY %s; DROP ROLE %s`, role, role))
	})

	u, err := url.Parse(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, "change-me")
	reader, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	for name, q := range dashboardQueries {
		rows, err := reader.Query(ctx, q)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		t.Logf("%s: %d rows", name, n)
		if n == 0 && name != "resolution time by month" && name != "weekly flow" && name != "backlog" {
			// The seeded history is from 2024: the date-limited panels may
			// be empty today, the others not.
			t.Errorf("%s: no rows", name)
		}
	}
	for _, v := range []string{"backlog_daily", "resolution_times", "by_game", "by_console", "by_emulator",
		"by_developer", "reopened", "open_tickets"} {
		if _, err := reader.Exec(ctx, "SELECT * FROM analytics."+v+" LIMIT 1"); err != nil {
			t.Errorf("%s as %s: %v", v, role, err)
		}
	}
	if _, err := reader.Exec(ctx, "SELECT * FROM analytics.developer_stats(now()) LIMIT 1"); err != nil {
		t.Errorf("developer_stats as %s: %v", role, err)
	}
	if _, err := reader.Exec(ctx, "DELETE FROM tickets"); err == nil {
		t.Errorf("%s could delete tickets", role)
	}
	var count int64
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM tickets").Scan(&count); err != nil || count == 0 {
		t.Errorf("tickets: %d, %v", count, err)
	}
}
