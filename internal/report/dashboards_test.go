package report_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ratickets/ratickets/internal/pgtest"
)

// readmeDashboardSQL is every ```sql block of the README's "Dashboards"
// section but the reader role's file.
func readmeDashboardSQL(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(readerFile)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	start := strings.Index(s, "\n## Dashboards\n")
	if start < 0 {
		t.Fatal("README.md has no section Dashboards")
	}
	s = s[start+1:]
	if end := strings.Index(s, "\n## "); end >= 0 {
		s = s[:end]
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(s, -1) {
		if m[1] != string(file) {
			out = append(out, m[1])
		}
	}
	return out
}

// TestDashboardRoleAndQueries loads data like make demo into a database the
// harness's superuser migrated into public, creates the reader role with
// the shipped file (owner: that superuser), and runs every ready query of the
// README's "Dashboards" section as it: each gives rows, the same in a UTC
// and a non-UTC session, and the role cannot write.
func TestDashboardRoleAndQueries(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	demoData(t, db.Pool)
	ctx := context.Background()
	var owner string
	if err := db.Pool.QueryRow(ctx, `SELECT current_user`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	reader, role := readerFromFile(t, db, owner)

	queries := readmeDashboardSQL(t)
	if len(queries) < 5 {
		t.Fatalf("%d ready queries in the README, want at least 5", len(queries))
	}
	for _, q := range queries {
		if rows := sameInZones(t, reader, strings.TrimRight(q, "\n")); len(rows) == 0 {
			t.Errorf("no rows on demo data:\n%s", q)
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
