package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ratickets/ratickets/internal/redact"
	"github.com/ratickets/ratickets/load"
)

const migrateSynopsis = `migrate up|down|status [flags]

  up      apply every pending migration (what an upgrade needs)
  down    roll back the most recent migration
  status  list the migrations and whether each is applied`

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o := newFlagSet("migrate", migrateSynopsis, stderr)
	c := addCommon(o)
	if len(args) == 0 {
		o.fs.Usage()
		return exitUsage
	}
	sub := args[0]
	if sub == "-h" || sub == "--help" || sub == "help" {
		o.fs.Usage()
		return exitOK
	}
	if code, ok := parseFlags(o, args[1:], getenv); !ok {
		return code
	}
	red := redact.New(dbPasswords(c.databaseURL.val, getenv)...)
	log, err := newLogger(c.logFormat.val, c.logLevel.val, stderr, red, getenv)
	if err != nil {
		return exitCode(err, stderr, red)
	}
	if sub != "up" && sub != "down" && sub != "status" {
		return exitCode(usageErr("migrate: unknown subcommand %q (want up, down or status)", sub), stderr, red)
	}
	pool, err := connect(ctx, c.databaseURL.val)
	if err != nil {
		return exitCode(err, stderr, red)
	}
	defer pool.Close()
	m, err := load.NewMigrator(pool, log)
	if err != nil {
		return exitCode(err, stderr, red)
	}
	defer m.Close()
	switch sub {
	case "up":
		n, err := m.Up(ctx)
		if err != nil {
			return exitCode(err, stderr, red)
		}
		cur, _, _ := m.Versions(ctx)
		fmt.Fprintf(stdout, "applied %d migration(s); schema version %d\n", n, cur)
	case "down":
		if err := m.Down(ctx); err != nil {
			return exitCode(err, stderr, red)
		}
		cur, _, _ := m.Versions(ctx)
		fmt.Fprintf(stdout, "rolled back one migration; schema version %d\n", cur)
	case "status":
		st, err := m.Status(ctx)
		if err != nil {
			return exitCode(err, stderr, red)
		}
		for _, s := range st {
			applied := "pending"
			if s.Applied {
				applied = "applied " + s.AppliedAt
			}
			fmt.Fprintf(stdout, "%05d  %-40s %s\n", s.Version, s.Name, applied)
		}
	}
	return exitOK
}
