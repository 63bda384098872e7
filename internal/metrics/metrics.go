package metrics

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// Metric names, for documentation, alerts and tests.
const (
	RunsTotal            = "ratickets_runs_total"
	RunDurationSeconds   = "ratickets_run_duration_seconds"
	LastSuccessTimestamp = "ratickets_last_success_timestamp_seconds"
	LastRunTimestamp     = "ratickets_last_run_timestamp_seconds"
	APIRequestsTotal     = "ratickets_api_requests_total"
	APIRetriesTotal      = "ratickets_api_retries_total"
	TicketsTotal         = "ratickets_tickets_total"
	OpenTickets          = "ratickets_open_tickets"
	RowsPerSecond        = "ratickets_rows_per_second"
)

// Metrics is one set of ratickets metrics in a registry of its own. All
// methods are safe for concurrent use.
type Metrics struct {
	reg           *prometheus.Registry // no Go runtime or process metrics: they would clash with node_exporter's own in a textfile
	runs          *prometheus.CounterVec
	runDuration   prometheus.Histogram
	lastSuccess   prometheus.Gauge
	lastRun       prometheus.Gauge
	apiRequests   *prometheus.CounterVec
	apiRetries    prometheus.Counter
	tickets       *prometheus.CounterVec
	openTickets   *prometheus.GaugeVec
	rowsPerSecond *prometheus.GaugeVec
	now           func() time.Time
}

// New returns a Metrics with every metric registered in a new registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	f := promauto.With(reg)
	m := &Metrics{
		reg: reg,
		now: time.Now,
		runs: f.NewCounterVec(prometheus.CounterOpts{
			Name: RunsTotal,
			Help: "Sync runs by outcome: succeeded, failed, cancelled, or skipped (another process held the lock).",
		}, []string{"status"}),
		runDuration: f.NewHistogram(prometheus.HistogramOpts{
			Name:    RunDurationSeconds,
			Help:    "Wall-clock duration of the sync runs that started (not the skipped ones).",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200},
		}),
		lastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Name: LastSuccessTimestamp,
			Help: "Unix time at which the last successful sync finished (from the database at start, so it survives restarts); 0 = never.",
		}),
		lastRun: f.NewGauge(prometheus.GaugeOpts{
			Name: LastRunTimestamp,
			Help: "Unix time at which the last sync run that started finished, whatever its outcome; 0 = none yet.",
		}),
		apiRequests: f.NewCounterVec(prometheus.CounterOpts{
			Name: APIRequestsTotal,
			Help: "HTTP attempts to the RetroAchievements API by status code (\"none\" when no response arrived: timeout, reset).",
		}, []string{"code"}),
		apiRetries: f.NewCounter(prometheus.CounterOpts{
			Name: APIRetriesTotal,
			Help: "Failed API attempts that were retried (429, 5xx, timeouts, resets, malformed bodies).",
		}),
		tickets: f.NewCounterVec(prometheus.CounterOpts{
			Name: TicketsTotal,
			Help: "Tickets merged by outcome: inserted, updated, unchanged (not rewritten) or rejected (set aside in rejected_records).",
		}, []string{"outcome"}),
		// A vector without labels exports nothing until it is first set:
		// "unknown" is absent, not a misleading 0.
		openTickets: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: OpenTickets,
			Help: "The API's OpenTickets count at the last sync that read a page.",
		}, nil),
		rowsPerSecond: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: RowsPerSecond,
			Help: "Tickets seen per second of run time in the last sync run that started.",
		}, nil),
	}
	// Every label value a run can produce exists from the start at 0, so
	// that rate() and increase() see the first increment.
	for _, s := range []string{load.StatusSucceeded, load.StatusFailed, load.StatusCancelled, pipeline.StatusSkipped} {
		m.runs.WithLabelValues(s)
	}
	for _, o := range []string{"inserted", "updated", "unchanged", "rejected"} {
		m.tickets.WithLabelValues(o)
	}
	return m
}

// OnAttempt counts one HTTP attempt; use it as extract.Config.OnAttempt.
func (m *Metrics) OnAttempt(a extract.Attempt) {
	code := "none" // no HTTP response at all
	if a.Status > 0 {
		code = strconv.Itoa(a.Status)
	}
	m.apiRequests.WithLabelValues(code).Inc()
	if a.Retry {
		m.apiRetries.Inc()
	}
}

// ObserveRun records what one sync run did. Call it with every Summary
// pipeline.Sync returns, including the skipped ones and those of runs that
// failed before they were recorded (RunID 0), which only count in
// ratickets_runs_total.
func (m *Metrics) ObserveRun(s pipeline.Summary) {
	status := s.Status
	if status == "" {
		status = load.StatusFailed
	}
	// The run counter moves last: a scrape that sees the run counted sees
	// everything else it did too.
	defer m.runs.WithLabelValues(status).Inc()
	if s.RunID == 0 {
		return
	}
	now := float64(m.now().UnixNano()) / 1e9
	m.runDuration.Observe(s.Duration.Seconds())
	m.lastRun.Set(now)
	if s.Status == load.StatusSucceeded {
		m.lastSuccess.Set(now)
	}
	m.tickets.WithLabelValues("inserted").Add(float64(s.Counts.Inserted))
	m.tickets.WithLabelValues("updated").Add(float64(s.Counts.Updated))
	m.tickets.WithLabelValues("unchanged").Add(float64(s.Counts.Unchanged))
	m.tickets.WithLabelValues("rejected").Add(float64(s.Counts.Rejected))
	if s.APIOpenTickets != nil {
		m.openTickets.WithLabelValues().Set(float64(*s.APIOpenTickets))
	}
	if s.Duration > 0 {
		m.rowsPerSecond.WithLabelValues().Set(float64(s.Seen) / s.Duration.Seconds())
	}
}

// SetLastSuccess sets ratickets_last_success_timestamp_seconds, e.g. from
// the database's last succeeded run when the process starts, so that a
// restart or a one-shot run that fails does not look like "never".
func (m *Metrics) SetLastSuccess(t time.Time) {
	if t.IsZero() {
		return
	}
	m.lastSuccess.Set(float64(t.UnixNano()) / 1e9)
}

// Handler serves the ratickets metrics plus the Go runtime and process
// metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	runtime := prometheus.NewRegistry()
	runtime.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(prometheus.Gatherers{m.reg, runtime}, promhttp.HandlerOpts{})
}

// WriteTextfile writes the metrics to path in the text format that
// node_exporter's textfile collector reads (name the file *.prom). It writes
// a temporary file in the same directory and renames it over path, so the
// collector never reads half a file.
func (m *Metrics) WriteTextfile(path string) error {
	if err := prometheus.WriteToTextfile(path, m.reg); err != nil {
		return fmt.Errorf("metrics: write %s: %w", path, err)
	}
	return nil
}

// Push replaces the metrics of job on the Pushgateway at rawURL (an HTTP
// PUT of the whole group, as a one-shot job should). Credentials in the URL
// (https://user:pass@host) are sent as basic auth and kept out of errors.
// It gives up after 30s.
func (m *Metrics) Push(ctx context.Context, rawURL, job string) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("metrics: Pushgateway URL %q is not an absolute URL", redactedURL(rawURL))
	}
	user := u.User
	u.User = nil
	p := push.New(u.String(), job).Gatherer(m.reg).Client(&http.Client{Timeout: 30 * time.Second})
	if user != nil {
		pass, _ := user.Password()
		p = p.BasicAuth(user.Username(), pass)
	}
	if err := p.PushContext(ctx); err != nil {
		return fmt.Errorf("metrics: push to the Pushgateway: %w", err)
	}
	return nil
}

// redactedURL hides a password in a URL that may not parse.
func redactedURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "…" + s[i:]
	}
	return s
}
