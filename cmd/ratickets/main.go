// Command ratickets syncs RetroAchievements achievement tickets into
// PostgreSQL. Run `ratickets --help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/internal/report"
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

// cliModel is the whole command line: every command, flag, environment
// variable (the envvar tag, read through run's getenv) and default.
type cliModel struct {
	Version kong.VersionFlag `name:"version" help:"print the version and exit"`

	Sync     syncCmd     `cmd:"" help:"scan the open-ticket list, upsert every ticket, reconcile the ones that left it"`
	Backfill backfillCmd `cmd:"" help:"fetch every ticket (--all), tickets by id range (--from-id/--to-id) or by game (--games)"`
	Serve    serveCmd    `cmd:"" help:"run sync on an interval and serve /metrics, /healthz, /readyz"`
	Report   reportCmd   `cmd:"" help:"write a self-contained HTML report of the ticket analytics"`
	Migrate  migrateCmd  `cmd:"" help:"apply or inspect the database schema: migrate up|down|status"`
	Fakeapi  fakeapiCmd  `cmd:"" name:"fakeapi" help:"run the built-in simulator of the RetroAchievements ticket API"`
	VersionC versionCmd  `cmd:"" name:"version" help:"print the version"`
}

// stdio carries what a command needs from run besides its flags.
type stdio struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

const description = `ratickets syncs RetroAchievements achievement tickets into PostgreSQL.

A flag wins over its environment variable, which wins over the default.
Exit status: 0 success, 1 the run failed, 2 usage or configuration error.`

// runner is implemented by every command.
type runner interface {
	run(ctx context.Context, s stdio) int
}

// exitRequest is how kong's exit (after --help or --version) reaches run.
type exitRequest int

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (code int) {
	// Without a command: the overview, on stderr, as a usage error.
	noCommand := len(args) == 0
	if noCommand {
		args, stdout = []string{"--help"}, stderr
	}
	defer func() {
		if r := recover(); r != nil {
			req, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			code = int(req)
			if noCommand {
				code = exitUsage
			}
		}
	}()
	parser := kong.Must(&cliModel{},
		kong.Name("ratickets"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		kong.Resolvers(envResolver(getenv)),
		kong.ValueFormatter(helpValue),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.Vars{
			"version":            "ratickets " + version(),
			"default_base_url":   extract.DefaultBaseURL,
			"default_batch_size": strconv.Itoa(pipeline.DefaultBatchSize),
			"default_title":      report.DefaultTitle,
		},
	)
	isCommand := func(n *kong.Node) bool { return n.Name == args[0] }
	switch {
	case args[0] == "help" || args[0] == "-help":
		args = append(args[1:], "--help")
	case !strings.HasPrefix(args[0], "-") && !slices.ContainsFunc(parser.Model.Children, isCommand):
		fmt.Fprintf(stderr, "ratickets: unknown command %q\nRun 'ratickets --help' for the commands.\n", args[0])
		return exitUsage
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "ratickets: %v\n", err)
		var perr *kong.ParseError
		if errors.As(err, &perr) && perr.Context != nil && perr.Context.Selected() != nil {
			fmt.Fprintf(stderr, "Run 'ratickets %s --help' for the flags.\n", perr.Context.Selected().Name)
		} else {
			fmt.Fprintln(stderr, "Run 'ratickets --help' for the commands.")
		}
		return exitUsage
	}
	return kctx.Selected().Target.Addr().Interface().(runner).run(ctx, stdio{getenv: getenv, stdout: stdout, stderr: stderr})
}

// envResolver resolves a flag that was not given on the command line from
// its envvar tag through getenv (not os.Getenv: tests run in parallel, each
// with its own environment). An empty variable counts as unset.
func envResolver(getenv func(string) string) kong.Resolver {
	return kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
		if name := flag.Tag.Get("envvar"); name != "" && getenv(name) != "" {
			return getenv(name), nil
		}
		return nil, nil
	})
}

// helpValue is a flag's help line: its text and environment variable (kong
// shows the default as the value placeholder). Secrets have no default, so
// no value of one is ever shown.
func helpValue(v *kong.Value) string {
	if name := v.Tag.Get("envvar"); name != "" {
		return v.Help + " ($" + name + ")"
	}
	return v.Help
}

// versionCmd prints the version.
type versionCmd struct{}

func (versionCmd) run(_ context.Context, s stdio) int {
	fmt.Fprintf(s.stdout, "ratickets %s\n", version())
	return exitOK
}

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
