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

// ProgressFunc is told how far a backfill got: done and total units (ids or
// games), and whether this is the last call.
type ProgressFunc func(done, total int64, final bool)

// checkpointEvery bounds how long a backfill goes without a checkpoint when
// it finds nothing to store (a long run of 404s).
const checkpointEvery = 5 * time.Second

// BackfillIDs fetches tickets from..to (inclusive) by id with i=, in any
// state, through the same transform and load path as Sync. 404s are counted,
// not errors. Progress is checkpointed with each batch, so a crashed or
// interrupted backfill of the same range resumes where it stopped; restart
// ignores the checkpoint.
func BackfillIDs(ctx context.Context, cfg Config, from, to int64, restart bool, progress ProgressFunc) (Summary, error) {
	if from <= 0 || to < from {
		return Summary{Kind: load.KindBackfill, Status: load.StatusFailed}, fmt.Errorf("backfill: bad id range %d..%d", from, to)
	}
	name := fmt.Sprintf("ids:%d-%d", from, to)
	return run(ctx, cfg, load.KindBackfill, func(ctx context.Context, r *runner) error {
		type position struct {
			NextID int64 `json:"next_id"`
		}
		next := from
		if cp, found, err := cfg.Store.GetCheckpoint(ctx, name); err != nil {
			return err
		} else if found && !restart {
			if cp.Done {
				r.log.Info().Str("checkpoint", name).Msg("this range was backfilled already; use --restart to fetch it again")
				return nil
			}
			var p position
			if err := json.Unmarshal(cp.Position, &p); err != nil {
				return fmt.Errorf("backfill: checkpoint %q: %w", name, err)
			}
			if p.NextID > next {
				next = p.NextID
				r.log.Info().Int64("next_id", next).Msg("resuming from checkpoint")
			}
		}
		total := to - from + 1
		report := func(final bool) {
			if progress != nil {
				progress(next-from, total, final)
			}
		}
		b := r.newBatcher(false)
		lastCP := time.Now()
		// flush commits the batch with a checkpoint saying where to resume.
		flush := func(resumeAt int64, done bool) error {
			pos, _ := json.Marshal(position{NextID: resumeAt})
			lastCP = time.Now()
			return b.flush(ctx, &load.Checkpoint{Name: name, Position: pos, Done: done})
		}
		work := func() error {
			for ; next <= to; next++ {
				raw, err := r.cfg.Client.Ticket(ctx, next)
				r.sum.Lookups++
				switch {
				case errors.Is(err, extract.ErrNotFound):
					r.sum.NotFound++
				case err != nil:
					return fmt.Errorf("backfill ticket %d: %w", next, err)
				default:
					b.add(ctx, raw)
					r.sum.Seen++
				}
				if b.due(r.cfg.flushInterval()) || time.Since(lastCP) >= checkpointEvery {
					if err := flush(next+1, false); err != nil {
						return err
					}
					report(false)
				}
			}
			return flush(next, true)
		}
		err := errors.Join(work(), b.close())
		report(true)
		return err
	})
}

// BackfillGames fetches every ticket of the given games (in every state,
// promoted and unofficial achievements) with the g=ID&d=1 mode, paged by
// the drift-safe pager (extract.Client.ScanGame, with Config.Scan's page
// size, overlap and reread budget; no page limit), so a ticket that leaves a
// game's list mid-scan or a same-second tie at a page boundary skips
// nothing. With no ids, it takes every game already in the database.
//
// Progress is checkpointed with each batch. The checkpoint holds the game
// list, so a resumed run walks the same games, and the game and half
// (promoted or unofficial) in progress, which a resumed run reads again from
// offset 0: an offset saved inside a list is stale as soon as the list moves
// (tickets above it removed would slide past it unseen), while a game's
// list is short enough that reading it again costs little. Tickets are
// upserted, so reading one twice is harmless. A game that answers 404 is
// gone and skipped; a game's scan that cannot complete (churn beyond the
// reread budget, a same-second run filling a page) fails the run, which a
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
	// position is where to resume. Checkpoints written by older versions
	// also hold an "offset" inside the half; it is ignored (see above).
	type position struct {
		Games      []int64 `json:"games"`
		Index      int     `json:"index"`
		Unofficial bool    `json:"unofficial"`
	}
	return run(ctx, cfg, load.KindBackfill, func(ctx context.Context, r *runner) error {
		pos := position{Games: games}
		cp, found, err := cfg.Store.GetCheckpoint(ctx, name)
		if err != nil {
			return err
		}
		if found && !restart && !cp.Done {
			if err := json.Unmarshal(cp.Position, &pos); err != nil {
				return fmt.Errorf("backfill: checkpoint %q: %w", name, err)
			}
			r.log.Info().Int("game_index", pos.Index).Bool("unofficial", pos.Unofficial).Msg("resuming from checkpoint (the game in progress is read again from its start)")
		} else if len(games) == 0 {
			if pos.Games, err = cfg.Store.GameIDs(ctx); err != nil {
				return err
			}
		}
		if found && cp.Done && !restart && len(games) > 0 {
			r.log.Info().Str("checkpoint", name).Msg("these games were backfilled already; use --restart to fetch them again")
			return nil
		}
		total := int64(len(pos.Games))
		report := func(final bool) {
			if progress != nil {
				progress(int64(pos.Index), total, final)
			}
		}
		opts := r.cfg.Scan
		opts.MaxPages = 0 // a limit meant for the open list; a game's list is short
		b := r.newBatcher(false)
		lastCP := time.Now()
		flush := func(done bool) error {
			raw, _ := json.Marshal(pos)
			lastCP = time.Now()
			return b.flush(ctx, &load.Checkpoint{Name: name, Position: raw, Done: done})
		}
		maybeFlush := func() error {
			if b.due(r.cfg.flushInterval()) || time.Since(lastCP) >= checkpointEvery {
				if err := flush(false); err != nil {
					return err
				}
				report(false)
			}
			return nil
		}
		work := func() error {
			for pos.Index < len(pos.Games) {
				game := pos.Games[pos.Index]
				for page, err := range r.cfg.Client.ScanGame(ctx, game, pos.Unofficial, opts) {
					if errors.Is(err, extract.ErrNotFound) {
						break // the game is gone: nothing (more) to fetch
					}
					if err != nil {
						return fmt.Errorf("backfill game %d: %w", game, err)
					}
					r.sum.Pages++
					for _, raw := range page.Tickets {
						b.add(ctx, raw)
						r.sum.Seen++
					}
					// Say which list the tickets came from: an unofficial one can
					// never be in the open list, so reconciliation leaves it be.
					if err := cfg.Store.MarkUnofficial(ctx, r.runID, pos.Unofficial, ticketIDs(page.Tickets)); err != nil {
						return err
					}
					// The checkpoint still names this half: a resume reads
					// it again from its start.
					if err := maybeFlush(); err != nil {
						return err
					}
				}
				if !pos.Unofficial {
					pos.Unofficial = true
				} else {
					pos.Index, pos.Unofficial = pos.Index+1, false
				}
				if err := maybeFlush(); err != nil {
					return err
				}
			}
			return flush(true)
		}
		err = errors.Join(work(), b.close())
		report(true)
		return err
	})
}

// ticketIDs reads the ID of each record that has a usable one (the others
// are set aside by the transform anyway).
func ticketIDs(raws []json.RawMessage) []int64 {
	ids := make([]int64, 0, len(raws))
	for _, raw := range raws {
		var rec struct {
			ID json.RawMessage `json:"ID"`
		}
		if json.Unmarshal(raw, &rec) != nil {
			continue
		}
		if id, err := strconv.ParseInt(strings.Trim(string(rec.ID), `"`), 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}
