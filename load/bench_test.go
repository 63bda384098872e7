package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/load"
	"github.com/ratickets/ratickets/transform"
)

// simTickets returns n realistic tickets: the simulator's open list, as
// the API renders it, through transform.Parse.
func simTickets(tb testing.TB, n int) []transform.Ticket {
	tb.Helper()
	srv := fakeapi.New(fakeapi.Options{Seed: 1, Tickets: n + n/8, OpenShare: 1, APIKey: "k"})
	out := make([]transform.Ticket, 0, n)
	for o := 0; len(out) < n; o += 100 {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/API/API_GetTicketData.php?y=k&c=100&o="+strconv.Itoa(o), nil))
		var page struct{ RecentTickets []json.RawMessage }
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || len(page.RecentTickets) == 0 {
			tb.Fatalf("simulator page at %d: %v (%d tickets)", o, err, len(page.RecentTickets))
		}
		for _, raw := range page.RecentTickets {
			t, err := transform.Parse(raw)
			if err != nil {
				tb.Fatal(err)
			}
			if out = append(out, t); len(out) == n {
				break
			}
		}
	}
	return out
}

// BenchmarkMerge merges one batch per op: new tickets into a growing table,
// or the same tickets again unchanged. rows/s is the figure to compare (with
// benchstat); run against a server with fsync on for absolute numbers
// (scripts/bench.sh points TEST_DATABASE_URL at one).
func BenchmarkMerge(b *testing.B) {
	for _, size := range []int{100, 5000} {
		tickets := simTickets(b, size)
		b.Run(fmt.Sprintf("new/batch=%d", size), func(b *testing.B) {
			s, _ := benchStore(b)
			ctx := context.Background()
			run := benchRun(b, s)
			batch := make([]transform.Ticket, len(tickets))
			offset := int64(0)
			for b.Loop() {
				offset += 10_000_000 // new ids every op
				for i := range tickets {
					batch[i] = tickets[i]
					batch[i].ID += offset
				}
				if c, err := s.Merge(ctx, run, load.Batch{Tickets: batch, Listed: true}); err != nil || c.Inserted != int64(size) {
					b.Fatalf("%+v %v", c, err)
				}
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("unchanged/batch=%d", size), func(b *testing.B) {
			s, _ := benchStore(b)
			ctx := context.Background()
			if _, err := s.Merge(ctx, benchRun(b, s), load.Batch{Tickets: tickets, Listed: true}); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				run, _, err := s.StartRun(ctx, load.KindSync, "bench")
				if err != nil {
					b.Fatal(err)
				}
				if c, err := s.Merge(ctx, run, load.Batch{Tickets: tickets, Listed: true}); err != nil || c.Unchanged != int64(size) {
					b.Fatalf("%+v %v", c, err)
				}
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func benchStore(b *testing.B) (*load.Store, *pgtest.DB) {
	b.Helper()
	db := pgtest.NewDB(b)
	return load.New(db.Pool, zerolog.Nop()), db
}

func benchRun(b *testing.B, s *load.Store) int64 {
	b.Helper()
	id, _, err := s.StartRun(context.Background(), load.KindSync, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return id
}
