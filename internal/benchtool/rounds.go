package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// results holds every run of each figure.
type results struct {
	ceiling, syncNew, syncSame, backfill, rssSmall []sample
	small                                          int // tickets of the small world
	requests                                       []figure
}

// rounds runs every wanted figure once per round, -runs rounds, so that a
// noisy neighbour slows every figure of a round alike; each round measures
// its own COPY ceiling for the ratios. The samples go into r.
func (b *bench) rounds(ctx context.Context, r *results, logf func(string, ...any)) error {
	c := b.c
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
