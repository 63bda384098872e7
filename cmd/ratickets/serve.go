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
	stdout, stderr := st.stdout, st.stderr
	m := metrics.New()
	c.onAttempt = m.OnAttempt
	interval, jitter, err := scheduleFlags(c.Interval, c.Jitter)
	if err != nil {
		return exitCode(err, stderr, nil)
	}
	env, err := c.setup(ctx, st)
	if err != nil {
		return exitCode(err, stderr, envRedactor(env))
	}
	defer env.close()
	log := env.log.With().Str("stage", "serve").Logger()

	migrator, err := load.NewMigrator(env.store.Pool(), env.log)
	if err != nil {
		return exitCode(err, stderr, env.red)
	}
	defer migrator.Close()
	seedLastSuccess(ctx, env, m)

	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return exitCode(fmt.Errorf("--listen: %w", err), stderr, env.red)
	}
	cfg := env.pipelineConfig(&c.jobFlags)
	s := &scheduler{
		cfg: cfg, m: m, log: log, interval: interval, jitter: jitter,
		store: env.store, versions: migrator.Versions, redact: env.red.String,
		now: time.Now, lastEnd: time.Now(),
	}
	srv := newHTTPServer(s.routes(), defaultHTTPTimeouts)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	addr := ln.Addr().String()
	fmt.Fprintf(stdout, "serving on http://%s\n", addr)
	log.Info().Str("listen", addr).Dur("interval", interval).Dur("jitter", jitter).Msg("serving; the first sync starts now")

	loopErr := s.loop(ctx, serveErr)

	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn().Err(err).Msg("HTTP server did not shut down cleanly")
	}
	if loopErr != nil {
		return exitCode(loopErr, stderr, env.red)
	}
	log.Info().Msg("stopped")
	return exitOK
}

// httpTimeouts bound what one client of serve's HTTP endpoints can hold:
// a slow or stalled client never keeps a connection (and its goroutine)
// for ever.
type httpTimeouts struct {
	readHeader time.Duration // the request line and headers
	read       time.Duration // the whole request, body included
	write      time.Duration // from the end of the request headers to the end of the answer
	idle       time.Duration // a keep-alive connection between requests
}

// defaultHTTPTimeouts: the endpoints answer in well under a second; write
// leaves room for /readyz's own readyTimeout.
var defaultHTTPTimeouts = httpTimeouts{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      30 * time.Second,
	idle:       2 * time.Minute,
}

func newHTTPServer(h http.Handler, t httpTimeouts) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      t.write,
		IdleTimeout:       t.idle,
	}
}

// scheduleFlags validates --interval and --jitter.
func scheduleFlags(interval time.Duration, jitterOpt string) (_, jitter time.Duration, err error) {
	if interval <= 0 {
		return 0, 0, usageErr("--interval must be more than 0")
	}
	if strings.TrimSpace(jitterOpt) == "" {
		return interval, interval / 10, nil
	}
	jitter, err = time.ParseDuration(strings.TrimSpace(jitterOpt))
	if err != nil {
		return 0, 0, usageErr("--jitter: %q is not a duration (e.g. 30s, 15m)", jitterOpt)
	}
	if jitter < 0 {
		return 0, 0, usageErr("--jitter must not be negative")
	}
	return interval, jitter, nil
}

// nextWait is how long to wait after a run that took elapsed, before the
// next one starts: the interval (doubled per consecutive failure, up to 4
// intervals) counted from the start of the run, plus a random jitter. A run
// that overran starts the next one after the jitter alone.
func nextWait(interval, jitter time.Duration, failures int, elapsed time.Duration, randN func(time.Duration) time.Duration) time.Duration {
	wait := interval<<min(max(failures, 0), maxBackoffShift) - elapsed
	wait = max(wait, 0)
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
	store            *load.Store
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
		if ctx.Err() != nil {
			ev := s.log.Info().Str("status", sum.Status)
			if sum.RunID != 0 {
				ev = ev.Int64("run_id", sum.RunID)
			}
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
		ev := s.log.Info()
		if err != nil {
			ev = s.log.Warn().Err(err)
		}
		if sum.RunID != 0 {
			ev = ev.Int64("run_id", sum.RunID)
		}
		ev.Str("status", sum.Status).Int("consecutive_failures", failures).Dur("wait", wait).
			Time("next_run_at", s.now().Add(wait)).Msg("next sync scheduled")

		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			s.log.Info().Msg("shutting down")
			return nil
		case err := <-serveErr:
			timer.Stop()
			return fmt.Errorf("HTTP server: %w", err)
		case <-timer.C:
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
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

func (s *scheduler) readiness(ctx context.Context) (lines []string, ok bool) {
	ok = true
	fail := func(format string, args ...any) {
		ok = false
		lines = append(lines, "FAIL "+s.redact(fmt.Sprintf(format, args...)))
	}
	if err := s.store.Pool().Ping(ctx); err != nil {
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
	if limit := staleIntervals * s.interval; age > limit {
		fail("runs: none ended in the last %s (%d intervals)", age.Round(time.Second), staleIntervals)
	} else {
		lines = append(lines, fmt.Sprintf("ok   runs: last ended %s ago", age.Round(time.Second)))
	}
	return lines, ok
}

// seedLastSuccess sets ratickets_last_success_timestamp_seconds from the
// database, so that a restarted serve or a one-shot sync whose run fails
// still reports the real age of the data.
func seedLastSuccess(ctx context.Context, env *jobEnv, m *metrics.Metrics) {
	last, err := env.store.LastSuccess(ctx)
	if err != nil {
		env.log.Warn().Err(err).Msg("could not read the last successful sync from the database")
		return
	}
	if last != nil {
		m.SetLastSuccess(*last)
	}
}

// metricsExport is sync's --metrics-file and --pushgateway: where a one-shot
// run under cron leaves its metrics.
type metricsExport struct {
	MetricsFile string `name:"metrics-file" envvar:"RATICKETS_METRICS_FILE" placeholder:"PATH" help:"write the run's metrics to this file in node_exporter's textfile-collector format (name it *.prom; written to a temporary file, then renamed)"`
	Pushgateway string `name:"pushgateway" envvar:"RATICKETS_PUSHGATEWAY" placeholder:"URL" help:"push the run's metrics to this Prometheus Pushgateway URL, job \"ratickets\""`
}

// pushJob is the Pushgateway job name.
const pushJob = "ratickets"

func (e *metricsExport) enabled() bool { return e.MetricsFile != "" || e.Pushgateway != "" }

// seed prepares the metrics before the run (see seedLastSuccess).
func (e *metricsExport) seed(ctx context.Context, env *jobEnv, m *metrics.Metrics) {
	if e.enabled() {
		seedLastSuccess(ctx, env, m)
	}
}

// write exports the metrics after the run. A failure is logged, not
// returned: the run's exit status says how the sync went, and a metrics file
// that stops changing shows in ratickets_last_success_timestamp_seconds.
func (e *metricsExport) write(ctx context.Context, env *jobEnv, m *metrics.Metrics) {
	if e.MetricsFile != "" {
		if err := m.WriteTextfile(e.MetricsFile); err != nil {
			env.log.Error().Err(err).Msg("could not write the metrics file")
		}
	}
	if e.Pushgateway != "" {
		// The run may have been cancelled: still push what it did.
		if err := m.Push(context.WithoutCancel(ctx), e.Pushgateway, pushJob); err != nil {
			env.log.Error().Err(err).Msg("could not push the metrics")
		}
	}
}
