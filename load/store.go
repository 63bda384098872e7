package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// lockKey is the Postgres advisory lock every writing run (sync, backfill,
// each run of serve) holds, so that two runs never interleave. The value is
// arbitrary but fixed: changing it lets old and new binaries run together.
const lockKey int64 = 0x7261_7469_636b // "ratick"

// Store writes tickets and run bookkeeping to Postgres.
type Store struct {
	pool *pgxpool.Pool
	log  zerolog.Logger
}

// New returns a Store over pool.
func New(pool *pgxpool.Pool, log zerolog.Logger) *Store {
	return &Store{pool: pool, log: log.With().Str("stage", "load").Logger()}
}

// Pool returns the store's pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Lock is a held advisory lock; it lives on one dedicated connection,
// whose session must stay alive for as long as the run writes.
type Lock struct{ conn *pgxpool.Conn }

// ErrLockLost fails a run whose lock session ended (killed by a DBA, cut by
// a proxy or a network failure): another run may hold the lock by now, so
// the run must not write anything more.
var ErrLockLost = errors.New("load: the run lost its advisory lock (its database session ended)")

// Check asks the lock's own session whether it still holds the lock:
// ErrLockLost (wrapping the cause) when that session is gone or no longer
// holds it. A nil Lock always passes. Not safe for concurrent use.
func (l *Lock) Check(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if l.conn == nil {
		return ErrLockLost
	}
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
		AND pid = pg_backend_pid() AND granted AND objsubid = 1
		AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid)`, lockKey).Scan(&held)
	switch {
	case err != nil && ctx.Err() != nil:
		return err // cancelled: not a lost lock
	case err != nil:
		return fmt.Errorf("%w: %w", ErrLockLost, err)
	case !held:
		return ErrLockLost
	}
	return nil
}

// Release unlocks and ends the lock's session (and its lockSessionSQL
// settings). It is safe to call on a nil Lock and more than once.
func (l *Lock) Release() {
	if l == nil || l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Unlock first: the server frees a closed session's locks only once its
	// backend has exited, which the next run could race.
	_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey)
	_ = l.conn.Conn().Close(ctx)
	l.conn.Release() // the pool drops a closed connection
	l.conn = nil
}

// lockSessionSQL keeps the lock's session, idle between checks for as long
// as a run takes, from being ended: the server's TCP keepalives probe it
// every minute, so that a vanished peer is noticed and a NAT or proxy does
// not drop it as idle (no-ops on a Unix socket), and idle_session_timeout
// (PostgreSQL 14 on; older servers have none) is off.
const lockSessionSQL = `SET tcp_keepalives_idle = 60; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 6;
DO $$ BEGIN SET idle_session_timeout = 0; EXCEPTION WHEN undefined_object THEN NULL; END $$`

// TryLock takes the writers' advisory lock without waiting. ok is false when
// another run holds it.
func (s *Store) TryLock(ctx context.Context) (lock *Lock, ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("load: connect: %w", err)
	}
	defer func() {
		if !ok {
			conn.Release()
		}
	}()
	if _, err := conn.Exec(ctx, lockSessionSQL); err != nil {
		return nil, false, fmt.Errorf("load: lock session: %w", err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey).Scan(&ok); err != nil || !ok {
		return nil, false, wrapErr("load: advisory lock", err)
	}
	return &Lock{conn: conn}, true, nil
}

// Run kinds and statuses, as in sync_runs.
const (
	KindSync     = "sync"
	KindBackfill = "backfill"

	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	StatusAbandoned = "abandoned"
)

// StartRun records a new run. Call it while holding the lock: any other row
// still 'running' then belongs to a process that died, and is marked
// 'abandoned'. It returns the new run's id and how many were abandoned.
func (s *Store) StartRun(ctx context.Context, kind, version string) (runID int64, abandoned int64, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sync_runs SET status = 'abandoned', finished_at = now(),
			error = 'the process ended before the run finished (killed, crashed or lost its database)'
			WHERE status = 'running'`)
		if err != nil {
			return err
		}
		abandoned = tag.RowsAffected()
		return tx.QueryRow(ctx, `INSERT INTO sync_runs (kind, version) VALUES ($1, $2) RETURNING id`,
			kind, version).Scan(&runID)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load: start run: %w", err)
	}
	return runID, abandoned, nil
}

// SetRunAPI records the API a run uses ("v1" or "v2") in sync_runs.api.
func (s *Store) SetRunAPI(ctx context.Context, runID int64, api string) error {
	_, err := s.pool.Exec(ctx, `UPDATE sync_runs SET api = $2 WHERE id = $1`, runID, api)
	return wrapErr("load: record the run's API", err)
}

// MaxTicketID is the highest ticket id in the database (0 when empty).
func (s *Store) MaxTicketID(ctx context.Context) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM tickets`).Scan(&id)
	return id, wrapErr("load: highest ticket id", err)
}

// Progress is the run's running totals of API traffic, written with each
// batch so that even a failed run's row says what it did.
type Progress struct {
	Requests, Retries, Pages int64
}

// RunResult is what FinishRun records.
type RunResult struct {
	Status       string
	Error        string // already redacted by the caller
	Progress     Progress
	ScanComplete bool
	Reconciled   int64
	Vanished     int64
	NotFound     int64
	// Snapshot, when non-nil, adds a row to open_ticket_snapshots.
	Snapshot *Snapshot
}

// Snapshot is one point of the backlog time series.
type Snapshot struct {
	APIOpenTickets *int64
	SeenOpen       int64
	SeenRequest    int64
}

// FinishRun records the end of a run. It uses a context that ignores
// cancellation, so that an interrupted run is still recorded.
func (s *Store) FinishRun(ctx context.Context, runID int64, r RunResult) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var apiOpen *int64
	if r.Snapshot != nil {
		apiOpen = r.Snapshot.APIOpenTickets
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE sync_runs SET status = $2, error = nullif($3, ''), finished_at = now(),
			requests = $4, retries = $5, pages = $6, scan_complete = $7,
			reconciled = $8, vanished = $9, not_found = $10,
			api_open_tickets = $11
			WHERE id = $1`,
			runID, r.Status, sanitizeText(r.Error), r.Progress.Requests, r.Progress.Retries, r.Progress.Pages,
			r.ScanComplete, r.Reconciled, r.Vanished, r.NotFound, apiOpen); err != nil || r.Snapshot == nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO open_ticket_snapshots (run_id, taken_at, api_open_tickets, seen_open, seen_request)
			VALUES ($1, now(), $2, $3, $4)`, runID, apiOpen, r.Snapshot.SeenOpen, r.Snapshot.SeenRequest)
		return err
	})
	return wrapErr(fmt.Sprintf("load: finish run %d", runID), err)
}

// ReconcileCandidates returns, in id order, the ids of tickets the database
// holds as open or request that the open-list scan of runID did not see.
// Left out are vanished tickets whose last lookup is not older than recheck
// (a ticket can come back; recheck <= 0: never looked up again), and,
// unless withUnofficial, tickets marked unofficial: v1's open list never
// shows them (see MarkUnofficial), v2's does. A ticket the scan saw is
// official whatever a game backfill said before (its achievement was
// promoted): its unofficial mark is removed first.
func (s *Store) ReconcileCandidates(ctx context.Context, runID int64, recheck time.Duration, withUnofficial bool) ([]int64, error) {
	var ids []int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM unofficial_tickets u USING ticket_sightings s
			WHERE s.ticket_id = u.ticket_id AND s.last_listed_run_id = $1`, runID); err != nil {
			return err
		}
		var after *time.Duration
		if recheck > 0 {
			after = &recheck
		}
		rows, _ := tx.Query(ctx, `SELECT t.id FROM tickets t
			LEFT JOIN ticket_sightings s ON s.ticket_id = t.id
			WHERE t.report_state IN ('open', 'request')
			  AND s.last_listed_run_id IS DISTINCT FROM $1
			  AND (t.vanished_at IS NULL
			       OR greatest(t.vanished_at, s.vanished_checked_at) <= now() - $2::interval)
			  AND ($3 OR NOT EXISTS (SELECT 1 FROM unofficial_tickets u WHERE u.ticket_id = t.id))
			ORDER BY t.id`, runID, after, withUnofficial)
		var err error
		ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		return err
	})
	return ids, wrapErr("load: reconcile candidates", err)
}

// MarkUnofficial records what a game's list says of these tickets: with
// unofficial set they came from its unofficial list (f=5) and can never
// appear in the open list; otherwise from its official list, and any earlier
// mark is removed. Marks do not need the tickets to be stored yet: the
// backfill writes them as soon as it reads a page.
func (s *Store) MarkUnofficial(ctx context.Context, runID int64, unofficial bool, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var err error
	if unofficial {
		_, err = s.pool.Exec(ctx, `INSERT INTO unofficial_tickets (ticket_id, run_id, marked_at)
			SELECT id, $2, now() FROM unnest($1::bigint[]) AS id
			ON CONFLICT (ticket_id) DO UPDATE SET run_id = EXCLUDED.run_id, marked_at = EXCLUDED.marked_at`, ids, runID)
	} else {
		_, err = s.pool.Exec(ctx, `DELETE FROM unofficial_tickets WHERE ticket_id = ANY($1)`, ids)
	}
	return wrapErr("load: mark unofficial tickets", err)
}

// MarkVanished sets vanished_at on tickets the source answered not found
// for (already vanished ones keep theirs; states stay), adds the matching
// history versions, and records the lookup's time for every id
// (ticket_sightings.vanished_checked_at), which schedules the next one. It
// returns how many tickets were newly marked.
func (s *Store) MarkVanished(ctx context.Context, runID int64, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, markVanishedSQL, ids, runID).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE ticket_sightings SET vanished_checked_at = now()
			WHERE ticket_id = ANY($1)`, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE sync_runs SET vanished = vanished + $2 WHERE id = $1`, runID, n)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("load: mark vanished: %w", err)
	}
	return n, nil
}

// Checkpoint is where a backfill got to. Position is any JSON value the
// backfill understands.
type Checkpoint struct {
	Name     string
	Position json.RawMessage
	Done     bool
}

// GetCheckpoint returns the named checkpoint, if found.
func (s *Store) GetCheckpoint(ctx context.Context, name string) (cp Checkpoint, found bool, err error) {
	cp.Name = name
	err = s.pool.QueryRow(ctx, `SELECT position, done FROM backfill_checkpoints WHERE name = $1`, name).
		Scan(&cp.Position, &cp.Done)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, false, nil
	}
	return cp, err == nil, wrapErr(fmt.Sprintf("load: checkpoint %q", name), err)
}

// GameIDs returns every game id in the database, ascending.
func (s *Store) GameIDs(ctx context.Context) ([]int64, error) {
	rows, _ := s.pool.Query(ctx, `SELECT DISTINCT game_id FROM tickets WHERE game_id IS NOT NULL ORDER BY game_id`)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	return ids, wrapErr("load: game ids", err)
}

// LastSuccess returns when the last successful sync finished (nil: never).
func (s *Store) LastSuccess(ctx context.Context) (*time.Time, error) {
	var last *time.Time
	err := s.pool.QueryRow(ctx,
		`SELECT max(finished_at) FROM sync_runs WHERE kind = 'sync' AND status = 'succeeded'`).Scan(&last)
	return last, wrapErr("load: last successful sync", err)
}

// logger prefers a logger the caller put in ctx (it carries run_id).
func (s *Store) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		sub := l.With().Str("stage", "load").Logger()
		return &sub
	}
	return &s.log
}

// sanitizeText makes s storable as Postgres text: no NUL, valid UTF-8.
func sanitizeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// wrapErr prefixes a failure with what failed; nil stays nil.
func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// TimeoutError is a statement PostgreSQL ended because its lock_timeout or
// statement_timeout ran out. It says which, with the value the pool set,
// and what to change.
type TimeoutError struct {
	Setting string // "lock_timeout" or "statement_timeout"
	Value   string // as the pool sets it; empty when the server's default applies
	Err     error
}

func (e *TimeoutError) Error() string {
	value := ""
	if e.Value != "" {
		value = " (" + e.Value + ")"
	}
	flag := "--" + strings.ReplaceAll(e.Setting, "_", "-")
	env := "RATICKETS_" + strings.ToUpper(e.Setting)
	what := "a statement waited that long for a lock another session holds (see pg_locks)"
	if e.Setting == "statement_timeout" {
		what = "a statement ran that long (or waited that long for a lock another session holds), or an administrator cancelled it"
	}
	return fmt.Sprintf("PostgreSQL's %s%s ran out: %s; raise %s (%s) or end what blocks it: %v",
		e.Setting, value, what, flag, env, e.Err)
}

func (e *TimeoutError) Unwrap() error { return e.Err }

// ExplainTimeout returns err as a *TimeoutError when PostgreSQL ended one
// of its statements for lock_timeout or statement_timeout, and as it is
// otherwise. Call it only while the run's context is live: a cancelled
// context cancels its statement with statement_timeout's SQLSTATE.
func (s *Store) ExplainTimeout(err error) error {
	var pgErr *pgconn.PgError
	var te *TimeoutError
	if err == nil || errors.As(err, &te) || !errors.As(err, &pgErr) {
		return err
	}
	setting := map[string]string{
		sqlstateLockNotAvailable: "lock_timeout",
		sqlstateQueryCanceled:    "statement_timeout",
	}[pgErr.Code]
	if setting == "" {
		return err
	}
	return &TimeoutError{Setting: setting, Value: s.pool.Config().ConnConfig.RuntimeParams[setting], Err: err}
}

// SQLSTATE codes ratickets branches on.
const (
	sqlstateUndefinedTable   = "42P01"
	sqlstateLockNotAvailable = "55P03" // lock_timeout
	sqlstateQueryCanceled    = "57014" // statement_timeout, or a cancel request
)
