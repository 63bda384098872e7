package load_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func ptr[T any](v T) *T { return &v }

func ticket(id int64, state transform.ReportState, code int16) transform.Ticket {
	raw, _ := json.Marshal(map[string]any{"ID": id, "ReportState": code})
	return transform.Ticket{
		ID:               id,
		AchievementID:    ptr(int64(1000 + id)),
		AchievementTitle: ptr(fmt.Sprintf("Achievement %d", id)),
		Points:           ptr(int32(5)),
		GameID:           ptr(int64(7)),
		ConsoleName:      ptr("Mega Drive"),
		ReportedAt:       time.Date(2024, 1, 10, 22, 31, 54, 0, time.UTC).Add(time.Duration(id) * time.Minute),
		ReportType:       transform.TypeDidNotTrigger,
		ReportTypeCode:   2,
		ReportState:      state,
		ReportStateCode:  code,
		Hardcore:         ptr(true),
		ReportNotes:      ptr("notes ✓ \"quoted\" \\ back"),
		Raw:              raw,
	}
}

func newStore(t *testing.T) (*load.Store, *pgxpool.Pool) {
	t.Helper()
	db := pgtest.NewDB(t)
	return load.New(db.Pool, zerolog.New(zerolog.NewTestWriter(t))), db.Pool
}

func startRun(t *testing.T, s *load.Store) int64 {
	t.Helper()
	id, _, err := s.StartRun(context.Background(), load.KindSync, "test")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func queryInt(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	ctx := context.Background()
	m, err := load.NewMigrator(db.Pool, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n, err := m.Up(ctx)
	if err != nil || n == 0 {
		t.Fatalf("up: applied %d, err %v", n, err)
	}
	cur, latest, err := m.Versions(ctx)
	if err != nil || cur != latest {
		t.Fatalf("versions after up: %d/%d %v", cur, latest, err)
	}
	if err := m.DownTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, db.Pool, `SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tablename='tickets'`); got != 0 {
		t.Fatalf("tickets table still there after down to 0")
	}
	if n2, err := m.Up(ctx); err != nil || n2 != n {
		t.Fatalf("second up: applied %d (want %d), err %v", n2, n, err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if !s.Applied {
			t.Errorf("migration %d not applied", s.Version)
		}
	}
}

func TestMergeInsertThenNoop(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run1 := startRun(t, s)
	batch := []transform.Ticket{ticket(1, transform.StateOpen, 1), ticket(2, transform.StateRequest, 3), ticket(3, transform.StateOpen, 1)}
	c, err := s.Merge(ctx, run1, load.Batch{Tickets: batch, Listed: true})
	if err != nil {
		t.Fatal(err)
	}
	if c != (load.Counts{Inserted: 3}) {
		t.Fatalf("first merge counts = %+v", c)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE valid_to IS NULL AND run_id = $1`, run1); n != 3 {
		t.Fatalf("current history rows = %d, want 3", n)
	}
	var notes string
	if err := pool.QueryRow(ctx, `SELECT report_notes FROM tickets WHERE id = 1`).Scan(&notes); err != nil || notes != *batch[0].ReportNotes {
		t.Fatalf("notes round trip: %q %v", notes, err)
	}
	xmin := queryInt(t, pool, `SELECT sum(xmin::text::bigint) FROM tickets`)

	run2 := startRun(t, s)
	c, err = s.Merge(ctx, run2, load.Batch{Tickets: batch, Listed: true})
	if err != nil {
		t.Fatal(err)
	}
	if c != (load.Counts{Unchanged: 3}) {
		t.Fatalf("second merge counts = %+v", c)
	}
	if got := queryInt(t, pool, `SELECT sum(xmin::text::bigint) FROM tickets`); got != xmin {
		t.Fatalf("unchanged merge rewrote ticket rows (xmin sum %d -> %d)", xmin, got)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history`); n != 3 {
		t.Fatalf("history rows after no-op = %d, want 3", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_sightings WHERE last_listed_run_id = $1`, run2); n != 3 {
		t.Fatalf("sightings for run 2 = %d, want 3", n)
	}
	if n := queryInt(t, pool, `SELECT unchanged FROM sync_runs WHERE id = $1`, run2); n != 3 {
		t.Fatalf("sync_runs.unchanged = %d", n)
	}
}

func TestMergeVersionsHistory(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run1 := startRun(t, s)
	if _, err := s.Merge(ctx, run1, load.Batch{Tickets: []transform.Ticket{ticket(1, transform.StateOpen, 1), ticket(2, transform.StateOpen, 1)}}); err != nil {
		t.Fatal(err)
	}
	run2 := startRun(t, s)
	resolved := ticket(1, transform.StateResolved, 2)
	resolved.ResolvedAt = ptr(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC))
	resolved.ResolvedBy = ptr("dev")
	// ticket 2 changes only in a column history does not track: tickets row updates, no new version.
	t2 := ticket(2, transform.StateOpen, 1)
	t2.BadgeName = ptr("12345")
	c, err := s.Merge(ctx, run2, load.Batch{Tickets: []transform.Ticket{resolved, t2, ticket(2, transform.StateOpen, 1), t2}})
	if err != nil {
		t.Fatal(err)
	}
	if c != (load.Counts{Updated: 2}) {
		t.Fatalf("counts = %+v", c)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1`); n != 2 {
		t.Fatalf("ticket 1 versions = %d, want 2", n)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 2`); n != 1 {
		t.Fatalf("ticket 2 versions = %d, want 1", n)
	}
	// contiguous: the old version ends where the new one starts
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history a JOIN ticket_history b
		ON a.ticket_id = b.ticket_id AND a.valid_to = b.valid_from WHERE a.ticket_id = 1`); n != 1 {
		t.Fatalf("versions of ticket 1 are not contiguous")
	}
	var state string
	if err := pool.QueryRow(ctx, `SELECT report_state::text FROM ticket_history WHERE ticket_id = 1 AND valid_to IS NULL`).Scan(&state); err != nil || state != "resolved" {
		t.Fatalf("current state %q %v", state, err)
	}

	// reopen: resolved -> open clears resolved_at/by, as the source does
	run3 := startRun(t, s)
	if _, err := s.Merge(ctx, run3, load.Batch{Tickets: []transform.Ticket{ticket(1, transform.StateOpen, 1)}}); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets WHERE id = 1 AND report_state = 'open' AND resolved_at IS NULL AND resolved_by IS NULL`); n != 1 {
		t.Fatal("reopened ticket not back to open with resolution cleared")
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 1`); n != 3 {
		t.Fatalf("ticket 1 versions = %d, want 3", n)
	}
}

func TestMergeRejectsAndVanish(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	run1 := startRun(t, s)
	_, err := s.Merge(ctx, run1, load.Batch{
		Tickets: []transform.Ticket{ticket(1, transform.StateOpen, 1), ticket(2, transform.StateOpen, 1)},
		Rejects: []load.Reject{{TicketID: ptr(int64(9)), Raw: []byte("{\"ID\":9,\"x\":\"a\x00b\xff\"}"), Reason: "field ReportedAt: invalid timestamp"}},
		Listed:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var raw, reason string
	if err := pool.QueryRow(ctx, `SELECT raw, reason FROM rejected_records WHERE run_id = $1 AND ticket_id = 9`, run1).Scan(&raw, &reason); err != nil {
		t.Fatal(err)
	}
	if raw != "{\"ID\":9,\"x\":\"ab\uFFFD\"}" || reason == "" {
		t.Fatalf("rejected raw %q reason %q", raw, reason)
	}
	run2 := startRun(t, s)
	if _, err := s.Merge(ctx, run2, load.Batch{Tickets: []transform.Ticket{ticket(1, transform.StateOpen, 1)}, Listed: true}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.ReconcileCandidates(ctx, run2, 24*time.Hour, false)
	if err != nil || len(ids) != 1 || ids[0] != 2 {
		t.Fatalf("candidates = %v %v, want [2]", ids, err)
	}
	n, err := s.MarkVanished(ctx, run2, ids)
	if err != nil || n != 1 {
		t.Fatalf("vanished %d %v", n, err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets WHERE id = 2 AND vanished_at IS NOT NULL AND report_state = 'open'`); n != 1 {
		t.Fatal("vanished ticket must keep its state and get vanished_at")
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM ticket_history WHERE ticket_id = 2`); n != 2 {
		t.Fatalf("vanishing should add a version, got %d", n)
	}
	if ids, _ := s.ReconcileCandidates(ctx, run2, 24*time.Hour, false); len(ids) != 0 {
		t.Fatalf("vanished tickets are not candidates again, got %v", ids)
	}
	// It comes back in the list: vanished_at cleared, a version added.
	run3 := startRun(t, s)
	c, err := s.Merge(ctx, run3, load.Batch{Tickets: []transform.Ticket{ticket(2, transform.StateOpen, 1)}, Listed: true})
	if err != nil || c.Updated != 1 {
		t.Fatalf("reappearing merge %+v %v", c, err)
	}
	if n := queryInt(t, pool, `SELECT count(*) FROM tickets WHERE id = 2 AND vanished_at IS NULL`); n != 1 {
		t.Fatal("vanished_at not cleared")
	}
}

func TestLockAndAbandonedRuns(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	l1, ok, err := s.TryLock(ctx)
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	_, ok2, err := s.TryLock(ctx)
	if err != nil || ok2 {
		t.Fatalf("second lock while held: ok=%v err=%v", ok2, err)
	}
	l1.Release()
	l3, ok3, err := s.TryLock(ctx)
	if err != nil || !ok3 {
		t.Fatalf("lock after release: %v %v", ok3, err)
	}
	defer l3.Release()

	stale := startRun(t, s)
	_, abandoned, err := s.StartRun(ctx, load.KindSync, "test")
	if err != nil || abandoned != 1 {
		t.Fatalf("abandoned = %d %v", abandoned, err)
	}
	var status string
	if err := pool.QueryRow(ctx, `SELECT status FROM sync_runs WHERE id = $1`, stale).Scan(&status); err != nil || status != "abandoned" {
		t.Fatalf("stale run status %q %v", status, err)
	}
}

func TestCheckpointWithBatch(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	run := startRun(t, s)
	if _, found, err := s.GetCheckpoint(ctx, "ids"); err != nil || found {
		t.Fatalf("checkpoint before any: %v %v", found, err)
	}
	cp := &load.Checkpoint{Name: "ids", Position: json.RawMessage(`{"next_id": 101}`)}
	if _, err := s.Merge(ctx, run, load.Batch{Tickets: []transform.Ticket{ticket(100, transform.StateResolved, 2)}, Checkpoint: cp}); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.GetCheckpoint(ctx, "ids")
	if err != nil || !found || string(got.Position) != `{"next_id": 101}` || got.Done {
		t.Fatalf("checkpoint = %+v %v %v", got, found, err)
	}
}

// TestMigrationLockIsOurs: goose's migration lock uses ratickets' own
// advisory lock id, so another goose-migrated application holding goose's
// default id on the same database does not stall ratickets' migrations,
// while two ratickets migrators still exclude each other.
func TestMigrationLockIsOurs(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmptyDB(t)
	ctx := context.Background()
	hold := func(id int64) func() {
		t.Helper()
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
			t.Fatal(err)
		}
		return func() {
			_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, id)
			conn.Release()
		}
	}
	m, err := load.NewMigrator(db.Pool, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	release := hold(load.MigrationLockID)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = m.Up(short)
	cancel()
	release()
	if err == nil {
		t.Fatal("migrated while another session held ratickets' migration lock")
	}

	const gooseDefaultLockID = 4097083626 // goose's lock.DefaultLockID
	release = hold(gooseDefaultLockID)
	defer release()
	bounded, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := m.Up(bounded); err != nil {
		t.Fatalf("migrate while another application holds goose's default lock: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("migrating took %s: it waited for goose's default lock", d)
	}
}

// TestSchemaNewerThanBinary: a database migrated by a newer ratickets is
// refused, by the migrator and by the store's check, naming both versions.
func TestSchemaNewerThanBinary(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	ctx := context.Background()
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatalf("current schema refused: %v", err)
	}
	latest := load.SchemaVersion()
	if _, err := pool.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, latest+1); err != nil {
		t.Fatal(err)
	}
	m, err := load.NewMigrator(pool, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, upErr := m.Up(ctx)
	for name, err := range map[string]error{"migrate up": upErr, "check": s.CheckSchema(ctx)} {
		if !errors.Is(err, load.ErrSchemaTooNew) {
			t.Errorf("%s: %v, want ErrSchemaTooNew", name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(latest+1)) || !strings.Contains(msg, fmt.Sprint(latest)) {
			t.Errorf("%s: %q does not name both versions", name, msg)
		}
	}
}
