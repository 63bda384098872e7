package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// The end-to-end figures of BENCHMARKS.md: the binary run as a user runs
// it, with --rps 0 and RA_API=v1 (comparable with the earlier figures),
// against the simulator with every ticket in the open list (so a sync sees
// them all), each run into a fresh migrated database after a CHECKPOINT.
// Only the binary's run is timed; rows/s divides the tickets it stored by
// that time. peak-MiB is the binary's peak RSS (see peakRSSEnv),
// cpu-ms/request its own CPU time per API request, requests are counted on
// the simulator's side. The world has
// RATICKETS_BENCH_TICKETS tickets (default 200,000); use a PostgreSQL with
// fsync on (scripts/bench.sh) for absolute numbers.

// BenchmarkSync: small is a sync of a world a tenth the size (its peak RSS
// only), new a sync into an empty database (growth-% is its peak RSS over
// small's), unchanged the same sync again with nothing changed: its list
// requests against the fewest, ceil(open/100) (x-minimum), and its i=
// lookups, which must stay 0.
func BenchmarkSync(b *testing.B) {
	n := benchTickets(b)
	w := benchWorld(b, n)
	var smallPeak float64
	var synced *db // the last database /new synced, for /unchanged
	parent := b
	b.Run("small", func(b *testing.B) {
		small := benchWorld(b, n/10)
		var peak float64
		for b.Loop() {
			b.StopTimer()
			peak = max(peak, runBinary(b, small, newDB(b), "sync").peakMiB)
		}
		b.ReportMetric(peak, "peak-MiB")
		smallPeak = peak
	})
	b.Run("new", func(b *testing.B) {
		var rows, requests int
		var peak float64
		var cpu time.Duration
		for b.Loop() {
			b.StopTimer()
			synced = newDB(parent) // kept for /unchanged
			r := runBinary(b, w, synced, "sync")
			rows += r.rows
			requests += r.requests["list"] + r.requests["ticket"]
			peak = max(peak, r.peakMiB)
			cpu += r.cpu
		}
		reportRate(b, rows)
		reportCPU(b, cpu, requests)
		b.ReportMetric(float64(requests)/float64(b.N), "requests")
		b.ReportMetric(peak, "peak-MiB")
		if smallPeak > 0 {
			b.ReportMetric((peak/smallPeak-1)*100, "growth-%")
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		if synced == nil {
			synced = newDB(b)
			runBinary(b, w, synced, "sync")
		}
		var rows, list, lookups int
		var peak float64
		var cpu time.Duration
		for b.Loop() {
			r := runBinary(b, w, synced, "sync")
			rows += r.rows
			list += r.requests["list"]
			lookups += r.requests["ticket"]
			peak = max(peak, r.peakMiB)
			cpu += r.cpu
		}
		reportRate(b, rows)
		reportCPU(b, cpu, list+lookups)
		b.ReportMetric(float64(list)/float64(b.N), "requests")
		b.ReportMetric(float64(list)/float64(b.N)/math.Ceil(float64(len(w.fake.Open()))/100), "x-minimum")
		b.ReportMetric(float64(lookups)/float64(b.N), "lookups")
		b.ReportMetric(peak, "peak-MiB")
	})
}

// BenchmarkBackfillGames is `backfill --games` of every game of the world
// into an empty database.
func BenchmarkBackfillGames(b *testing.B) {
	w := benchWorld(b, benchTickets(b))
	var games []string
	for _, t := range w.fake.All() {
		games = append(games, strconv.FormatInt(t.GameID, 10))
	}
	slices.Sort(games)
	args := []string{"backfill", "--games", strings.Join(slices.Compact(games), ",")}
	var rows, requests int
	var peak float64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		r := runBinary(b, w, newDB(b), args...)
		rows += r.rows
		requests += r.requests["game"]
		peak = max(peak, r.peakMiB)
		cpu += r.cpu
	}
	reportRate(b, rows)
	reportCPU(b, cpu, requests)
	b.ReportMetric(float64(requests)/float64(b.N), "requests")
	b.ReportMetric(peak, "peak-MiB")
}

// benchTickets is the size of the benchmarks' world.
func benchTickets(b *testing.B) int {
	s := os.Getenv("RATICKETS_BENCH_TICKETS")
	if s == "" {
		return 200_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 10 {
		b.Fatalf("RATICKETS_BENCH_TICKETS=%q: want a number of tickets, at least 10", s)
	}
	return n
}

// benchWorld is a world of n tickets, every one in the open list.
func benchWorld(b *testing.B, n int) *world {
	return newWorld(b, fakeapi.Options{Seed: 1, Tickets: n, OpenShare: 1})
}

// binRun is what one run of the binary did.
type binRun struct {
	rows     int            // tickets in the database afterwards
	requests map[string]int // the simulator's count by mode (fakeapi.Requests)
	peakMiB  float64
	cpu      time.Duration // the binary's own CPU time, user + system
}

// runBinary runs the binary with args against w into d, timing only the
// run, and checks that d then holds what the command sees: the open list
// for a sync, every ticket for a backfill. It leaves b's timer running.
func runBinary(b *testing.B, w *world, d *db, args ...string) binRun {
	b.Helper()
	b.StopTimer()
	c := newCLI(b, w, d)
	c.env["RATICKETS_LOG_LEVEL"] = "warn"
	c.env[peakRSSEnv] = filepath.Join(b.TempDir(), "peak-rss")
	if _, err := d.pool.Exec(context.Background(), "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	before := w.fake.Requests()
	b.StartTimer()
	res := c.start(args...).wait(time.Hour)
	b.StopTimer()
	defer b.StartTimer()
	if res.code != 0 {
		b.Fatal(res)
	}
	raw, err := os.ReadFile(c.env[peakRSSEnv])
	if err != nil {
		b.Fatal(err)
	}
	var kib, cpuMicros int64
	if _, err := fmt.Sscan(string(raw), &kib, &cpuMicros); err != nil || kib <= 0 {
		b.Fatalf("peak RSS and CPU time %q: %v", raw, err)
	}
	r := binRun{rows: int(d.count(b, "SELECT count(*) FROM tickets")), requests: map[string]int{},
		peakMiB: float64(kib) / 1024, cpu: time.Duration(cpuMicros) * time.Microsecond}
	for mode, n := range w.fake.Requests() {
		r.requests[mode] = n - before[mode]
	}
	want := len(w.fake.All())
	if args[0] == "sync" {
		want = len(w.fake.Open())
	}
	if r.rows != want {
		b.Fatalf("%s stored %d tickets, want %d\n%s", args[0], r.rows, want, res)
	}
	return r
}

// reportCPU reports the binary's own CPU time per API request: what a page
// costs ratickets itself (decode, transform, COPY and merge on its side),
// apart from the simulator and PostgreSQL sharing the machine; against the
// real site each request has a budget of about 1,000 ms.
func reportCPU(b *testing.B, cpu time.Duration, requests int) {
	if requests > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(requests), "cpu-ms/request")
	}
}

// reportRate reports rows stored per second of timed run.
func reportRate(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
