package main

import (
	"context"
	"fmt"

	"github.com/ratickets/ratickets/load"
)

// migrateCmd is `ratickets migrate up|down|status`.
type migrateCmd struct {
	DB     dbFlags `embed:""`
	Action string  `arg:"" optional:"" enum:"up,down,status," default:"" help:"up: apply every pending migration (what an upgrade needs); down: roll back the most recent one; status: list the migrations and whether each is applied"`
}

func (c *migrateCmd) run(ctx context.Context, st stdio) int {
	red := c.DB.redactor(st.getenv)
	if c.Action == "" {
		return exitCode(usageErr("migrate: need a subcommand: ratickets migrate up|down|status"), st.stderr, red)
	}
	log, err := newLogger(c.DB.LogFormat, c.DB.LogLevel, st.stderr, red, st.getenv)
	if err != nil {
		return exitCode(err, st.stderr, red)
	}
	pool, err := connect(ctx, c.DB, red)
	if err != nil {
		return exitCode(err, st.stderr, red)
	}
	defer pool.Close()
	m, err := load.NewMigrator(pool, log)
	if err != nil {
		return exitCode(err, st.stderr, red)
	}
	defer m.Close()
	switch c.Action {
	case "up":
		var n int
		if n, err = m.Up(ctx); err == nil {
			cur, _, _ := m.Versions(ctx)
			fmt.Fprintf(st.stdout, "applied %d migration(s); schema version %d\n", n, cur)
		}
	case "down":
		if err = m.Down(ctx); err == nil {
			cur, _, _ := m.Versions(ctx)
			fmt.Fprintf(st.stdout, "rolled back one migration; schema version %d\n", cur)
		}
	case "status":
		var status []load.MigrationStatus
		status, err = m.Status(ctx)
		for _, s := range status {
			applied := "pending"
			if s.Applied {
				applied = "applied " + s.AppliedAt
			}
			fmt.Fprintf(st.stdout, "%05d  %-40s %s\n", s.Version, s.Name, applied)
		}
	}
	return exitCode(err, st.stderr, red)
}
