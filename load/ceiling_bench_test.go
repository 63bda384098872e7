package load_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

// BenchmarkLoad gives the loader figures of BENCHMARKS.md: the simulator's
// open list of RATICKETS_BENCH_TICKETS tickets (default 20,000) merged in
// the pipeline's 5,000-ticket batches, against the fastest way in. Compare
// the rows/s of each merge with copy_ceiling of the same run (benchstat):
//
//	copy_ceiling           one binary COPY of those tickets' rows into an
//	                       empty table LIKE tickets INCLUDING ALL (same
//	                       columns, constraints and indexes)
//	merge_new              every ticket into an empty database (writes
//	                       tickets, ticket_history, ticket_sightings)
//	merge_unchanged        the same tickets again, nothing changed
//	merge_new_without_fks  merge_new without the foreign keys of
//	                       ticket_history and ticket_sightings (a what-if:
//	                       what those checks cost)
//
// Every op starts after a CHECKPOINT, so no op pays for the last one's
// writes. Run it against a server with fsync on for absolute numbers
// (scripts/bench.sh points TEST_DATABASE_URL at one).
func BenchmarkLoad(b *testing.B) {
	n := 20_000
	if s := os.Getenv("RATICKETS_BENCH_TICKETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	tickets := simTickets(b, n)
	ctx := context.Background()

	b.Run("copy_ceiling", func(b *testing.B) {
		db := pgtest.NewDB(b)
		mergeAll(b, load.New(db.Pool, zerolog.Nop()), tickets)
		// The rows as the table holds them, whatever its columns are.
		conn, err := db.Pool.Acquire(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Release()
		rows, err := os.Create(filepath.Join(b.TempDir(), "rows"))
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		if _, err := conn.Conn().PgConn().CopyTo(ctx, rows, "COPY tickets TO STDOUT (FORMAT binary)"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			b.StopTimer()
			sqlExec(b, db, "DROP TABLE IF EXISTS ceiling", "CREATE TABLE ceiling (LIKE tickets INCLUDING ALL)", "CHECKPOINT")
			if _, err := rows.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			tag, err := conn.Conn().PgConn().CopyFrom(ctx, rows, "COPY ceiling FROM STDIN (FORMAT binary)")
			if err != nil || tag.RowsAffected() != int64(len(tickets)) {
				b.Fatalf("copy: %v (%d rows)", err, tag.RowsAffected())
			}
		}
		reportRows(b, len(tickets))
	})
	newDB := func(b *testing.B, fks bool) {
		for b.Loop() {
			b.StopTimer()
			db := pgtest.NewDB(b)
			if !fks {
				sqlExec(b, db, `DO $$ DECLARE c record; BEGIN
					FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
					WHERE contype = 'f' AND conrelid IN ('ticket_history'::regclass, 'ticket_sightings'::regclass) LOOP
						EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
					END LOOP; END $$`)
			}
			sqlExec(b, db, "CHECKPOINT")
			b.StartTimer()
			if c := mergeAll(b, load.New(db.Pool, zerolog.Nop()), tickets); c.Inserted != int64(len(tickets)) {
				b.Fatalf("new merge: %+v", c)
			}
		}
		reportRows(b, len(tickets))
	}
	b.Run("merge_new", func(b *testing.B) { newDB(b, true) })
	b.Run("merge_unchanged", func(b *testing.B) {
		db := pgtest.NewDB(b)
		store := load.New(db.Pool, zerolog.Nop())
		mergeAll(b, store, tickets)
		for b.Loop() {
			b.StopTimer()
			sqlExec(b, db, "CHECKPOINT")
			b.StartTimer()
			if c := mergeAll(b, store, tickets); c.Unchanged != int64(len(tickets)) {
				b.Fatalf("unchanged merge: %+v", c)
			}
		}
		reportRows(b, len(tickets))
	})
	b.Run("merge_new_without_fks", func(b *testing.B) { newDB(b, false) })
}

// mergeAll merges tickets as one sync run does, in the pipeline's batches
// of 5,000 (the one place here that speaks load's batch API).
func mergeAll(b *testing.B, s *load.Store, tickets []transform.Ticket) load.Counts {
	b.Helper()
	ctx := context.Background()
	run, _, err := s.StartRun(ctx, load.KindSync, "bench")
	if err != nil {
		b.Fatal(err)
	}
	var total load.Counts
	for lo := 0; lo < len(tickets); lo += 5000 {
		c, err := s.Merge(ctx, run, load.Batch{Tickets: tickets[lo:min(lo+5000, len(tickets))], Listed: true})
		if err != nil {
			b.Fatal(err)
		}
		total.Add(c)
	}
	return total
}

func sqlExec(b *testing.B, db *pgtest.DB, stmts ...string) {
	b.Helper()
	for _, sql := range stmts {
		if _, err := db.Pool.Exec(context.Background(), sql); err != nil {
			b.Fatalf("%s: %v", sql, err)
		}
	}
}

func reportRows(b *testing.B, perOp int) {
	b.ReportMetric(float64(perOp*b.N)/b.Elapsed().Seconds(), "rows/s")
}
