package main

import (
	"context"
	"fmt"
)

// results holds every run of each figure.
type results struct {
	ceiling, syncNew, syncSame, backfill, rssSmall []sample
	small                                          int // tickets of the small world
	requests                                       *requestFigures
}

// rounds runs every wanted figure once per round, -runs rounds, so that a
// noisy neighbour slows every figure of a round alike; each round measures
// its own COPY ceiling for the ratios. The samples go into r.
func (b *bench) rounds(ctx context.Context, r *results, logf func(string, ...any)) error {
	c := b.c
	large, err := startWorld(c.tickets, c.seed)
	if err != nil {
		return err
	}
	defer large.close()
	logf("simulator of %d tickets (%d open, %d games) at %s", large.total, large.open, len(large.games), large.url)
	var small *world
	if c.want("rss") {
		if small, err = startWorld(c.small, c.seed); err != nil {
			return err
		}
		defer small.close()
	}
	for round := 1; round <= c.runs; round++ {
		if c.want("sync") || c.want("rss") {
			first, second, err := b.syncRun(ctx, large, true)
			if err != nil {
				return fmt.Errorf("sync: %w", err)
			}
			r.syncNew, r.syncSame = append(r.syncNew, first), append(r.syncSame, second)
			logf("round %d: sync new %.0f rows/s (%.1f MiB), unchanged %.0f rows/s", round, first.rate(), first.extra["rss_mib"], second.rate())
		}
		if c.want("backfill") {
			s, err := b.backfillRun(ctx, large)
			if err != nil {
				return fmt.Errorf("backfill: %w", err)
			}
			r.backfill = append(r.backfill, s)
			logf("round %d: backfill %.0f rows/s", round, s.rate())
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
			s, _, err := b.syncRun(ctx, small, false)
			if err != nil {
				return fmt.Errorf("sync small: %w", err)
			}
			r.rssSmall = append(r.rssSmall, s)
			logf("round %d: sync of %d: %.1f MiB", round, c.small, s.extra["rss_mib"])
		}
	}
	return nil
}
