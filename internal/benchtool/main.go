package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"
)

type config struct {
	databaseURL string
	bin         string
	tickets     int
	small       int
	runs        int
	batch       int
	ceilBatch   int
	seed        int64
	only        map[string]bool
}

func (c *config) want(group string) bool { return len(c.only) == 0 || c.only[group] }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchtool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var only string
	fs.StringVar(&c.databaseURL, "database-url", os.Getenv("DATABASE_URL"), "PostgreSQL URL of a database on a server where databases may be created")
	fs.StringVar(&c.bin, "bin", "bin/ratickets", "the ratickets binary")
	fs.IntVar(&c.tickets, "tickets", 200_000, "tickets in the large world")
	fs.IntVar(&c.small, "small", 20_000, "tickets in the small world (memory comparison)")
	fs.IntVar(&c.runs, "runs", 3, "runs per figure (the median is printed)")
	fs.IntVar(&c.batch, "batch", 5000, "loader batch size (the pipeline's default)")
	fs.IntVar(&c.ceilBatch, "ceiling-batch", 0, "COPY the ceiling in transactions of this many rows (0: one COPY of everything)")
	fs.Int64Var(&c.seed, "seed", 1, "simulator world seed")
	fs.StringVar(&only, "only", "", "comma-separated groups to run: ceiling, load, sync, backfill, rss, whatif (default all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.databaseURL == "" {
		return fmt.Errorf("no -database-url and no DATABASE_URL")
	}
	if only != "" {
		c.only = map[string]bool{}
		for _, g := range strings.Split(only, ",") {
			c.only[strings.TrimSpace(g)] = true
		}
	}
	if c.runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	b, err := newBench(ctx, c, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	return b.all(ctx, stdout)
}

// sample is one run's measurement.
type sample struct {
	rows    int64
	seconds float64
	extra   map[string]float64
}

func (s sample) rate() float64 { return float64(s.rows) / s.seconds }

// median returns the run with the median rate (the lower middle one for an
// even count).
func median(ss []sample) sample {
	sorted := slices.Clone(ss)
	slices.SortFunc(sorted, func(a, b sample) int {
		switch {
		case a.rate() < b.rate():
			return -1
		case a.rate() > b.rate():
			return 1
		}
		return 0
	})
	return sorted[(len(sorted)-1)/2]
}

func medianOf(ss []sample, key string) float64 {
	vals := make([]float64, len(ss))
	for i, s := range ss {
		vals[i] = s.extra[key]
	}
	slices.Sort(vals)
	return vals[(len(vals)-1)/2]
}

// line prints one BENCH line: name first, then the fields in order.
func line(w io.Writer, name string, kv ...any) {
	var b strings.Builder
	b.WriteString("BENCH name=")
	b.WriteString(name)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=", kv[i])
		switch v := kv[i+1].(type) {
		case float64:
			switch {
			case v >= 1000:
				fmt.Fprintf(&b, "%.0f", v)
			case v >= 10:
				fmt.Fprintf(&b, "%.1f", v)
			default:
				fmt.Fprintf(&b, "%.3f", v)
			}
		default:
			fmt.Fprint(&b, v)
		}
	}
	fmt.Fprintln(w, b.String())
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }
