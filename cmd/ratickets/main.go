// Command ratickets syncs RetroAchievements achievement tickets into
// PostgreSQL. Run `ratickets --help` for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the run failed
	exitUsage  = 2 // usage or configuration error
)

const usageText = `ratickets syncs RetroAchievements achievement tickets into PostgreSQL.

Usage:
  ratickets <command> [flags]

Commands:
  sync       scan the open-ticket list, upsert every ticket, reconcile the ones that left it
  backfill   fetch tickets by id range (--from-id/--to-id) or by game (--games)
  serve      run sync on an interval and serve /metrics, /healthz, /readyz
  report     write a self-contained HTML report of the ticket analytics
  migrate    apply or inspect the database schema: migrate up|down|status
  fakeapi    run the built-in simulator of the RetroAchievements ticket API
  version    print the version

Run 'ratickets <command> --help' for the flags of a command.
Exit status: 0 success, 1 the run failed, 2 usage or configuration error.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "sync":
		return runSync(ctx, rest, getenv, stdout, stderr)
	case "backfill":
		return runBackfill(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "fakeapi":
		return runFakeAPI(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "ratickets %s\n", version())
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		if extra, ok := extraCommands[cmd]; ok {
			return extra(ctx, rest, getenv, stdout, stderr)
		}
		fmt.Fprintf(stderr, "ratickets: unknown command %q\n\n%s", cmd, usageText)
		return exitUsage
	}
}

type command func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int

// extraCommands are registered by the files that implement them (serve,
// report), so that main.go does not need to change when one is added.
var extraCommands = map[string]command{}
