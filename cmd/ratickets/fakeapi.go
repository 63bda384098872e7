package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// runFakeAPI serves the simulated RetroAchievements ticket API
// (internal/fakeapi) until ctx is cancelled. It prints exactly one line to
// stdout once it accepts connections, "fakeapi listening on http://ADDR
// (N tickets, M open)", which tests and `make demo` parse for the URL.
// Exit codes: 0 after a clean shutdown (or -h), 1 when it cannot listen or
// serve, 2 on a usage error.
func runFakeAPI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fakeapi", flag.ContinueOnError)
	fs.SetOutput(stderr)

	listen := fs.String("listen", "127.0.0.1:8089", "`address` to listen on (host:port; port 0 picks a free one)")
	tickets := fs.Int("tickets", 1000, "number of tickets in the generated world (0 = start empty)")
	seed := fs.Int64("seed", 1, "world `seed`: the same seed gives the same world, churn and faults")
	username := fs.String("username", "demo", "user name acting for simulated state changes (requests are checked by key only)")
	// No flag default: usage output must not echo a key taken from the environment.
	apiKey := fs.String("api-key", "", "the only web API `key` (y=) accepted; others get 401 (default: $FAKEAPI_API_KEY, else \"fake-api-key\")")
	churnEvery := fs.Duration("churn-every", 0, "apply random churn at this `interval` (0 = off)")
	churnEvents := fs.Int("churn-events", 20, "events per churn round: new tickets, resolutions, closes, quarantines, reopens")
	faultRate := fs.Float64("fault-rate", 0, "`probability` (0..1) that a request gets a random fault: 429, 5xx, HTML page, truncated body or reset")
	latency := fs.Duration("latency", 0, "fixed `delay` added to every API request")
	start := fs.String("start", "2024-06-01", "`date` (YYYY-MM-DD, UTC) of the newest generated ticket, or \"today\"; older ones go back about six years")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: ratickets fakeapi [flags]

Serves a deterministic simulation of the RetroAchievements endpoint
/API/API_GetTicketData.php (also without .php) for demos and tests:
the open-ticket list (o/c paging), i= single tickets and g=&d=1 game
tickets, with optional churn, faults and latency. It prints
"fakeapi listening on http://ADDR (N tickets, M open)" on stdout when
ready and serves until interrupted.

Flags:
`)
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	badUsage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "fakeapi: "+format+"\n", a...)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return badUsage("unexpected argument %q", fs.Arg(0))
	case *tickets < 0:
		return badUsage("--tickets must be >= 0")
	case *churnEvery < 0:
		return badUsage("--churn-every must be >= 0")
	case *churnEvents < 0:
		return badUsage("--churn-events must be >= 0")
	case *faultRate < 0 || *faultRate > 1:
		return badUsage("--fault-rate must be between 0 and 1")
	case *latency < 0:
		return badUsage("--latency must be >= 0")
	}
	startAt := time.Now().UTC().Truncate(24 * time.Hour)
	if *start != "today" {
		t, err := time.Parse(time.DateOnly, *start)
		if err != nil {
			return badUsage("--start: %q is not a date (YYYY-MM-DD) or \"today\"", *start)
		}
		startAt = t
	}
	if *apiKey == "" {
		*apiKey = getenv("FAKEAPI_API_KEY")
	}
	if *apiKey == "" {
		*apiKey = "fake-api-key"
	}

	srv := fakeapi.New(fakeapi.Options{
		Seed:     *seed,
		Tickets:  *tickets,
		Empty:    *tickets == 0,
		Username: *username,
		APIKey:   *apiKey,
		Latency:  *latency,
		Start:    startAt,
	})
	if *faultRate > 0 {
		// Separate streams so turning churn on does not change the faults.
		srv.SetFaultRate(*faultRate, rand.New(rand.NewSource(*seed+2)))
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "fakeapi: listen: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	fmt.Fprintf(stdout, "fakeapi listening on http://%s (%d tickets, %d open)\n",
		ln.Addr().String(), len(srv.All()), len(srv.Open()))

	if *churnEvery > 0 && *churnEvents > 0 {
		go func() {
			rng := rand.New(rand.NewSource(*seed + 1))
			tick := time.NewTicker(*churnEvery)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					srv.Churn(rng, *churnEvents)
				}
			}
		}()
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		fmt.Fprintf(stderr, "fakeapi: serve: %v\n", err)
		return 1
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		// Slow (FaultSlow/--latency) requests may outlive the grace period.
		_ = hs.Close()
	}
	return 0
}
