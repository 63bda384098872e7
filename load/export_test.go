package load

import (
	"context"

	"github.com/ratickets/ratickets/transform"
)

// GeneratedSQL is the SQL generated from ticketColumns, for the golden and
// schema tests (package load_test, which can use pgtest).
var GeneratedSQL = []struct{ Name, SQL string }{
	{"createStageSQL", createStageSQL},
	{"mergeSQL", mergeSQL},
	{"mergeNoDupSQL", mergeNoDupSQL},
	{"markVanishedSQL", markVanishedSQL},
}

// Batch is one batch for Merge.
type Batch struct {
	Tickets    []transform.Ticket
	Rejects    []Reject
	Listed     bool
	Progress   *Progress
	Checkpoint *Checkpoint
}

// Merge writes b through a Sink of one batch.
func (s *Store) Merge(ctx context.Context, runID int64, b Batch) (Counts, error) {
	k := s.NewSink(runID, b.Listed, nil)
	for i := range b.Tickets {
		if err := k.Add(ctx, b.Tickets[i]); err != nil {
			break // sticky: Close returns it
		}
	}
	for _, r := range b.Rejects {
		k.Reject(r)
	}
	_ = k.Commit(ctx, b.Progress, b.Checkpoint)
	return k.Close()
}
