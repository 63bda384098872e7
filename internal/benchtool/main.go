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
	seed        int64
	departed    int
	only        map[string]bool
}

// groups are the figures -only can pick (the loader's are `go test -bench
// Load ./load`); all but requests need a database.
var groups = []string{"sync", "backfill", "rss", "requests"}

func (c *config) want(group string) bool { return len(c.only) == 0 || c.only[group] }

// wantDatabase is whether a wanted group runs the binary into a database.
func (c *config) wantDatabase() bool { return c.want("sync") || c.want("backfill") || c.want("rss") }

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
	fs.Int64Var(&c.seed, "seed", 1, "simulator world seed")
	fs.IntVar(&c.departed, "departed", 1000, "departed tickets in the reconciliation figure (requests)")
	fs.StringVar(&only, "only", "", "comma-separated groups to run: "+strings.Join(groups, ", ")+" (default all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.runs < 1 || c.departed < 1 {
		return fmt.Errorf("-runs and -departed must be at least 1")
	}
	if only != "" {
		c.only = map[string]bool{}
		for _, g := range strings.Split(only, ",") {
			if g = strings.TrimSpace(g); !slices.Contains(groups, g) {
				return fmt.Errorf("-only: unknown group %q (known: %s)", g, strings.Join(groups, ", "))
			}
			c.only[g] = true
		}
	}
	if c.wantDatabase() && c.databaseURL == "" {
		return fmt.Errorf("no -database-url and no DATABASE_URL")
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "# %s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	r := &results{}
	if c.want("requests") {
		f, err := measureRequests(ctx, c.tickets, c.seed, c.departed, logf)
		if err != nil {
			return fmt.Errorf("requests: %w", err)
		}
		r.requests = f
	}
	if c.wantDatabase() {
		dbs, err := newDatabases(ctx, c.databaseURL, logf)
		if err != nil {
			return err
		}
		defer dbs.close()
		if err := (&bench{c: c, dbs: dbs}).rounds(ctx, r, logf); err != nil {
			return err
		}
	}
	r.print(stdout)
	return nil
}
