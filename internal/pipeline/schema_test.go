package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// TestRefusesNewerSchema: sync and backfill refuse a database migrated by a
// newer ratickets (also when they were told not to migrate), naming both
// versions, and write nothing to it.
func TestRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	e := setup(t, fakeapi.Options{Seed: 51, Tickets: 200})
	future := load.SchemaVersion() + 1
	if _, err := e.pool.Exec(context.Background(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, future); err != nil {
		t.Fatal(err)
	}
	all := e.fake.All()
	runs := map[string]func() (pipeline.Summary, error){
		"sync": func() (pipeline.Summary, error) { return pipeline.Sync(context.Background(), e.cfg) },
		"backfill": func() (pipeline.Summary, error) {
			return pipeline.BackfillIDs(context.Background(), e.cfg, all[0].ID, all[9].ID, false, nil)
		},
	}
	for name, run := range runs {
		sum, err := run()
		if !errors.Is(err, load.ErrSchemaTooNew) || sum.Status != load.StatusFailed {
			t.Errorf("%s against a newer schema: status %q err %v", name, sum.Status, err)
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprint(future)) || !strings.Contains(err.Error(), fmt.Sprint(future-1)) {
			t.Errorf("%s: %q does not name both versions", name, err)
		}
	}
	if n := count(t, e.pool, `SELECT (SELECT count(*) FROM sync_runs) + (SELECT count(*) FROM tickets)`); n != 0 {
		t.Errorf("%d rows written to a database with a newer schema", n)
	}
}
