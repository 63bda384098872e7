package report_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/report"
)

// benchDB seeds a generated database once per benchmark; the size is
// RATICKETS_BENCH_TICKETS (default 20,000; the README quotes 1,000,000).
func benchDB(b *testing.B) *pgtest.DB {
	b.Helper()
	n := 20000
	if s := os.Getenv("RATICKETS_BENCH_TICKETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	db := pgtest.NewDB(b)
	start := time.Now()
	seedSynthetic(b, db.Pool, n)
	b.Logf("seeded %d tickets in %v", n, time.Since(start).Round(time.Second))
	return db
}

// BenchmarkViews reads every row of each view.
func BenchmarkViews(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	for _, v := range []string{"backlog_daily", "resolution_times", "by_game", "by_console", "by_emulator",
		"by_developer", "reopened", "open_tickets"} {
		b.Run(v, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Pool.Query(ctx, "SELECT * FROM analytics."+v)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				if err := rows.Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGenerate writes a whole report.
func BenchmarkGenerate(b *testing.B) {
	db := benchDB(b)
	ctx := context.Background()
	for b.Loop() {
		if err := report.Generate(ctx, db.Pool, report.Options{}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
