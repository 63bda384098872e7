package pipeline_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// BenchmarkSyncRate syncs the ~900 open tickets of a 1,000-ticket world
// into an empty database at the site's rate limit of one request a second,
// and without a limit. wall/budget is the run's wall time over the time its
// requests need at that rate: 1.00 means the database work hides entirely
// behind the rate limit (what is left is the run's start and end).
func BenchmarkSyncRate(b *testing.B) {
	for _, rps := range []float64{1, 0} {
		b.Run(fmt.Sprintf("rps=%g", rps), func(b *testing.B) {
			fake := fakeapi.New(fakeapi.Options{Seed: 3, Tickets: 1000, OpenShare: 1, APIKey: "k"})
			srv := httptest.NewServer(fake)
			defer srv.Close()
			open := int64(len(fake.Open()))
			var wall, budget time.Duration
			for b.Loop() {
				b.StopTimer()
				client, err := extract.New(extract.Config{BaseURL: srv.URL, Username: "u", APIKey: "k", RPS: rps})
				if err != nil {
					b.Fatal(err)
				}
				db := pgtest.NewDB(b)
				cfg := pipeline.Config{Client: client, Store: load.New(db.Pool, zerolog.Nop()), Log: zerolog.Nop()}
				b.StartTimer()
				t0 := time.Now()
				sum, err := pipeline.Sync(context.Background(), cfg)
				if err != nil || sum.Counts.Inserted != open {
					b.Fatalf("%+v %v", sum.Counts, err)
				}
				wall += time.Since(t0)
				if rps > 0 {
					budget += time.Duration(float64(sum.Requests-1) / rps * float64(time.Second))
				}
			}
			if budget > 0 {
				b.ReportMetric(wall.Seconds()/budget.Seconds(), "wall/budget")
			}
			b.ReportMetric(float64(open)*float64(b.N)/wall.Seconds(), "rows/s")
		})
	}
}
