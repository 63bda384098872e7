package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/internal/metrics"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// serveCmd is `ratickets serve`.
type serveCmd struct {
	jobFlags `embed:""`
	Interval time.Duration `name:"interval" envvar:"RATICKETS_INTERVAL" default:"15m" help:"time from the start of one sync to the start of the next"`
	Jitter   string        `name:"jitter" envvar:"RATICKETS_JITTER" placeholder:"DURATION" help:"add up to this much random delay to each wait, so that installations do not call the API in step; empty = 10% of --interval"`
	Listen   string        `name:"listen" envvar:"RATICKETS_LISTEN" default:"127.0.0.1:9464" help:"address for /metrics, /healthz and /readyz"`
}

func (*serveCmd) Help() string {
	return `Runs sync now and then every --interval (plus a random --jitter), never two
at once (a run that finds another process holding the lock is skipped),
waiting up to 4 intervals after consecutive failures. Serves /metrics
(Prometheus), /healthz (the process is alive) and /readyz (the database
answers, the schema is current and a run ended within 3 intervals) on
--listen. On SIGTERM or SIGINT the run in flight is cancelled (its open
batch rolls back and the run is recorded as cancelled) and it exits 0.`
}

// Scheduling constants.
const (
	maxBackoffShift = 2 // consecutive failures double the wait up to 1<<2 = 4 intervals
	staleIntervals  = 3 // /readyz fails when no run ended for this many intervals
	readyTimeout    = 3 * time.Second
	shutdownTimeout = 10 * time.Second
)

func (c *serveCmd) run(ctx context.Context, st stdio) int {
	jitter, err := c.jitter()
	if err != nil {
		return exitCode(err, st.stderr, nil)
	}
	m := metrics.New()
	j, err := c.setup(ctx, st, m.OnAttempt)
	if err != nil {
		return exitCode(err, st.stderr, j.red)
	}
	defer j.close()
	log := j.Log.With().Str("stage", "serve").Logger()
	j.seedLastSuccess(ctx, m)

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return exitCode(fmt.Errorf("--listen: %w", err), st.stderr, j.red)
	}
	s := &scheduler{
		cfg: j.Config, m: m, log: log, interval: c.Interval, jitter: jitter,
		versions: j.migrator.Versions, redact: j.red.String,
		now: time.Now, lastEnd: time.Now(),
	}
	srv := newHTTPServer(s.routes())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	fmt.Fprintf(st.stdout, "serving on http://%s\n", addr)
	log.Info().Str("listen", addr).Dur("interval", c.Interval).Dur("jitter", jitter).Msg("serving; the first sync starts now")

	loopErr := s.loop(ctx, serveErr)

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("HTTP server did not shut down cleanly")
	}
	if loopErr != nil {
		return exitCode(loopErr, st.stderr, j.red)
	}
	log.Info().Msg("stopped")
	return exitOK
}

// newHTTPServer bounds what one client of serve's HTTP endpoints can hold:
// a slow or stalled client never keeps a connection (and its goroutine) for
// ever. The endpoints answer in well under a second; WriteTimeout (counted
// from the end of the request headers) leaves room for /readyz's own
// readyTimeout.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
}

// jitter validates --interval and --jitter and returns the jitter.
func (c *serveCmd) jitter() (time.Duration, error) {
	s := strings.TrimSpace(c.Jitter)
	switch {
	case c.Interval <= 0:
		return 0, usageErr("--interval must be more than 0")
	case s == "":
		return c.Interval / 10, nil
	}
	jitter, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, usageErr("--jitter: %q is not a duration (e.g. 30s, 15m)", c.Jitter)
	case jitter < 0:
		return 0, usageErr("--jitter must not be negative")
	}
	return jitter, nil
}

// nextWait is how long to wait after a run that took elapsed, before the
// next one starts: the interval (doubled per consecutive failure, up to 4
// intervals) counted from the start of the run, plus a random jitter. A run
// that overran starts the next one after the jitter alone.
func nextWait(interval, jitter time.Duration, failures int, elapsed time.Duration, randN func(time.Duration) time.Duration) time.Duration {
	wait := max(interval<<min(max(failures, 0), maxBackoffShift)-elapsed, 0)
	if jitter > 0 {
		wait += randN(jitter)
	}
	return wait
}

// scheduler runs sync in a loop and answers the health endpoints.
type scheduler struct {
	cfg              pipeline.Config
	m                *metrics.Metrics
	log              zerolog.Logger
	interval, jitter time.Duration
	versions         func(context.Context) (current, latest int64, err error)
	redact           func(string) string
	now              func() time.Time

	mu       sync.Mutex
	lastEnd  time.Time // when the last run ended; the process start before the first
	failures int       // consecutive failed runs
}

// loop runs sync until ctx ends (then it returns nil: a requested shutdown
// is a success) or the HTTP server fails.
func (s *scheduler) loop(ctx context.Context, serveErr <-chan error) error {
	for {
		start := s.now()
		sum, err := pipeline.Sync(ctx, s.cfg)
		// Every outcome is observed, skipped runs and runs that failed
		// before they were recorded (database down) included.
		s.m.ObserveRun(sum)
		if errors.Is(err, load.ErrSchemaTooNew) {
			return err // no later run can succeed: refuse, as sync does
		}
		ev := s.log.Info()
		if err != nil && ctx.Err() == nil {
			ev = s.log.Warn().Err(err)
		}
		if sum.RunID != 0 {
			ev = ev.Int64("run_id", sum.RunID)
		}
		ev = ev.Str("status", sum.Status)
		if ctx.Err() != nil {
			ev.Msg("shutting down")
			return nil
		}
		s.mu.Lock()
		s.lastEnd = s.now()
		switch {
		case err != nil:
			s.failures++
		case sum.Status != pipeline.StatusSkipped:
			s.failures = 0
		}
		failures := s.failures
		s.mu.Unlock()

		wait := nextWait(s.interval, s.jitter, failures, s.now().Sub(start), rand.N[time.Duration])
		ev.Int("consecutive_failures", failures).Dur("wait", wait).Time("next_run_at", s.now().Add(wait)).Msg("next sync scheduled")
		select {
		case <-ctx.Done():
			s.log.Info().Msg("shutting down")
			return nil
		case err := <-serveErr:
			return fmt.Errorf("HTTP server: %w", err)
		case <-time.After(wait): // unstopped, it is collected (Go 1.23+)
		}
	}
}

func (s *scheduler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	return mux
}

// readyz answers 200 when every check passes and 503 otherwise, with one
// line per check either way.
func (s *scheduler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	lines, ok := s.readiness(ctx)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
	} else {
		fmt.Fprintln(w, "ready")
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}

func (s *scheduler) readiness(ctx context.Context) (lines []string, ok bool) {
	ok = true
	fail := func(format string, args ...any) {
		ok = false
		lines = append(lines, "FAIL "+s.redact(fmt.Sprintf(format, args...)))
	}
	if err := s.cfg.Store.Pool().Ping(ctx); err != nil {
		fail("database: %v", err)
	} else {
		lines = append(lines, "ok   database: reachable")
		switch cur, latest, err := s.versions(ctx); {
		case err != nil:
			fail("schema: %v", err)
		case cur > latest:
			fail("schema: version %d is newer than this binary's %d (run the ratickets that migrated it, or a newer one)", cur, latest)
		case cur != latest:
			fail("schema: at version %d, this binary expects %d (run `ratickets migrate up`)", cur, latest)
		default:
			lines = append(lines, fmt.Sprintf("ok   schema: version %d", cur))
		}
	}
	s.mu.Lock()
	age := s.now().Sub(s.lastEnd)
	s.mu.Unlock()
	if age > staleIntervals*s.interval {
		fail("runs: none ended in the last %s (%d intervals)", age.Round(time.Second), staleIntervals)
	} else {
		lines = append(lines, fmt.Sprintf("ok   runs: last ended %s ago", age.Round(time.Second)))
	}
	return lines, ok
}
