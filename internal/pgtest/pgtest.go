package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/load"
)

var shared struct {
	once     sync.Once
	err      error
	server   *Server // nil when TEST_DATABASE_URL is used
	adminURL string  // URL of a database to run CREATE DATABASE from
	template string  // migrated template database, one per test binary
	seq      atomic.Int64
}

// Main runs a package's tests and then stops the server the harness started,
// if any. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	if shared.template != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_ = DropDB(ctx, shared.adminURL, shared.template)
		cancel()
	}
	if shared.server != nil {
		_ = shared.server.Close()
	}
	return code
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		shared.adminURL = u
	} else {
		s, err := StartServer(ctx)
		if err != nil {
			return err
		}
		shared.server = s
		shared.adminURL = s.URL("postgres")
	}
	shared.template = fmt.Sprintf("ratickets_tmpl_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	u, err := CreateDB(ctx, shared.adminURL, shared.template, "")
	if err != nil {
		return err
	}
	return Migrate(ctx, u)
}

// CreateDB creates database name on the server of adminURL, a copy of
// template ("" for the server's default), and returns its URL. Tests use
// NewDB.
func CreateDB(ctx context.Context, adminURL, name, template string) (string, error) {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	return withDB(adminURL, name), adminExec(ctx, adminURL, sql)
}

// DropDB drops database name, if it exists, disconnecting its sessions.
func DropDB(ctx context.Context, adminURL, name string) error {
	return adminExec(ctx, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func adminExec(ctx context.Context, adminURL, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Migrate applies every migration to the database at url.
func Migrate(ctx context.Context, url string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := load.NewMigrator(pool, zerolog.Nop())
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.Up(ctx); err != nil {
		return fmt.Errorf("pgtest: migrate: %w", err)
	}
	return nil
}

// withDB replaces the database name in a postgres:// URL or a key=value DSN.
func withDB(dsn, db string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	return strings.TrimSpace(dsn) + " dbname=" + db
}

// fail fails the test, or skips it when the PostgreSQL binaries are missing
// outside CI.
func fail(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrNoPostgres) && os.Getenv("CI") == "" {
		t.Skip(err.Error())
	}
	t.Fatal(err)
}

// DB is one test's own database.
type DB struct {
	Name string
	URL  string
	Pool *pgxpool.Pool
}

// NewDB creates a database for this test, with every migration applied,
// and drops it when the test ends.
func NewDB(t testing.TB) *DB { return newDB(t, true) }

// NewEmptyDB creates a database for this test with no migration applied.
func NewEmptyDB(t testing.TB) *DB { return newDB(t, false) }

func newDB(t testing.TB, migrated bool) *DB {
	t.Helper()
	shared.once.Do(func() { shared.err = setup() })
	if shared.err != nil {
		fail(t, shared.err)
	}
	ctx := context.Background()
	name := fmt.Sprintf("%s_t%d", shared.template, shared.seq.Add(1))
	tmpl := shared.template
	if !migrated {
		tmpl = "template0"
	}
	u, err := CreateDB(ctx, shared.adminURL, name, tmpl)
	if err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = DropDB(ctx, shared.adminURL, name)
	})
	return &DB{Name: name, URL: u, Pool: pool}
}

// NewServer starts a server of the test's own (for tests that stop and
// restart Postgres) and stops it when the test ends. It is not migrated.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(context.Background())
	if err != nil {
		fail(t, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
