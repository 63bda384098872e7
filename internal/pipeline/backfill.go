package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/load"
)

// ProgressFunc is told how far a backfill got: done and total units (ids,
// games or pages), and whether this is the last call.
type ProgressFunc func(done, total int64, final bool)

// checkpointEvery bounds how long a backfill goes without a checkpoint when
// it finds nothing to store (a long run of 404s).
const checkpointEvery = 5 * time.Second

// checkpointed runs body as the checkpointed backfill name, the skeleton
// every backfill shares: body adds records to b, moves its position on and
// calls b.step after each unit, then b.flush(ctx, true). Each batch commits
// with the position it reached, so a crashed or interrupted backfill
// resumes exactly where its last batch ended. pos points to the position to
// start from; unless restart, a stored checkpoint replaces it (resumed tells
// body so). A finished checkpoint means there is nothing to do unless
// again, or restart.
func (r *runner) checkpointed(ctx context.Context, name string, restart, again bool, pos any, progress func(done bool),
	body func(b *batcher, resumed bool) error) error {
	cp, found, err := r.cfg.Store.GetCheckpoint(ctx, name)
	if err != nil {
		return err
	}
	resumed := false
	if found && !restart {
		switch {
		case cp.Done && !again:
			r.log.Info().Str("checkpoint", name).Msg("this backfill is done already; use --restart to fetch it again")
			return nil
		case !cp.Done:
			if err := json.Unmarshal(cp.Position, pos); err != nil {
				return fmt.Errorf("backfill: checkpoint %q: %w", name, err)
			}
			resumed = true
			r.log.Info().Str("checkpoint", name).RawJSON("position", summarize(cp.Position)).Msg("resuming from checkpoint")
		}
	}
	b := r.newBatcher(false)
	b.name, b.pos, b.progress, b.lastCP = name, pos, progress, time.Now()
	err = errors.Join(body(b, resumed), b.close())
	progress(true)
	return err
}

// summarize shortens a position for a log line (a game list can be long).
func summarize(pos json.RawMessage) json.RawMessage {
	if len(pos) > 200 {
		b, _ := json.Marshal(string(pos[:200]) + "…")
		return b
	}
	return pos
}

// idPosition is where a backfill by id resumes.
type idPosition struct {
	NextID int64 `json:"next_id"`
	// To is the last id of a backfill --all with v1: the highest id the
	// database knew when it started.
	To int64 `json:"to,omitempty"`
}

// BackfillIDs fetches tickets from..to (inclusive) by id, in any state,
// through the same transform and load path as Sync: with v1 one i= request
// per id, with v2 up to 100 ids per request (filter[id] with
// filter[state]=all). Not-found answers (v1 404, an id absent from the v2
// answer) are counted, not errors. A crashed or interrupted backfill of the
// same range resumes from its checkpoint; restart ignores it.
func BackfillIDs(ctx context.Context, cfg Config, from, to int64, restart bool, progress ProgressFunc) (Summary, error) {
	if from <= 0 || to < from {
		return Summary{Kind: load.KindBackfill, Status: load.StatusFailed}, fmt.Errorf("backfill: bad id range %d..%d", from, to)
	}
	return run(ctx, cfg, load.KindBackfill, func(ctx context.Context, r *runner) error {
		return r.backfillIDs(ctx, fmt.Sprintf("ids:%d-%d", from, to), idPosition{NextID: from}, to, restart, progress, nil)
	})
}

// backfillIDs fetches pos.NextID..to (pos.To when set), checkpointed as
// name. start, when non-nil, is told where the backfill starts before its
// first request (not when it is done already), and may end it there.
func (r *runner) backfillIDs(ctx context.Context, name string, pos idPosition, to int64, restart bool, progress ProgressFunc,
	start func(pos idPosition, resumed bool) bool) error {
	from := pos.NextID
	report := func(final bool) {
		if progress != nil && to >= from { // an empty range (--all, no tickets) has none to report
			progress(pos.NextID-from, to-from+1, final)
		}
	}
	per := int64(r.perLookup())
	return r.checkpointed(ctx, name, restart, false, &pos, report, func(b *batcher, resumed bool) error {
		if pos.To > 0 {
			to = pos.To // a resumed --all keeps the range it started with
		}
		if start != nil && !start(pos, resumed) {
			return nil
		}
		for pos.NextID <= to {
			ids := make([]int64, min(per, to-pos.NextID+1))
			for i := range ids {
				ids[i] = pos.NextID + int64(i)
			}
			found, missing, err := r.lookup(ctx, ids)
			r.sum.Lookups++
			if err != nil {
				return fmt.Errorf("backfill ticket %s: %w", idList(ids, 1), err)
			}
			r.sum.NotFound += int64(len(missing))
			b.add(ctx, found...)
			r.sum.Seen += int64(len(found))
			pos.NextID += int64(len(ids))
			if err := b.step(ctx); err != nil {
				return err
			}
		}
		return b.flush(ctx, true)
	})
}

// gamesPosition is where a game backfill resumes. Checkpoints written by
// older versions also hold an "offset" inside the half; it is ignored.
type gamesPosition struct {
	Games      []int64 `json:"games"`
	Index      int     `json:"index"`
	Unofficial bool    `json:"unofficial"`
}

// BackfillGames fetches every ticket of the given games (with none, of
// every game in the database), in every state.
//
// With v1 it reads each game's promoted and unofficial lists (g=ID&d=1,
// f=5) with the drift-safe pager (extract.Client.ScanGame; Config.Scan
// without its page limit), and marks the unofficial list's tickets
// unofficial, the promoted list's not: v1's open list never shows the
// former, so reconciliation must leave them be. With v2 it reads
// filter[gameId] (extract.Client.ScanV2Game), one list of every kind of
// ticket that does not say which are unofficial; it writes no marks, as
// v2's open list shows unofficial tickets and a v2 sync sees them.
//
// The checkpoint holds the game list, and the game and half (promoted or
// unofficial; always the first with v2) in progress, which a resumed run
// reads again from its start: a position inside a list is stale as soon
// as the list moves, and reading a short list twice is harmless (tickets
// are upserted). A game that answers 404 is skipped; a game's scan that
// cannot complete (churn beyond the reread budget) fails the run, which a
// rerun resumes at that game.
func BackfillGames(ctx context.Context, cfg Config, games []int64, restart bool, progress ProgressFunc) (Summary, error) {
	name := "games:all"
	if len(games) > 0 {
		ids := make([]string, len(games))
		for i, g := range games {
			ids[i] = strconv.FormatInt(g, 10)
		}
		sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
		name = "games:" + hex.EncodeToString(sum[:8])
	}
	return run(ctx, cfg, load.KindBackfill, func(ctx context.Context, r *runner) error {
		pos := gamesPosition{Games: games}
		report := func(final bool) {
			if progress != nil {
				progress(int64(pos.Index), int64(len(pos.Games)), final)
			}
		}
		// The games in the database are a list that grows: a finished
		// games:all backfill runs again over today's list.
		again := len(games) == 0
		return r.checkpointed(ctx, name, restart, again, &pos, report, func(b *batcher, resumed bool) error {
			if resumed {
				r.log.Info().Int("game_index", pos.Index).Bool("unofficial", pos.Unofficial).
					Msg("the game in progress is read again from its start")
			} else if len(games) == 0 {
				var err error
				if pos.Games, err = r.cfg.Store.GameIDs(ctx); err != nil {
					return err
				}
			}
			pos.Unofficial = pos.Unofficial && !r.v2() // v2 has no unofficial half
			for pos.Index < len(pos.Games) {
				if err := r.backfillGame(ctx, b, pos.Games[pos.Index], pos.Unofficial); err != nil {
					return err
				}
				if !pos.Unofficial && !r.v2() {
					pos.Unofficial = true
				} else {
					pos.Index, pos.Unofficial = pos.Index+1, false
				}
				if err := b.step(ctx); err != nil {
					return err
				}
			}
			return b.flush(ctx, true)
		})
	})
}

// backfillGame reads one game's list (v1: the promoted or the unofficial
// half) into b's batches. The position still names this game (and half),
// so a commit inside it makes a resume read it again from its start.
func (r *runner) backfillGame(ctx context.Context, b *batcher, game int64, unofficial bool) error {
	// No page limit: it is meant for the open list, and a game's list is short.
	opts, v2opts := r.cfg.Scan, r.cfg.v2Scan()
	opts.MaxPages, v2opts.MaxPages = 0, 0
	pages := v1Pages(r.cfg.Client.ScanGame(ctx, game, unofficial, opts))
	if r.v2() {
		pages = r.cfg.Client.ScanV2Game(ctx, game, v2opts)
	}
	for page, err := range pages {
		if errors.Is(err, extract.ErrNotFound) && !r.v2() {
			return nil // the game is gone: nothing (more) to fetch
		}
		if err != nil {
			return fmt.Errorf("backfill game %d: %w", game, err)
		}
		r.sum.Pages++
		ids := b.add(ctx, page.Tickets...)
		r.sum.Seen += int64(len(page.Tickets))
		if !r.v2() { // which v1 list the tickets came from (see BackfillGames)
			if err := r.cfg.Store.MarkUnofficial(ctx, r.runID, unofficial, ids); err != nil {
				return err
			}
		}
		if err := b.step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// AllPlan is what a `backfill --all` is about to do, told before it starts.
type AllPlan struct {
	API     string // APIV1 or APIV2
	Resumed bool   // it goes on from a checkpoint
	// With v1: the ids it fetches one request each (From..To); To is the
	// highest id the database knows (0: none, nothing to do).
	From, To int64
}

// BackfillAll fetches every ticket in every state. plan, when not nil, is
// told what it does before the first request.
//
// With v2 it walks filter[state]=all&sort=id (extract.Client.ScanV2All),
// about one request per 100 tickets. The checkpoint ("all:v2") holds the
// scan's cursor, committed with the batch that holds the tickets before
// it, so a resumed run skips no ticket even when tickets disappear
// (quarantine) or arrive meanwhile. Progress counts pages.
//
// With v1, which has no list of every ticket, it fetches ids from 1 to the
// highest the database knows when it starts (checkpoint "all:v1", which
// keeps that range), one i= request each.
func BackfillAll(ctx context.Context, cfg Config, restart bool, plan func(AllPlan), progress ProgressFunc) (Summary, error) {
	return run(ctx, cfg, load.KindBackfill, func(ctx context.Context, r *runner) error {
		if !r.v2() {
			to, err := r.cfg.Store.MaxTicketID(ctx)
			if err != nil {
				return err
			}
			return r.backfillIDs(ctx, "all:v1", idPosition{NextID: 1, To: to}, to, restart, progress, func(pos idPosition, resumed bool) bool {
				if plan != nil {
					plan(AllPlan{API: APIV1, Resumed: resumed, From: pos.NextID, To: pos.To})
				}
				if pos.To == 0 {
					r.log.Warn().Msg("the database knows no ticket: v1 has no list of every ticket; run sync first")
				}
				return pos.To > 0
			})
		}
		var cur extract.V2Cursor
		var pages, total int64
		report := func(final bool) {
			if progress != nil {
				progress(pages, max(total, pages), final)
			}
		}
		return r.checkpointed(ctx, "all:v2", restart, false, &cur, report, func(b *batcher, resumed bool) error {
			if plan != nil {
				plan(AllPlan{API: APIV2, Resumed: resumed})
			}
			pages = int64(max(cur.Next-1, 0))
			for page, err := range r.cfg.Client.ScanV2All(ctx, cur, r.cfg.v2Scan()) {
				if err != nil {
					return fmt.Errorf("backfill all: %w", err)
				}
				r.sum.Pages++
				if page.Number > 0 {
					pages = int64(page.Cursor.Next - 1)
				}
				if page.Total >= 0 {
					total = (int64(page.Total) + extract.MaxPageSize - 1) / extract.MaxPageSize
				}
				b.add(ctx, page.Tickets...)
				r.sum.Seen += int64(len(page.Tickets))
				cur = page.Cursor // it covers this page's tickets, all in the batch
				if err := b.step(ctx); err != nil {
					return err
				}
			}
			pages = max(pages, total) // the last, short page
			return b.flush(ctx, true)
		})
	})
}
