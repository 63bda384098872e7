package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

const (
	readerFile    = "../../deploy/postgres/reader.sql"
	dashboardFile = "../../deploy/grafana/ratickets.json"
	// otherZone is a session time zone far from UTC, with daylight saving.
	otherZone = "America/Los_Angeles"
)

var roleSeq atomic.Int64

// uniqueRole is a role name of this test binary's own: roles are global to
// the server that parallel tests and packages share.
func uniqueRole(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), roleSeq.Add(1))
}

func withUser(t *testing.T, rawURL, user string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, "reader-pw-123")
	return u.String()
}

// dropRolesAtEnd removes the roles (and what they own or were granted in
// db) before db itself is dropped.
func dropRolesAtEnd(t *testing.T, db *pgtest.DB, roles ...string) {
	t.Cleanup(func() {
		ids := make([]string, len(roles))
		for i, r := range roles {
			ids[i] = pgx.Identifier{r}.Sanitize()
		}
		list := strings.Join(ids, ", ")
		ctx := context.Background()
		if _, err := db.Pool.Exec(ctx, "REASSIGN OWNED BY "+list+" TO CURRENT_USER; DROP OWNED BY "+list); err != nil {
			t.Logf("drop owned: %v", err)
		}
		for _, id := range ids {
			if _, err := db.Pool.Exec(ctx, "DROP ROLE IF EXISTS "+id); err != nil {
				t.Logf("drop role: %v", err)
			}
		}
	})
}

// runReaderFile runs deploy/postgres/reader.sql, unchanged, through psql as
// the README says (ON_ERROR_STOP, the owner as a variable), as the harness's
// superuser.
func runReaderFile(t *testing.T, dbURL string, vars ...string) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("psql not installed")
		}
		t.Skip("psql not installed")
	}
	args := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1"}
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	args = append(args, "-d", dbURL, "-f", readerFile)
	if out, err := exec.Command(psql, args...).CombinedOutput(); err != nil {
		t.Fatalf("psql -f reader.sql %v: %v\n%s", vars, err, out)
	}
}

// readerFromFile creates a reader role over db with the shipped file, owner
// being the role that migrated db, and returns a pool logged in as it.
func readerFromFile(t *testing.T, db *pgtest.DB, owner string, extra ...string) (*pgxpool.Pool, string) {
	t.Helper()
	reader := uniqueRole("rt_reader")
	dropRolesAtEnd(t, db, reader)
	runReaderFile(t, db.URL, append([]string{"owner=" + owner, "reader=" + reader, "password=reader-pw-123"}, extra...)...)
	pool, err := pgxpool.New(context.Background(), withUser(t, db.URL, reader))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, reader
}

// TestReaderFileIsTheREADMEs: the README's "Dashboards" section prints
// deploy/postgres/reader.sql verbatim, so that what people copy is what the
// tests run.
func TestReaderFileIsTheREADMEs(t *testing.T) {
	t.Parallel()
	file, err := os.ReadFile(readerFile)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```sql\n"+string(file)+"```\n") {
		t.Error("README.md does not include deploy/postgres/reader.sql verbatim in a ```sql block")
	}
}

// demoData fills pool like `make demo`: the simulator's world ending today,
// a sync, and a backfill of every game (resolved history).
func demoData(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	fake := fakeapi.New(fakeapi.Options{Seed: 42, Tickets: 800, Start: time.Now().UTC()})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	client, err := extract.New(extract.Config{BaseURL: api.URL, Username: "demo", APIKey: "fake-api-key"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := pipeline.Config{Client: client, Store: load.New(pool, zerolog.Nop()), Version: "test"}
	if sum, err := pipeline.Sync(ctx, cfg); err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("sync: %s, %v", sum.Status, err)
	}
	if sum, err := pipeline.BackfillGames(ctx, cfg, nil, false, nil); err != nil || sum.Status != load.StatusSucceeded {
		t.Fatalf("backfill --games: %s, %v", sum.Status, err)
	}
}

// TestReaderFileOnAnotherOwnersSchema runs the shipped reader.sql (twice:
// it is re-runnable) on a database that a role other than "ratickets"
// migrated into a schema other than public, as deploy/postgres/role.sql sets
// it up, with demo data; then checks the role's settings, that it can read
// and not write, that it sees views created later, and runs every SQL query
// of the shipped Grafana dashboard as it.
func TestReaderFileOnAnotherOwnersSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	ctx := context.Background()
	owner := uniqueRole("rt_owner")
	if _, err := db.Pool.Exec(ctx, fmt.Sprintf(`CREATE ROLE %[1]s LOGIN;
		ALTER DATABASE %[2]s OWNER TO %[1]s;
		CREATE SCHEMA app AUTHORIZATION %[1]s;
		ALTER ROLE %[1]s IN DATABASE %[2]s SET search_path = app`,
		pgx.Identifier{owner}.Sanitize(), pgx.Identifier{db.Name}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	dropRolesAtEnd(t, db, owner)
	ownerPool, err := pgxpool.New(ctx, withUser(t, db.URL, owner))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ownerPool.Close)
	mig, err := load.NewMigrator(ownerPool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mig.Up(ctx); err != nil {
		t.Fatalf("migrate as %s: %v", owner, err)
	}
	_ = mig.Close()
	demoData(t, ownerPool)

	// Once without a password, then again with one, as an update would.
	reader := uniqueRole("rt_reader")
	dropRolesAtEnd(t, db, reader)
	runReaderFile(t, db.URL, "owner="+owner, "reader="+reader)
	runReaderFile(t, db.URL, "owner="+owner, "reader="+reader, "password=reader-pw-123")
	pool, err := pgxpool.New(ctx, withUser(t, db.URL, reader))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	var tz, readOnly, timeout, searchPath string
	var super, createDB, createRole bool
	if err := pool.QueryRow(ctx, `SELECT current_setting('TimeZone'), current_setting('default_transaction_read_only'),
		current_setting('statement_timeout'), current_setting('search_path'), rolsuper, rolcreatedb, rolcreaterole
		FROM pg_roles WHERE rolname = current_user`).
		Scan(&tz, &readOnly, &timeout, &searchPath, &super, &createDB, &createRole); err != nil {
		t.Fatal(err)
	}
	if tz != "UTC" || readOnly != "on" || timeout != "1min" || searchPath != "analytics, app" || super || createDB || createRole {
		t.Errorf("reader settings: TimeZone %s, read only %s, statement_timeout %s, search_path %q, super %v, createdb %v, createrole %v",
			tz, readOnly, timeout, searchPath, super, createDB, createRole)
	}
	var tickets int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM tickets`).Scan(&tickets); err != nil || tickets == 0 {
		t.Errorf("tickets as the reader: %d, %v", tickets, err)
	}
	for _, sql := range []string{"DELETE FROM tickets", "CREATE TABLE analytics.mine (i int)", "CREATE TABLE app.mine (i int)",
		"BEGIN READ WRITE; DELETE FROM app.sync_runs; COMMIT"} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("the reader could run %s", sql)
		}
	}
	// A view a later migration adds is readable without running the file again.
	if _, err := ownerPool.Exec(ctx, `CREATE VIEW analytics.later AS SELECT count(*) AS n FROM tickets`); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := pool.QueryRow(ctx, `SELECT n FROM analytics.later`).Scan(&n); err != nil || n != tickets {
		t.Errorf("a view created after reader.sql: %d, %v", n, err)
	}

	queries := dashboardSQL(t)
	if len(queries) < 8 {
		t.Fatalf("%d SQL queries in the dashboard", len(queries))
	}
	for title, q := range queries {
		byZone := sameInZones(t, pool, q)
		if len(byZone) == 0 {
			t.Errorf("panel %q: no rows on demo data:\n%s", title, q)
		}
	}
}

// dashboardSQL is every PostgreSQL query of the shipped dashboard by panel
// title, with Grafana's $__timeFilter macro expanded the way its PostgreSQL
// data source does, over the dashboard's default time range.
func dashboardSQL(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Time struct {
			From, To string
		} `json:"time"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Datasource struct {
					Type string `json:"type"`
				} `json:"datasource"`
				RawSQL string `json:"rawSql"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^now-(\d+)d$`).FindStringSubmatch(d.Time.From)
	if m == nil || d.Time.To != "now" {
		t.Fatalf("dashboard time range %s to %s: want now-Nd to now", d.Time.From, d.Time.To)
	}
	days, _ := strconv.Atoi(m[1])
	to := time.Now().UTC()
	from := to.AddDate(0, 0, -days)
	filter := regexp.MustCompile(`\$__timeFilter\(([a-z_]+)\)`)
	out := map[string]string{}
	for _, p := range d.Panels {
		for i, q := range p.Targets {
			if q.Datasource.Type != "grafana-postgresql-datasource" {
				continue
			}
			sql := filter.ReplaceAllString(q.RawSQL, fmt.Sprintf("$1 BETWEEN '%s' AND '%s'",
				from.Format(time.RFC3339), to.Format(time.RFC3339)))
			if strings.Contains(sql, "$") {
				t.Errorf("panel %q: a macro or variable the test does not expand:\n%s", p.Title, sql)
			}
			out[fmt.Sprintf("%s #%d", p.Title, i)] = sql
		}
	}
	return out
}

// sameInZones runs sql in one transaction (so now() is the same) under
// TimeZone UTC and under otherZone, fails the test unless both give the
// same rows, and returns them. Each row is rendered by the server as JSON
// text, so a timestamptz shows its offset and would differ.
func sameInZones(t *testing.T, pool *pgxpool.Pool, sql string) []string {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var results [2][]string
	for i, zone := range []string{"UTC", otherZone} {
		if _, err := tx.Exec(ctx, "SET LOCAL TimeZone = "+pgx.Identifier{zone}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, "SELECT to_jsonb(q)::text FROM ("+sql+") q")
		if err != nil {
			t.Fatalf("%v:\n%s", err, sql)
		}
		results[i], err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%v:\n%s", err, sql)
		}
	}
	// Compare as sets of rows: the order of rows that tie is not defined.
	slices.Sort(results[0])
	slices.Sort(results[1])
	if !slices.Equal(results[0], results[1]) {
		diff := 0
		for i := range min(len(results[0]), len(results[1])) {
			if results[0][i] != results[1][i] {
				diff++
			}
		}
		first := func(r []string) []string { return r[:min(3, len(r))] }
		t.Errorf("TimeZone %s gives other rows than UTC (%d vs %d rows, %d differ; first: %q vs %q):\n%s",
			otherZone, len(results[1]), len(results[0]), diff, first(results[1]), first(results[0]), sql)
	}
	return results[0]
}

// TestBIQueryShapesAsReader runs, as the reader role the shipped file
// creates, the queries BI tools generate against every analytics view: on
// every text column a filter with =, IN, LIKE and ILIKE (and an unknown
// value, which must match nothing rather than fail); on every date and
// timestamp column a bucket by day, week and month and a comparison with a
// literal, equal in a UTC and a non-UTC session; ORDER BY and LIMIT on every
// column. It also checks that every column has a type BI tools understand.
func TestBIQueryShapesAsReader(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	ctx := context.Background()
	// The seed has times on both sides of UTC midnight as seen from
	// otherZone, or the bucket comparisons below could not fail.
	var reported, resolved int64
	if err := db.Pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE (reported_at AT TIME ZONE 'UTC')::date <> (reported_at AT TIME ZONE $1)::date),
		count(*) FILTER (WHERE (resolved_at AT TIME ZONE 'UTC')::date <> (resolved_at AT TIME ZONE $1)::date)
		FROM tickets`, otherZone).Scan(&reported, &resolved); err != nil || reported == 0 || resolved == 0 {
		t.Fatalf("seeded tickets whose UTC and %s days differ: reported %d, resolved %d, %v", otherZone, reported, resolved, err)
	}
	var owner string
	if err := db.Pool.QueryRow(ctx, `SELECT current_user`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	reader, _ := readerFromFile(t, db, owner)

	type column struct{ view, name, typ string }
	rows, err := reader.Query(ctx, `SELECT table_name::text, column_name::text, data_type::text
		FROM information_schema.columns WHERE table_schema = 'analytics' ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		return c, r.Scan(&c.view, &c.name, &c.typ)
	})
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]bool{}
	for _, c := range cols {
		views[c.view] = true
	}
	for _, v := range []string{"backlog_daily", "resolution_times", "by_game", "by_console", "by_emulator",
		"by_developer", "reopened", "open_tickets"} {
		if !views[v] {
			t.Errorf("the reader does not see analytics.%s", v)
		}
	}

	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	likeEscape := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	asciiUpper := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' {
				return r - 'a' + 'A'
			}
			return r
		}, s)
	}
	count := func(sql string) int64 {
		t.Helper()
		var n int64
		if err := reader.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Errorf("%s: %v", sql, err)
			return -1
		}
		return n
	}
	for _, c := range cols {
		from := "analytics." + pgx.Identifier{c.view}.Sanitize()
		col := pgx.Identifier{c.name}.Sanitize()
		total := count("SELECT count(*) FROM " + from)
		for _, dir := range []string{"ASC", "DESC NULLS LAST"} {
			n := count(fmt.Sprintf("SELECT count(*) FROM (SELECT * FROM %s ORDER BY %s %s LIMIT 5) q", from, col, dir))
			if n != min(total, 5) {
				t.Errorf("%s ORDER BY %s %s LIMIT 5: %d rows of %d", c.view, c.name, dir, n, total)
			}
		}
		switch c.typ {
		case "bigint", "integer", "double precision", "numeric", "boolean", "text", "date", "timestamp without time zone":
		default:
			t.Errorf("%s.%s is %s: BI tools want text, numbers, booleans, date or timestamp (UTC)", c.view, c.name, c.typ)
		}
		// Enums and timestamptz get the text and the time checks too: those
		// are what they fail.
		switch c.typ {
		case "text", "USER-DEFINED":
			// The most common value; a column the seed leaves NULL
			// everywhere still gets the same filters, matching nothing.
			sample, found := "absent", true
			if err := reader.QueryRow(ctx, fmt.Sprintf(`SELECT %[1]s FROM %[2]s WHERE %[1]s IS NOT NULL
				GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`, col, from)).Scan(&sample); errors.Is(err, pgx.ErrNoRows) {
				t.Logf("%s.%s is NULL in every seeded row", c.view, c.name)
				found = false
			} else if err != nil {
				t.Fatalf("%s.%s: %v", c.view, c.name, err)
			}
			where := func(cond string) int64 {
				return count(fmt.Sprintf("SELECT count(*) FROM %s WHERE %s %s", from, col, cond))
			}
			eq := where("= " + lit(sample))
			if found && eq < 1 || !found && eq != 0 {
				t.Errorf("%s.%s = %q: %d rows", c.view, c.name, sample, eq)
			}
			runes := []rune(sample)
			first, last := string(runes[:1]), string(runes[len(runes)-1:])
			checks := []struct {
				cond string
				ok   func(int64) bool
			}{
				{"= 'no such value'", func(n int64) bool { return n == 0 }},
				{"IN (" + lit(sample) + ", 'no such value')", func(n int64) bool { return n == eq }},
				{"NOT IN ('no such value')", func(n int64) bool { return n >= eq }},
				{"LIKE " + lit(likeEscape.Replace(sample)), func(n int64) bool { return n == eq }},
				{"LIKE " + lit(likeEscape.Replace(first)+"%"), func(n int64) bool { return n >= eq }},
				{"ILIKE " + lit(asciiUpper(likeEscape.Replace(sample))), func(n int64) bool { return n >= eq }},
				{"ILIKE " + lit("%"+asciiUpper(likeEscape.Replace(last))), func(n int64) bool { return n >= eq }},
			}
			for _, ch := range checks {
				if n := where(ch.cond); !ch.ok(n) {
					t.Errorf("%s.%s %s: %d rows (= %q: %d)", c.view, c.name, ch.cond, n, sample, eq)
				}
			}
		case "date", "timestamp without time zone", "timestamp with time zone":
			for _, grain := range []string{"day", "week", "month"} {
				// The bucket as the session sees it (its wall clock): the
				// same rows in the same buckets whatever the TimeZone.
				got := sameInZones(t, reader, fmt.Sprintf(`SELECT to_char(b, 'YYYY-MM-DD HH24:MI:SS') AS bucket, n
					FROM (SELECT date_trunc(%s, %s) AS b, count(*) AS n FROM %s GROUP BY 1) g ORDER BY 1`,
					lit(grain), col, from))
				if total > 0 && len(got) == 0 {
					t.Errorf("%s.%s by %s: no buckets", c.view, c.name, grain)
				}
			}
			sameInZones(t, reader, fmt.Sprintf(`SELECT count(*) FILTER (WHERE %[1]s >= '2024-03-10 06:30') AS after,
				count(*) FILTER (WHERE %[1]s::date = '2024-03-10') AS on_day FROM %[2]s`, col, from))
		}
	}
	// Whole views, row by row: the same in both sessions.
	for v := range views {
		sameInZones(t, reader, "SELECT * FROM analytics."+pgx.Identifier{v}.Sanitize()+" ORDER BY 1, 2")
	}
}
