package pipeline_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// TestReadmeQueriesRun keeps the README honest: every SQL example in it runs
// without error against a database that a few syncs filled.
func TestReadmeQueriesRun(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("no ```sql blocks in README.md")
	}
	e := setup(t, fakeapi.Options{Seed: 9, Tickets: 500})
	e.sync(t)
	open := e.fake.Open()
	e.fake.SetState(open[0].ID, 2, "fixer")
	e.fake.SetState(open[1].ID, 2, "fixer")
	e.sync(t)
	e.fake.SetState(open[0].ID, 1, "")
	e.sync(t)
	var n int
	for _, b := range blocks {
		if strings.Contains(b[1], "CREATE ROLE") {
			continue // set-up for a real server; internal/report's TestDashboardRoleAndQueries runs it
		}
		for _, stmt := range strings.Split(b[1], ";") {
			if strings.TrimSpace(stripComments(stmt)) == "" {
				continue
			}
			n++
			rows, err := e.pool.Query(context.Background(), stmt)
			if err != nil {
				t.Errorf("README query failed: %v\n%s", err, stmt)
				continue
			}
			for rows.Next() {
			}
			if err := rows.Err(); err != nil {
				t.Errorf("README query failed: %v\n%s", err, stmt)
			}
			rows.Close()
		}
	}
	t.Logf("%d README queries ran", n)
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
