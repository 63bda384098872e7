package e2e

import (
	"math/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// TestTransientFaultsAreRetried: each way the real site misbehaves, struck
// in the middle of a scan (or of the reconciliation lookups), is retried,
// and the run ends with exactly the source's data.
func TestTransientFaultsAreRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		faults    []fakeapi.Fault
		args      []string
		reconcile bool   // strike the i= lookups of a second run instead
		retries   int    // retries the client makes (default: one per fault)
		wantLog   string // what the retry warnings' error must mention
	}{
		{name: "429 with Retry-After", faults: []fakeapi.Fault{{Kind: fakeapi.FaultTooManyRequests, RetryAfter: 2 * time.Second}}, wantLog: "HTTP 429"},
		{name: "5xx burst", faults: []fakeapi.Fault{
			{Kind: fakeapi.FaultServerError, Status: 500}, {Kind: fakeapi.FaultServerError, Status: 502},
			{Kind: fakeapi.FaultServerError, Status: 503}}, wantLog: "HTTP 50"},
		{name: "HTML error page", faults: []fakeapi.Fault{{Kind: fakeapi.FaultHTML}}, wantLog: "malformed response body"},
		{name: "truncated JSON", faults: []fakeapi.Fault{{Kind: fakeapi.FaultTruncated}}, wantLog: "unexpected EOF"},
		{name: "slow beyond the timeout", faults: []fakeapi.Fault{{Kind: fakeapi.FaultSlow, Delay: 5 * time.Second}},
			args: []string{"--timeout", "1s"}, wantLog: "no complete response within 1s"},
		// A reset on a reused keep-alive connection, before any byte of the
		// answer, is retried by net/http itself (GET is idempotent) on a new
		// connection; a second reset there reaches the client, which retries.
		{name: "connection reset", faults: []fakeapi.Fault{{Kind: fakeapi.FaultReset}, {Kind: fakeapi.FaultReset}},
			retries: 1, wantLog: "y=REDACTED"},
		{name: "faults during reconciliation", reconcile: true, faults: []fakeapi.Fault{
			{Kind: fakeapi.FaultServerError, Status: 502}, {Kind: fakeapi.FaultHTML}, {Kind: fakeapi.FaultTruncated}}, wantLog: "ra api"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, fakeapi.Options{Seed: int64(100 + i), Tickets: 600})
			d := newDB(t)
			c := newCLI(t, w, d)
			args := append([]string{"--batch-size", "50"}, tc.args...)
			first := 3 // mid-scan: two pages are in
			if tc.reconcile {
				if res := c.sync(args...); res.code != 0 {
					t.Fatalf("first run: %s", res)
				}
				w.fake.Churn(rand.New(rand.NewSource(int64(i))), 120)
				first = 0
			}
			faulted := 0
			w.setScript(func(n int, r *http.Request) *fakeapi.Fault {
				switch {
				case tc.reconcile && r.URL.Query().Has("i") && faulted < len(tc.faults):
					faulted++
					return &tc.faults[faulted-1]
				case !tc.reconcile:
					return faultsOn(first, tc.faults...)(n, r)
				}
				return nil
			})
			res := c.sync(args...)
			if res.code != 0 {
				t.Fatalf("the run did not survive the faults:\n%s", res)
			}
			reqs := w.requests()
			var struck []request
			for _, r := range reqs {
				if r.fault != 0 {
					struck = append(struck, r)
				}
			}
			if len(struck) != len(tc.faults) {
				t.Fatalf("%d requests faulted, want %d: the test did not strike", len(struck), len(tc.faults))
			}
			if tc.reconcile {
				assertConverged(t, d, w)
			} else {
				assertMatchesOpenList(t, d, w)
			}
			assertConsistent(t, d)

			retries := tc.retries
			if retries == 0 {
				retries = len(tc.faults)
			}
			// What net/http retried on its own reached the server but is no
			// request of the client's.
			silent := len(tc.faults) - retries
			runs := d.runs(t)
			last := runs[len(runs)-1]
			if last.Status != "succeeded" || last.Retries != int64(retries) || last.Requests != int64(len(reqs)-silent) {
				t.Errorf("sync_runs row %+v: want succeeded, %d retries, %d requests", last, retries, len(reqs)-silent)
			}
			warns := logs(res.stderr, "ra api attempt failed; retrying")
			if len(warns) != retries {
				t.Errorf("%d retry warnings, want %d:\n%s", len(warns), retries, res.stderr)
			}
			wantMode := "list"
			if tc.reconcile {
				wantMode = "ticket"
			}
			for _, l := range warns {
				if !strings.Contains(l.str("error"), tc.wantLog) || l.str("level") != "warn" || l.str("mode") != wantMode {
					t.Errorf("retry warning is not a %s warning mentioning %q: %v", wantMode, tc.wantLog, l)
				}
			}
			// The request after a 429 waits at least Retry-After, measured
			// where the server sees the requests arrive.
			for _, s := range struck {
				if s.fault != fakeapi.FaultTooManyRequests {
					continue
				}
				next := reqs[s.n] // numbering is 1-based: reqs[s.n] is the one after
				if gap := next.at.Sub(s.at); gap < 2*time.Second {
					t.Errorf("the request after a 429 with Retry-After: 2 came %v later", gap)
				}
				if next.query.Get("o") != s.query.Get("o") {
					t.Errorf("the retry asked for o=%s, the 429 was for o=%s", next.query.Get("o"), s.query.Get("o"))
				}
			}
		})
	}
}

// TestRetryBudgetExhausted: a page that keeps failing fails the run (exit
// 1, recorded as failed with its reason), reconciles nothing and leaves the
// earlier runs' data intact; the next run converges to the truth.
func TestRetryBudgetExhausted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 31, Tickets: 600})
	d := newDB(t)
	c := newCLI(t, w, d)
	if res := c.sync("--batch-size", "50"); res.code != 0 {
		t.Fatalf("first run: %s", res)
	}
	before := d.tickets(t)
	historyBefore := d.count(t, `SELECT count(*) FROM ticket_history WHERE run_id = 1`)

	// Tickets leave the list (resolved, closed) and new ones arrive.
	w.fake.Churn(rand.New(rand.NewSource(31)), 150)
	left := 0
	for id, s := range before {
		if f, _ := w.fake.Get(id); f.ReportState != int(s.StateCode) {
			left++
		}
	}
	if left == 0 {
		t.Fatal("churn changed no stored ticket; the test proves nothing")
	}

	// The second page fails on every attempt: 1 + --max-retries 2.
	w.setScript(faultsOn(2,
		fakeapi.Fault{Kind: fakeapi.FaultServerError, Status: 503},
		fakeapi.Fault{Kind: fakeapi.FaultTruncated},
		fakeapi.Fault{Kind: fakeapi.FaultServerError, Status: 500}))
	res := c.sync("--batch-size", "50", "--max-retries", "2")
	if res.code != 1 {
		t.Fatalf("want exit 1:\n%s", res)
	}
	if !strings.Contains(res.stderr, "giving up after 3 attempts") || !strings.Contains(res.stderr, "HTTP 500") {
		t.Errorf("stderr does not give the reason:\n%s", res.stderr)
	}
	if n := len(w.requests()); n != 4 {
		t.Errorf("%d requests, want 4 (one page, then three attempts at the second)", n)
	}
	runs := d.runs(t)
	r := runs[1]
	if r.Status != "failed" || r.Error == nil || !strings.Contains(*r.Error, "giving up after 3 attempts") ||
		!r.Finished || r.ScanComplete || r.Reconciled != 0 || r.Vanished != 0 {
		t.Errorf("failed run recorded as %+v", r)
	}
	if runs[0].Status != "succeeded" {
		t.Errorf("first run now %q", runs[0].Status)
	}
	// Nothing reconciled: every ticket the first run stored is still there,
	// and each is either as it was or as the source says now (the page read
	// before the failure is stored: it is true).
	after := d.tickets(t)
	for id, s := range before {
		a, ok := after[id]
		if !ok {
			t.Errorf("ticket %d lost", id)
			continue
		}
		f, _ := w.fake.Get(id)
		if a.String() != s.String() && a.String() != stateOf(f).String() {
			t.Errorf("ticket %d changed to a state the source never had: %s", id, a)
		}
		if a.Vanished {
			t.Errorf("ticket %d marked vanished by a failed run", id)
		}
	}
	if n := d.count(t, `SELECT count(*) FROM ticket_history WHERE run_id = 1`); n != historyBefore {
		t.Errorf("the first run's history went from %d to %d versions", historyBefore, n)
	}
	assertConsistent(t, d)

	w.setScript(nil)
	if res := c.sync("--batch-size", "50"); res.code != 0 {
		t.Fatalf("next run: %s", res)
	}
	assertConverged(t, d, w)
	assertConsistent(t, d)
	if runs := d.runs(t); runs[2].Status != "succeeded" || runs[2].Reconciled == 0 {
		t.Errorf("next run %+v: want it to reconcile the tickets that left", runs[2])
	}
}

// TestWrongKeyFailsFast: a refused key is not retried: one request, exit 1
// within seconds, and a message that says what to fix.
func TestWrongKeyFailsFast(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 41, Tickets: 50})
	d := newDB(t)
	c := newCLI(t, w, d)
	c.env["RA_API_KEY"] = wrongKey
	res := c.sync("--log-level", "debug")
	if res.code != 1 {
		t.Fatalf("want exit 1:\n%s", res)
	}
	if !strings.Contains(res.stderr, "credentials refused") || !strings.Contains(res.stderr, "RA_API_KEY") {
		t.Errorf("stderr does not say the key was refused:\n%s", res.stderr)
	}
	if n := len(w.requests()); n != 1 {
		t.Errorf("%d requests with a wrong key, want 1 (no retry)", n)
	}
	// A retry storm would take at least the backoff (1s, 2s, 4s, ...).
	if res.took > 10*time.Second {
		t.Errorf("took %v to give up", res.took)
	}
	if runs := d.runs(t); len(runs) != 1 || runs[0].Status != "failed" {
		t.Errorf("sync_runs %+v", runs)
	}
}
