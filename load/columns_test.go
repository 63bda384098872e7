package load_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ratickets/ratickets/load"
)

var update = flag.Bool("update", false, "rewrite testdata/sql.golden from the generated SQL")

// The SQL generated from the column table is reviewed as text: a change to
// the table shows in testdata/sql.golden (go test ./load -run Golden -update).
func TestGeneratedSQLGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, q := range load.GeneratedSQL {
		b.WriteString("-- " + q.Name + "\n" + strings.TrimSpace(q.SQL) + ";\n\n")
	}
	path := filepath.Join("testdata", "sql.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("generated SQL differs from %s (rerun with -update and review the diff):\n%s", path, got)
	}
}

// The staging table generated from the column table has exactly the
// columns of tickets that a merge writes, with their types and NOT NULLs;
// its history columns are exactly ticket_history's copies of the ticket. A
// migration that adds a column to tickets fails here until the column
// table has it too.
func TestColumnsMatchSchema(t *testing.T) {
	t.Parallel()
	_, pool := newStore(t)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, load.GeneratedSQL[0].SQL); err != nil {
		t.Fatal(err)
	}
	columns := func(table string, skip ...string) []string {
		rows, err := tx.Query(ctx, `SELECT attname || ' ' || format_type(atttypid, atttypmod) ||
				CASE WHEN attnotnull THEN ' NOT NULL' ELSE '' END
			FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped
			ORDER BY attname`, table)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(cols, func(c string) bool { return slices.Contains(skip, strings.Fields(c)[0]) })
	}
	// Written by the merge itself, not from the ticket.
	stage := columns("pg_temp.ratickets_stage", "lacks", "seq")
	if tickets := columns("tickets", "first_seen_at", "updated_at", "vanished_at"); !slices.Equal(stage, tickets) {
		t.Errorf("staging columns\n%s\ndiffer from tickets\n%s", strings.Join(stage, "\n"), strings.Join(tickets, "\n"))
	}
	history := columns("ticket_history", "id", "ticket_id", "valid_from", "valid_to", "vanished_at", "run_id")
	for i, c := range history {
		history[i] = strings.Fields(c)[0]
	}
	var merge string
	for _, q := range load.GeneratedSQL {
		if q.Name == "mergeSQL" {
			merge = q.SQL
		}
	}
	// The history insert names exactly these columns.
	i := strings.Index(merge, "INSERT INTO ticket_history (ticket_id, valid_from,")
	if i < 0 {
		t.Fatal("no history insert in mergeSQL")
	}
	head := merge[i:]
	head = head[strings.Index(head, "valid_from,")+len("valid_from,") : strings.Index(head, "vanished_at, run_id)")]
	var got []string
	for _, f := range strings.Split(head, ",") {
		if f = strings.TrimSpace(f); f != "" {
			got = append(got, f)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, history) {
		t.Errorf("history columns %v, ticket_history has %v", got, history)
	}
}
