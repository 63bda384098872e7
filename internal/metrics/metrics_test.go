package metrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

// parseText reads the Prometheus text format into "name{labels}" -> value.
func parseText(t *testing.T, text string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("bad sample line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad value in %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func textfile(t *testing.T, m *Metrics) map[string]float64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ratickets.prom")
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseText(t, string(b))
}

func ptr[T any](v T) *T { return &v }

func TestFreshMetrics(t *testing.T) {
	t.Parallel()
	got := textfile(t, New())
	want := map[string]float64{
		`ratickets_runs_total{status="succeeded"}`:    0,
		`ratickets_runs_total{status="failed"}`:       0,
		`ratickets_runs_total{status="cancelled"}`:    0,
		`ratickets_runs_total{status="skipped"}`:      0,
		`ratickets_tickets_total{outcome="inserted"}`: 0,
		`ratickets_tickets_total{outcome="rejected"}`: 0,
		`ratickets_last_success_timestamp_seconds`:    0,
		`ratickets_api_retries_total`:                 0,
		`ratickets_run_duration_seconds_count`:        0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	// Unknown is absent, not a misleading 0.
	for _, k := range []string{OpenTickets, RowsPerSecond} {
		if _, ok := got[k]; ok {
			t.Errorf("%s exported before any run", k)
		}
	}
}

func TestObserveRunsAndAttempts(t *testing.T) {
	t.Parallel()
	m := New()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	m.SetLastSuccess(now.Add(-time.Hour)) // from the database at start

	for _, a := range []extract.Attempt{
		{Status: 200},
		{Status: 200},
		{Status: 500, Err: errors.New("boom"), Retry: true},
		{Status: 429, Err: errors.New("slow down"), Retry: true},
		{Status: 0, Err: errors.New("reset"), Retry: true},
		{Status: 0, Err: errors.New("reset")}, // gave up: not retried
		{Status: 401, Err: extract.ErrUnauthorized},
	} {
		m.OnAttempt(a)
	}
	m.ObserveRun(pipeline.Summary{RunID: 1, Status: load.StatusSucceeded, Seen: 300, Duration: 2 * time.Second,
		Counts: load.Counts{Inserted: 250, Updated: 30, Unchanged: 15, Rejected: 5}, APIOpenTickets: ptr(int64(290))})
	m.ObserveRun(pipeline.Summary{Status: pipeline.StatusSkipped})
	m.ObserveRun(pipeline.Summary{Status: load.StatusFailed, Error: "database down"}) // never recorded
	m.ObserveRun(pipeline.Summary{RunID: 3, Status: load.StatusFailed, Seen: 10, Duration: 4 * time.Second,
		Counts: load.Counts{Unchanged: 10}})

	got := textfile(t, m)
	nowSec := float64(now.Unix())
	want := map[string]float64{
		`ratickets_api_requests_total{code="200"}`:         2,
		`ratickets_api_requests_total{code="500"}`:         1,
		`ratickets_api_requests_total{code="429"}`:         1,
		`ratickets_api_requests_total{code="401"}`:         1,
		`ratickets_api_requests_total{code="none"}`:        2,
		`ratickets_api_retries_total`:                      3,
		`ratickets_runs_total{status="succeeded"}`:         1,
		`ratickets_runs_total{status="skipped"}`:           1,
		`ratickets_runs_total{status="failed"}`:            2,
		`ratickets_runs_total{status="cancelled"}`:         0,
		`ratickets_tickets_total{outcome="inserted"}`:      250,
		`ratickets_tickets_total{outcome="updated"}`:       30,
		`ratickets_tickets_total{outcome="unchanged"}`:     25,
		`ratickets_tickets_total{outcome="rejected"}`:      5,
		`ratickets_open_tickets`:                           290,
		`ratickets_rows_per_second`:                        2.5, // the last run: 10 tickets in 4s
		`ratickets_last_success_timestamp_seconds`:         nowSec,
		`ratickets_last_run_timestamp_seconds`:             nowSec,
		`ratickets_run_duration_seconds_count`:             2, // the two runs that started
		`ratickets_run_duration_seconds_sum`:               6,
		`ratickets_run_duration_seconds_bucket{le="1"}`:    0,
		`ratickets_run_duration_seconds_bucket{le="5"}`:    2,
		`ratickets_run_duration_seconds_bucket{le="+Inf"}`: 2,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
}

func TestLastSuccessOnlyMovesOnSuccess(t *testing.T) {
	t.Parallel()
	m := New()
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	m.SetLastSuccess(start)
	m.now = func() time.Time { return start.Add(time.Hour) }
	for _, st := range []string{load.StatusFailed, load.StatusCancelled} {
		m.ObserveRun(pipeline.Summary{RunID: 9, Status: st, Duration: time.Second})
	}
	got := textfile(t, m)
	if g := got[LastSuccessTimestamp]; g != float64(start.Unix()) {
		t.Errorf("last success %v after failed and cancelled runs, want %v", g, start.Unix())
	}
	if g := got[LastRunTimestamp]; g != float64(start.Add(time.Hour).Unix()) {
		t.Errorf("last run %v, want %v", g, start.Add(time.Hour).Unix())
	}
}

func TestWriteTextfileReplacesAtomically(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "ratickets.prom")
	m := New()
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	m.ObserveRun(pipeline.Summary{Status: pipeline.StatusSkipped})
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := parseText(t, string(b))[`ratickets_runs_total{status="skipped"}`]; got != 1 {
		t.Errorf("second write not in the file: skipped = %v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want 0644 so that node_exporter can read it", fi.Mode(), err)
	}
	if err := m.WriteTextfile(filepath.Join(dir, "missing", "x.prom")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

func TestPush(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		method string
		path   string
		body   []byte
		auth   string
	)
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		method, path = r.Method, r.URL.Path
		if u, p, ok := r.BasicAuth(); ok {
			auth = u + ":" + p
		}
		body, _ = io.ReadAll(r.Body)
		if strings.Contains(r.URL.Path, "broken") {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(gw.Close)

	m := New()
	m.ObserveRun(pipeline.Summary{RunID: 1, Status: load.StatusSucceeded, Duration: time.Second, Counts: load.Counts{Inserted: 3}})
	if err := m.Push(context.Background(), gw.URL, "ratickets"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if method != http.MethodPut || path != "/metrics/job/ratickets" {
		t.Errorf("pushed with %s %s, want PUT /metrics/job/ratickets (replace the group)", method, path)
	}
	for _, name := range []string{RunsTotal, TicketsTotal, LastSuccessTimestamp} {
		if !bytes.Contains(body, []byte(name)) {
			t.Errorf("push body lacks %s", name)
		}
	}
	if bytes.Contains(body, []byte("go_goroutines")) {
		t.Error("push carries Go runtime metrics")
	}
	if auth != "" {
		t.Errorf("basic auth %q sent without credentials in the URL", auth)
	}
	mu.Unlock()

	// Credentials in the URL go as basic auth and never into an error.
	withCreds := strings.Replace(gw.URL, "http://", "http://pusher:s3cret-pw@", 1)
	err := m.Push(context.Background(), withCreds, "broken")
	if err == nil {
		t.Fatal("a Pushgateway answering 500 was not an error")
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the password is in the error: %v", err)
	}
	mu.Lock()
	if auth != "pusher:s3cret-pw" {
		t.Errorf("basic auth %q, want the URL's credentials", auth)
	}
	mu.Unlock()
	if err := m.Push(context.Background(), "not a url", "ratickets"); err == nil {
		t.Error("a relative Pushgateway URL was accepted")
	}
}

func TestHandlerServesRuntimeMetricsToo(t *testing.T) {
	t.Parallel()
	m := New()
	m.OnAttempt(extract.Attempt{Status: 200})
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := parseText(t, string(b))
	if got[`ratickets_api_requests_total{code="200"}`] != 1 {
		t.Errorf("api requests not served:\n%s", b)
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("go_goroutines missing from /metrics")
	}
	// The textfile stays free of them (node_exporter has its own).
	if _, ok := textfile(t, m)["go_goroutines"]; ok {
		t.Error("runtime metrics in the textfile")
	}
}
