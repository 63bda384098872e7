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

// bench runs the measurements; each returns its runs' samples.
type bench struct {
	c    config
	dbs  *databases
	rows *os.File // the first run's tickets rows (binary COPY): the ceiling's input
}

// results holds every run of each figure.
type results struct {
	ceiling, syncNew, syncSame, backfill, rssSmall []sample
	requests                                       []figure
}

// rounds runs every wanted figure once per round, -runs rounds, so that a
// noisy neighbour slows every figure of a round alike; each round measures
// its own COPY ceiling for the ratios. The samples go into r.
func (b *bench) rounds(ctx context.Context, r *results, logf func(string, ...any)) error {
	c := b.c
	defer func() {
		if b.rows != nil {
			_ = b.rows.Close()
		}
	}()
	large := startWorld(c.tickets, c.seed)
	defer large.hs.Close()
	logf("simulator of %d tickets (%d open, %d games) at %s", large.total, large.open, len(large.games), large.hs.URL)
	var small *world
	if c.want("rss") {
		small = startWorld(c.small, c.seed)
		defer small.hs.Close()
	}
	sync := []string{"sync"}
	games := make([]string, len(large.games))
	for i, g := range large.games {
		games[i] = strconv.FormatInt(g, 10)
	}
	backfill := []string{"backfill", "--games", strings.Join(games, ",")}
	for round := 1; round <= c.runs; round++ {
		if c.want("sync") || c.want("rss") {
			ss, err := b.runs(ctx, large, sync, sync) // the second: nothing changed
			if err != nil {
				return fmt.Errorf("sync: %w", err)
			}
			r.syncNew, r.syncSame = append(r.syncNew, ss[0]), append(r.syncSame, ss[1])
			logf("round %d: sync new %.0f rows/s (%.1f MiB), unchanged %.0f rows/s", round, ss[0].rate(), ss[0].extra["rss_mib"], ss[1].rate())
		}
		if c.want("backfill") {
			ss, err := b.runs(ctx, large, backfill)
			if err != nil {
				return fmt.Errorf("backfill: %w", err)
			}
			r.backfill = append(r.backfill, ss[0])
			logf("round %d: backfill %.0f rows/s", round, ss[0].rate())
		}
		if b.rows != nil {
			s, err := b.ceiling(ctx)
			if err != nil {
				return err
			}
			r.ceiling = append(r.ceiling, s)
			logf("round %d: copy ceiling %.0f rows/s", round, s.rate())
		}
		if c.want("rss") {
			ss, err := b.runs(ctx, small, sync)
			if err != nil {
				return fmt.Errorf("sync small: %w", err)
			}
			r.rssSmall = append(r.rssSmall, ss[0])
			logf("round %d: sync of %d: %.1f MiB", round, c.small, ss[0].extra["rss_mib"])
		}
	}
	return nil
}

// sample is one run's measurement; extra holds the simulator's request
// counts by kind and the binary's "rss_mib".
type sample struct {
	rows    int64
	seconds float64
	extra   map[string]float64
}

func (s sample) rate() float64 { return float64(s.rows) / s.seconds }

// runs runs the binary once per command, in turn, into one fresh database
// against w, with a checkpoint before each, and checks after each that
// tickets holds what the command sees: the open tickets for a sync, all of
// them for a backfill.
func (b *bench) runs(ctx context.Context, w *world, commands ...[]string) ([]sample, error) {
	db, err := b.dbs.create(ctx)
	if err != nil {
		return nil, err
	}
	defer b.dbs.drop(db)
	var ss []sample
	for _, args := range commands {
		if err := b.dbs.checkpoint(ctx); err != nil {
			return nil, err
		}
		before := w.srv.Requests()
		c, err := runBinary(ctx, b.c.bin, db.url, w, args...)
		if err != nil {
			return nil, err
		}
		s := sample{seconds: c.seconds, extra: w.requestsSince(before)}
		s.extra["rss_mib"] = c.rssMiB
		if err := db.conn.QueryRow(ctx, "SELECT count(*) FROM tickets").Scan(&s.rows); err != nil {
			return nil, err
		}
		want := int64(w.total)
		if args[0] == "sync" {
			want = int64(w.open)
		}
		if s.rows != want {
			return nil, fmt.Errorf("%s stored %d tickets, want %d:\n%s", args[0], s.rows, want, c.out)
		}
		if err := b.keepRows(ctx, db); err != nil {
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, nil
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
	if _, err := db.conn.PgConn().CopyTo(ctx, f, "COPY tickets TO STDOUT (FORMAT binary)"); err != nil {
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
	if _, err := db.conn.Exec(ctx, "CREATE TABLE ceiling (LIKE tickets INCLUDING ALL)"); err != nil {
		return sample{}, err
	}
	if err := b.dbs.checkpoint(ctx); err != nil {
		return sample{}, err
	}
	if _, err := b.rows.Seek(0, io.SeekStart); err != nil {
		return sample{}, err
	}
	t0 := time.Now()
	tag, err := db.conn.PgConn().CopyFrom(ctx, b.rows, "COPY ceiling FROM STDIN (FORMAT binary)")
	if err != nil {
		return sample{}, fmt.Errorf("ceiling: %w", err)
	}
	return sample{rows: tag.RowsAffected(), seconds: time.Since(t0).Seconds()}, nil
}
