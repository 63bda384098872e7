package report_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/migrations"
)

// biMigration is 00007_analytics_bi.sql.
const biMigration = 7

// analyticsSnapshot describes everything 00007 changes: every analytics
// view's definition, comment and column types, the function's definition
// and comment, and the definitions of the two indexes it rebuilds.
func analyticsSnapshot(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	return schemaText(t, db, `
		SELECT 'view ' || c.relname || E'\n' || pg_get_viewdef(c.oid) || E'\n' || coalesce(obj_description(c.oid, 'pg_class'), '')
		       || E'\n' || (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' '
		                                      || coalesce(col_description(c.oid, a.attnum), ''), E'\n' ORDER BY a.attnum)
		                    FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'analytics' AND c.relkind = 'v'
		UNION ALL
		SELECT 'function ' || p.proname || E'\n' || pg_get_functiondef(p.oid) || E'\n' || coalesce(obj_description(p.oid, 'pg_proc'), '')
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'analytics'
		UNION ALL
		SELECT 'index ' || indexdef FROM pg_indexes
		WHERE indexname IN ('tickets_backlog_reported_idx', 'tickets_resolution_idx')
		ORDER BY 1`, "\n\n")
}

// schemaText runs a query of one text column and joins its rows, each
// followed by sep: a description of the schema objects it lists.
func schemaText(t *testing.T, db *pgtest.DB, query, sep string) string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + sep)
	}
	return b.String()
}

// migrator is a goose provider over the embedded migrations for db, closed
// with the test.
func migrator(t *testing.T, db *pgtest.DB) *goose.Provider {
	t.Helper()
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	t.Cleanup(func() { sqlDB.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBIMigrationDownRestoresViews: rolling 00007 back gives exactly the
// views, function, comments and indexes of the migration before it, and it
// applies again after.
func TestBIMigrationDownRestoresViews(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	ctx := context.Background()
	p := migrator(t, db)
	var prev int64
	for _, s := range p.ListSources() {
		if s.Version < biMigration && s.Version > prev {
			prev = s.Version
		}
	}
	if _, err := p.UpTo(ctx, prev); err != nil {
		t.Fatal(err)
	}
	before := analyticsSnapshot(t, db)
	if _, err := p.UpTo(ctx, biMigration); err != nil {
		t.Fatal(err)
	}
	after := analyticsSnapshot(t, db)
	if after == before {
		t.Fatal("00007 changed nothing the snapshot sees")
	}
	if _, err := p.DownTo(ctx, prev); err != nil {
		t.Fatal(err)
	}
	if got := analyticsSnapshot(t, db); got != before {
		t.Errorf("after down to %d the analytics objects differ from before 00007:\n--- before\n%s\n--- after down\n%s", prev, before, got)
	}
	if _, err := p.UpTo(ctx, biMigration); err != nil {
		t.Fatal(err)
	}
	if got := analyticsSnapshot(t, db); got != after {
		t.Errorf("up again differs from the first up:\n%s\n---\n%s", after, got)
	}
}
