package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratickets/ratickets/transform"
)

// Reject is a record that could not be understood, set aside with its reason.
type Reject struct {
	TicketID *int64
	Raw      []byte
	Reason   string
}

// Batch is one unit of atomic work: all of it commits, or none of it.
type Batch struct {
	Tickets []transform.Ticket
	Rejects []Reject
	// Listed marks tickets that came from a scan of the open list: they count
	// as seen in the list for reconciliation.
	Listed bool
	// Progress, when non-nil, is written to the run's row with the batch.
	Progress *Progress
	// Checkpoint, when non-nil, is stored in the same transaction.
	Checkpoint *Checkpoint
}

// Counts is what a merge did.
type Counts struct {
	Inserted, Updated, Unchanged, Rejected int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.Rejected += o.Rejected
}

// stageColumns are the columns COPY writes to the staging table, in order;
// ticketRow must produce values in the same order.
var stageColumns = []string{
	"id", "achievement_id", "achievement_title", "achievement_description", "achievement_type",
	"points", "badge_name", "achievement_author", "game_id", "game_title", "game_icon",
	"console_name", "reported_at", "report_type", "report_type_code", "report_state",
	"report_state_code", "hardcore", "report_notes", "reported_by", "resolved_at",
	"resolved_by", "rom_hash", "emulator", "emulator_core", "emulator_version", "raw",
}

func ticketRow(t *transform.Ticket) []any {
	return []any{
		t.ID, t.AchievementID, t.AchievementTitle, t.AchievementDescription, t.AchievementType,
		t.Points, t.BadgeName, t.AchievementAuthor, t.GameID, t.GameTitle, t.GameIcon,
		t.ConsoleName, t.ReportedAt, string(t.ReportType), t.ReportTypeCode, string(t.ReportState),
		t.ReportStateCode, t.Hardcore, t.ReportNotes, t.ReportedBy, t.ResolvedAt,
		t.ResolvedBy, t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion, []byte(t.Raw),
	}
}

// Merge upserts a batch in one transaction: COPY into a temporary staging
// table, then one statement that inserts new tickets, updates the ones that
// really changed (an unchanged ticket is never rewritten), versions
// ticket_history, and records the sightings. Rejected records, the run's
// counters and the checkpoint commit with it.
func (s *Store) Merge(ctx context.Context, runID int64, b Batch) (Counts, error) {
	start := time.Now()
	tickets := dedupe(b.Tickets)
	var c Counts
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(tickets) > 0 {
			if _, err := tx.Exec(ctx, createStageSQL); err != nil {
				return fmt.Errorf("staging table: %w", err)
			}
			i := 0
			src := pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(tickets) {
					return nil, nil
				}
				i++
				return ticketRow(&tickets[i-1]), nil
			})
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ratickets_stage"}, stageColumns, src); err != nil {
				return fmt.Errorf("copy to staging: %w", err)
			}
			if err := tx.QueryRow(ctx, mergeSQL, runID, b.Listed).Scan(&c.Inserted, &c.Updated, &c.Unchanged); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
		}
		if len(b.Rejects) > 0 {
			rows := make([][]any, len(b.Rejects))
			for i, r := range b.Rejects {
				rows[i] = []any{runID, r.TicketID, sanitizeText(string(r.Raw)), sanitizeText(r.Reason)}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"rejected_records"},
				[]string{"run_id", "ticket_id", "raw", "reason"}, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("rejected records: %w", err)
			}
			c.Rejected = int64(len(b.Rejects))
		}
		seen := int64(len(tickets)) + c.Rejected
		if _, err := tx.Exec(ctx, `UPDATE sync_runs SET tickets_seen = tickets_seen + $2,
			inserted = inserted + $3, updated = updated + $4, unchanged = unchanged + $5,
			rejected = rejected + $6 WHERE id = $1`,
			runID, seen, c.Inserted, c.Updated, c.Unchanged, c.Rejected); err != nil {
			return fmt.Errorf("run counters: %w", err)
		}
		if p := b.Progress; p != nil {
			if _, err := tx.Exec(ctx, `UPDATE sync_runs SET requests = $2, retries = $3, pages = $4 WHERE id = $1`,
				runID, p.Requests, p.Retries, p.Pages); err != nil {
				return fmt.Errorf("run progress: %w", err)
			}
		}
		if cp := b.Checkpoint; cp != nil {
			if _, err := tx.Exec(ctx, upsertCheckpointSQL, cp.Name, cp.Position, cp.Done); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Counts{}, fmt.Errorf("load: batch of %d tickets: %w", len(tickets), err)
	}
	s.logger(ctx).Debug().Int("tickets", len(tickets)).Int64("inserted", c.Inserted).Int64("updated", c.Updated).
		Int64("unchanged", c.Unchanged).Int64("rejected", c.Rejected).Dur("duration", time.Since(start)).
		Msg("batch merged")
	return c, nil
}

// dedupe keeps the last occurrence of each ticket id: one statement cannot
// upsert the same row twice, and the later copy is the fresher one.
func dedupe(ts []transform.Ticket) []transform.Ticket {
	if len(ts) < 2 {
		return ts
	}
	pos := make(map[int64]int, len(ts))
	dup := false
	for i := range ts {
		if _, ok := pos[ts[i].ID]; ok {
			dup = true
		}
		pos[ts[i].ID] = i
	}
	if !dup {
		return ts
	}
	out := make([]transform.Ticket, 0, len(pos))
	for i := range ts {
		if pos[ts[i].ID] == i {
			out = append(out, ts[i])
		}
	}
	return out
}
