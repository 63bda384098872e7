package main

import (
	"context"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// fakeapiCmd is `ratickets fakeapi`: it serves the simulated
// RetroAchievements ticket API (internal/fakeapi) until ctx is cancelled. It
// prints exactly one line to stdout once it accepts connections, "fakeapi
// listening on http://ADDR (N tickets, M open)", which tests and `make demo`
// parse for the URL. Exit codes: 0 after a clean shutdown (or --help), 1 when
// it cannot listen or serve, 2 on a usage error.
type fakeapiCmd struct {
	Listen      string        `name:"listen" default:"127.0.0.1:8089" placeholder:"ADDR" help:"address to listen on (host:port; port 0 picks a free one)"`
	Tickets     int           `name:"tickets" default:"1000" help:"number of tickets in the generated world (0 = start empty)"`
	Seed        int64         `name:"seed" default:"1" help:"world seed: the same seed gives the same world, churn and faults"`
	Username    string        `name:"username" default:"demo" help:"user name acting for simulated state changes (requests are checked by key only)"`
	APIKey      string        `name:"api-key" envvar:"FAKEAPI_API_KEY" default:"fake-api-key" placeholder:"KEY" help:"the only web API key (y=) accepted; others get 401"`
	ChurnEvery  time.Duration `name:"churn-every" default:"0s" help:"apply random churn at this interval (0 = off)"`
	ChurnEvents int           `name:"churn-events" default:"20" help:"events per churn round: new tickets, resolutions, closes, quarantines, reopens"`
	FaultRate   float64       `name:"fault-rate" default:"0" help:"probability (0..1) that a request gets a random fault: 429, 5xx, HTML page, truncated body or reset"`
	Latency     time.Duration `name:"latency" default:"0s" help:"fixed delay added to every API request"`
	NoV2        bool          `name:"no-v2" help:"serve no v2 API (/api/v2/... answers 404, as a site without it would): exercises the fallback to v1"`
	Start       string        `name:"start" default:"2024-06-01" placeholder:"DATE" help:"date (YYYY-MM-DD, UTC) of the newest generated ticket, or \"today\"; older ones go back about six years"`
}

func (*fakeapiCmd) Help() string {
	return `Serves a deterministic simulation of the RetroAchievements endpoint
/API/API_GetTicketData.php (also without .php) for demos and tests:
the open-ticket list (o/c paging), i= single tickets and g=&d=1 game
tickets, with optional churn, faults and latency; and, from the same world,
the v2 resource /api/v2/tickets (key in X-API-Key; leaderboard tickets too;
--no-v2 turns it off). It prints
"fakeapi listening on http://ADDR (N tickets, M open)" on stdout when
ready and serves until interrupted.`
}

func (c *fakeapiCmd) run(ctx context.Context, st stdio) int {
	badUsage := func(format string, a ...any) int {
		fmt.Fprintf(st.stderr, "ratickets fakeapi: "+format+"\nRun 'ratickets fakeapi --help' for the flags.\n", a...)
		return exitUsage
	}
	startAt, dateErr := time.Parse(time.DateOnly, c.Start)
	if c.Start == "today" {
		startAt, dateErr = time.Now().UTC().Truncate(24*time.Hour), nil
	}
	switch {
	case c.Tickets < 0:
		return badUsage("--tickets must be >= 0")
	case c.ChurnEvery < 0:
		return badUsage("--churn-every must be >= 0")
	case c.ChurnEvents < 0:
		return badUsage("--churn-events must be >= 0")
	case c.FaultRate < 0 || c.FaultRate > 1:
		return badUsage("--fault-rate must be between 0 and 1")
	case c.Latency < 0:
		return badUsage("--latency must be >= 0")
	case dateErr != nil:
		return badUsage("--start: %q is not a date (YYYY-MM-DD) or \"today\"", c.Start)
	case c.APIKey == "":
		return badUsage("--api-key must not be empty")
	}

	srv := fakeapi.New(fakeapi.Options{
		Seed:      c.Seed,
		Tickets:   c.Tickets,
		Empty:     c.Tickets == 0,
		Username:  c.Username,
		APIKey:    c.APIKey,
		Latency:   c.Latency,
		Start:     startAt,
		DisableV2: c.NoV2,
	})
	if c.FaultRate > 0 {
		// Separate streams so turning churn on does not change the faults.
		srv.SetFaultRate(c.FaultRate, rand.New(rand.NewSource(c.Seed+2)))
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", c.Listen)
	if err != nil {
		fmt.Fprintf(st.stderr, "fakeapi: listen: %v\n", err)
		return exitFailed
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	fmt.Fprintf(st.stdout, "fakeapi listening on http://%s (%d tickets, %d open)\n",
		ln.Addr().String(), len(srv.All()), len(srv.Open()))

	if c.ChurnEvery > 0 && c.ChurnEvents > 0 {
		go func() {
			rng := rand.New(rand.NewSource(c.Seed + 1))
			tick := time.Tick(c.ChurnEvery)
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick:
					srv.Churn(rng, c.ChurnEvents)
				}
			}
		}()
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		fmt.Fprintf(st.stderr, "fakeapi: serve: %v\n", err)
		return exitFailed
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		// Slow (FaultSlow/--latency) requests may outlive the grace period.
		_ = hs.Close()
	}
	return exitOK
}
