package load

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/migrations"
)

// Migrator applies the embedded migrations with goose's Provider API. A
// Postgres session lock (MigrationLockID) serialises concurrent migrators.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
	log      zerolog.Logger
}

// NewMigrator returns a Migrator over pool. Close it when done.
func NewMigrator(pool *pgxpool.Pool, log zerolog.Logger) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(MigrationLockID))
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("load: migrations: %w", err)
	}
	return &Migrator{db: db, provider: p, log: log.With().Str("stage", "migrate").Logger()}, nil
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration and returns how many were applied. A
// database whose schema is newer than this binary is refused
// (*SchemaTooNewError): goose would see nothing to apply.
func (m *Migrator) Up(ctx context.Context) (int, error) {
	current, latest, err := m.Versions(ctx)
	if err != nil {
		return 0, err
	}
	if current > latest {
		return 0, &SchemaTooNewError{Database: current, Binary: latest}
	}
	res, err := m.provider.Up(ctx)
	return len(res), m.logged("up", res, err)
}

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context) error {
	res, err := m.provider.Down(ctx)
	if res == nil {
		return m.logged("down", nil, err)
	}
	return m.logged("down", []*goose.MigrationResult{res}, err)
}

// DownTo rolls back every migration newer than version (0 = all).
func (m *Migrator) DownTo(ctx context.Context, version int64) error {
	res, err := m.provider.DownTo(ctx, version)
	return m.logged(fmt.Sprintf("down to %d", version), res, err)
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt string
}

// Status lists every known migration.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("load: migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		ms := MigrationStatus{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
		if ms.Applied {
			ms.AppliedAt = s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		out = append(out, ms)
	}
	return out, nil
}

// Versions returns the database's schema version and the newest version this
// binary knows.
func (m *Migrator) Versions(ctx context.Context) (current, latest int64, err error) {
	current, latest, err = m.provider.GetVersions(ctx)
	return current, latest, wrapErr("load: schema version", err)
}

// logged logs each migration's result and returns err, saying what failed.
func (m *Migrator) logged(what string, res []*goose.MigrationResult, err error) error {
	for _, r := range res {
		ev := m.log.Info()
		if r.Error != nil {
			ev = m.log.Error().Err(r.Error)
		}
		ev.Str("direction", r.Direction).Int64("version", r.Source.Version).
			Str("file", r.Source.Path).Dur("duration", r.Duration).Msg("migration applied")
	}
	return wrapErr("load: migrate "+what, err)
}

// MigrationLockID is the advisory lock id migrations run under: ratickets'
// own, not goose's default, so that another application migrated with goose
// on the same database does not wait for ratickets, nor it for them.
const MigrationLockID int64 = 0x7261_746d_6967 // "ratmig"

// ErrSchemaTooNew matches the error for a database whose schema is newer
// than this binary (*SchemaTooNewError).
var ErrSchemaTooNew = errors.New("the database schema is newer than this binary")

// SchemaTooNewError is a database migrated by a newer ratickets: this binary
// does not know what its schema means, and refuses to use it.
type SchemaTooNewError struct {
	Database, Binary int64
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("load: the database schema is at version %d, newer than this binary's %d: "+
		"run the ratickets that migrated it (or a newer one)", e.Database, e.Binary)
}

// Is makes errors.Is(err, ErrSchemaTooNew) true.
func (e *SchemaTooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// SchemaVersion is the number of this binary's last migration.
func SchemaVersion() int64 { return schemaVersion }

var schemaVersion = func() int64 {
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		panic(err)
	}
	var v int64
	for _, n := range names {
		if nv, err := goose.NumericComponent(n); err == nil {
			v = max(v, nv)
		}
	}
	return v
}()

// CheckSchema returns a *SchemaTooNewError when the database's schema is
// newer than this binary. A database never migrated passes (the run then
// fails on the missing tables, or migrates first).
func (s *Store) CheckSchema(ctx context.Context) error {
	var current int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&current)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == sqlstateUndefinedTable {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load: schema version: %w", err)
	}
	if current > schemaVersion {
		return &SchemaTooNewError{Database: current, Binary: schemaVersion}
	}
	return nil
}
