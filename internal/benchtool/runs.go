package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// bench runs the measurements; each returns one run's sample.
type bench struct {
	c    config
	dbs  *databases
	rows *os.File // the first run's tickets rows (binary COPY): the ceiling's input
}

// sample is one run's measurement; extra holds the simulator's request
// counts by kind and the binary's "rss_mib".
type sample struct {
	rows    int64
	seconds float64
	extra   map[string]float64
}

func (s sample) rate() float64 { return float64(s.rows) / s.seconds }

// run runs the binary with args on db against w and checks that tickets
// then holds want rows.
func (b *bench) run(ctx context.Context, db *database, w *world, want int, args ...string) (sample, error) {
	before := w.srv.Requests()
	c, err := runBinary(ctx, b.c.bin, db.url, w, args...)
	if err != nil {
		return sample{}, err
	}
	extra := w.requestsSince(before)
	extra["rss_mib"] = c.rssMiB
	n, err := db.count(ctx, "tickets")
	if err != nil {
		return sample{}, err
	}
	if n != int64(want) {
		return sample{}, fmt.Errorf("%s stored %d tickets, want %d:\n%s", args[0], n, want, c.out)
	}
	return sample{rows: n, seconds: c.seconds, extra: extra}, b.keepRows(ctx, db)
}

// syncRun syncs w into an empty database and, with quiet, syncs again with
// nothing changed.
func (b *bench) syncRun(ctx context.Context, w *world, quiet bool) (first, second sample, err error) {
	db, err := b.dbs.create(ctx)
	if err != nil {
		return first, second, err
	}
	defer b.dbs.drop(db)
	if first, err = b.run(ctx, db, w, w.open, "sync"); err != nil || !quiet {
		return first, second, err
	}
	if err = b.dbs.checkpoint(ctx); err != nil {
		return first, second, err
	}
	second, err = b.run(ctx, db, w, w.open, "sync")
	return first, second, err
}

// backfillRun backfills every game of w (`backfill --games`) into an empty
// database.
func (b *bench) backfillRun(ctx context.Context, w *world) (sample, error) {
	db, err := b.dbs.create(ctx)
	if err != nil {
		return sample{}, err
	}
	defer b.dbs.drop(db)
	ids := make([]string, len(w.games))
	for i, g := range w.games {
		ids[i] = strconv.FormatInt(g, 10)
	}
	return b.run(ctx, db, w, w.total, "backfill", "--games", strings.Join(ids, ","))
}

// keepRows keeps the first run's tickets rows, as the table holds them, for
// the ceiling.
func (b *bench) keepRows(ctx context.Context, db *database) error {
	if b.rows != nil {
		return nil
	}
	f, err := os.CreateTemp("", "benchtool-rows-*")
	if err != nil {
		return err
	}
	_ = os.Remove(f.Name()) // kept open until the tool exits
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().CopyTo(ctx, f, "COPY tickets TO STDOUT (FORMAT binary)"); err != nil {
		return fmt.Errorf("keep rows: %w", err)
	}
	b.rows = f
	return nil
}

// ceiling is the fastest way in: one binary COPY of the kept rows into an
// empty table LIKE tickets INCLUDING ALL (same columns, constraints and
// indexes) of a fresh database.
func (b *bench) ceiling(ctx context.Context) (sample, error) {
	db, err := b.dbs.create(ctx)
	if err != nil {
		return sample{}, err
	}
	defer b.dbs.drop(db)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return sample{}, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "CREATE TABLE ceiling (LIKE tickets INCLUDING ALL)"); err != nil {
		return sample{}, err
	}
	if _, err := b.rows.Seek(0, io.SeekStart); err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, b.rows, "COPY ceiling FROM STDIN (FORMAT binary)")
	if err != nil {
		return sample{}, fmt.Errorf("ceiling: %w", err)
	}
	return sample{rows: tag.RowsAffected(), seconds: time.Since(t0).Seconds()}, nil
}
