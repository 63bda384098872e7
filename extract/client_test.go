package extract

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/testlog"
	"golang.org/x/time/rate"
)

func TestRequestParamsAndHeaders(t *testing.T) {
	t.Parallel()
	ok := respond(200, listBody(1, "1"))
	okGame := respond(200, `{"GameID":7,"OpenTickets":1,"Tickets":[`+ticketJSON(5, "2024-01-01 00:00:00")+`]}`)
	okTicket := respond(200, ticketJSON(5, "2024-01-01 00:00:00"))
	tests := []struct {
		name     string
		resp     responder
		prefix   string // appended to the server URL as BaseURL path
		ua       string
		call     func(*Client) error
		wantPath string
		want     url.Values
	}{
		{
			name: "open page", resp: ok,
			call:     func(c *Client) error { _, err := c.OpenPage(context.Background(), 200, 100); return err },
			wantPath: "/API/API_GetTicketData.php",
			want:     url.Values{"z": {testUser}, "y": {testKey}, "o": {"200"}, "c": {"100"}},
		},
		{
			name: "ticket", resp: okTicket,
			call:     func(c *Client) error { _, err := c.Ticket(context.Background(), 64866); return err },
			wantPath: "/API/API_GetTicketData.php",
			want:     url.Values{"z": {testUser}, "y": {testKey}, "i": {"64866"}},
		},
		{
			name: "game core", resp: okGame,
			call:     func(c *Client) error { _, err := c.GamePage(context.Background(), 7, false, 0, 100); return err },
			wantPath: "/API/API_GetTicketData.php",
			want:     url.Values{"z": {testUser}, "y": {testKey}, "g": {"7"}, "d": {"1"}, "o": {"0"}, "c": {"100"}},
		},
		{
			name: "game unofficial", resp: okGame,
			call:     func(c *Client) error { _, err := c.GamePage(context.Background(), 7, true, 100, 50); return err },
			wantPath: "/API/API_GetTicketData.php",
			want:     url.Values{"z": {testUser}, "y": {testKey}, "g": {"7"}, "d": {"1"}, "f": {"5"}, "o": {"100"}, "c": {"50"}},
		},
		{
			name: "base URL with path prefix and trailing slash", resp: ok, prefix: "/mirror/", ua: "ratickets/1.2.3",
			call:     func(c *Client) error { _, err := c.OpenPage(context.Background(), 0, 10); return err },
			wantPath: "/mirror/API/API_GetTicketData.php",
			want:     url.Values{"z": {testUser}, "y": {testKey}, "o": {"0"}, "c": {"10"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{tt.resp}, func(c *Config) {
				c.UserAgent = tt.ua
			})
			if tt.prefix != "" {
				c2, err := New(Config{BaseURL: h.srv.URL + tt.prefix, Username: testUser, APIKey: testKey, UserAgent: tt.ua})
				if err != nil {
					t.Fatal(err)
				}
				h.c = c2
			}
			if err := tt.call(h.c); err != nil {
				t.Fatalf("call: %v", err)
			}
			r := <-h.reqs
			if r.Method != http.MethodGet || r.URL.Path != tt.wantPath {
				t.Errorf("got %s %s, want GET %s", r.Method, r.URL.Path, tt.wantPath)
			}
			if got := r.URL.Query(); got.Encode() != tt.want.Encode() {
				t.Errorf("query = %s, want %s", got.Encode(), tt.want.Encode())
			}
			wantUA := tt.ua
			if wantUA == "" {
				wantUA = DefaultUserAgent
			}
			if got := r.Header.Get("User-Agent"); got != wantUA {
				t.Errorf("User-Agent = %q, want %q", got, wantUA)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
		})
	}
}

func TestArgumentsThatWouldChangeTheMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []responder{okList(1)}, nil)
	ctx := context.Background()
	// i=0 or g=0 would silently become the open-list request on the server.
	if _, err := h.c.Ticket(ctx, 0); err == nil {
		t.Error("Ticket(0): no error")
	}
	if _, err := h.c.GamePage(ctx, 0, false, 0, 10); err == nil {
		t.Error("GamePage(0): no error")
	}
	if _, err := h.c.OpenPage(ctx, -1, 10); err == nil {
		t.Error("OpenPage(-1): no error")
	}
	if _, err := h.c.OpenPage(ctx, 0, 0); err == nil {
		t.Error("OpenPage(c=0): no error")
	}
	if n := h.hits.Load(); n != 0 {
		t.Errorf("%d requests sent for invalid arguments", n)
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	t.Parallel()
	body := listBody(3, "3")
	tests := []struct {
		name       string
		first      []responder
		timeout    time.Duration
		transport  bool // failures below HTTP: the transport may retry on its own, so count loosely
		wantStatus int  // status of the failed attempts (0: no response)
	}{
		{name: "429", first: []responder{respond(429, `{"message":"Too Many Attempts."}`)}, wantStatus: 429},
		{name: "500 502 503 burst", first: []responder{respond(500, "oops"), respond(502, "<html>bad gateway</html>"), respond(503, "")}, wantStatus: -1},
		{name: "HTML 200", first: []responder{respond(200, "<!DOCTYPE html><html><body>Maintenance</body></html>", "Content-Type", "text/html")}, wantStatus: 200},
		{name: "truncated JSON, honest length", first: []responder{respond(200, body[:len(body)/2])}, wantStatus: 200},
		{name: "body shorter than Content-Length", first: []responder{shortBody(body)}, transport: true, wantStatus: 200},
		{name: "wrong shape: array", first: []responder{respond(200, `[1,2,3]`)}, wantStatus: 200},
		{name: "wrong shape: no RecentTickets", first: []responder{respond(200, `{"OpenTickets":3,"URL":"x"}`)}, wantStatus: 200},
		{name: "wrong shape: RecentTickets not an array", first: []responder{respond(200, `{"RecentTickets":{"a":1}}`)}, wantStatus: 200},
		{name: "slow beyond Timeout", first: []responder{slow()}, timeout: 100 * time.Millisecond, transport: true, wantStatus: 0},
		{name: "connection closed", first: []responder{hangUp(false)}, transport: true, wantStatus: 0},
		{name: "connection reset", first: []responder{hangUp(true)}, transport: true, wantStatus: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			script := append(append([]responder(nil), tt.first...), respond(200, body))
			h := newHarness(t, script, func(c *Config) {
				if tt.timeout > 0 {
					c.Timeout = tt.timeout
				}
			})
			p, err := h.c.OpenPage(context.Background(), 0, 100)
			if err != nil {
				t.Fatalf("OpenPage: %v", err)
			}
			if len(p.Tickets) != 3 || p.OpenTickets != 3 {
				t.Fatalf("page has %d tickets, OpenTickets %d; want 3, 3", len(p.Tickets), p.OpenTickets)
			}
			att := h.att.all()
			if !tt.transport && len(att) != len(tt.first)+1 {
				t.Fatalf("%d attempts, want %d: %+v", len(att), len(tt.first)+1, att)
			}
			if len(att) < 2 {
				t.Fatalf("%d attempts, want a failure then a success", len(att))
			}
			for i, a := range att[:len(att)-1] {
				if a.Err == nil || !a.Retry || a.Mode != ModeList {
					t.Errorf("attempt %d = %+v, want a retried failure", i, a)
				}
				if tt.wantStatus >= 0 && a.Status != tt.wantStatus {
					t.Errorf("attempt %d status %d, want %d", i, a.Status, tt.wantStatus)
				}
				assertNoKey(t, "attempt error", a.Err.Error())
			}
			if last := att[len(att)-1]; last.Err != nil || last.Retry || last.Status != 200 {
				t.Errorf("last attempt = %+v, want success", last)
			}
			st := h.c.Stats()
			if st.Requests != int64(len(att)) || st.Retries != int64(len(att)-1) {
				t.Errorf("stats %+v for %d attempts", st, len(att))
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	ok := okList(1)
	tests := []struct {
		name     string
		status   int
		header   string
		wantMin  time.Duration
		wantMax  time.Duration
		wantFail bool // the wait asked is too long: give up at once
	}{
		{name: "429 seconds", status: 429, header: "3", wantMin: 3 * time.Second, wantMax: 3*time.Second + 2*time.Millisecond},
		{name: "503 seconds", status: 503, header: "120", wantMin: 120 * time.Second, wantMax: 120*time.Second + 2*time.Millisecond},
		{name: "429 HTTP date", status: 429, header: "date+5s", wantMin: 3 * time.Second, wantMax: 7 * time.Second},
		{name: "429 zero", status: 429, header: "0", wantMin: 0, wantMax: 2 * time.Millisecond},
		{name: "429 unparsable header ignored", status: 429, header: "soon", wantMin: 0, wantMax: 2 * time.Millisecond},
		{name: "429 longer than 5 minutes", status: 429, header: "3600", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := tt.header
			if header == "date+5s" {
				header = time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)
			}
			h := newHarness(t, []responder{respond(tt.status, "slow down", "Retry-After", header), ok}, nil)
			h.fakeSleep()
			_, err := h.c.OpenPage(context.Background(), 0, 10)
			att := h.att.all()
			if tt.wantFail {
				var apiErr *APIError
				if err == nil || !errors.As(err, &apiErr) || apiErr.Status != tt.status {
					t.Fatalf("err = %v, want the %d APIError", err, tt.status)
				}
				if h.hits.Load() != 1 || len(h.sleeps) != 0 {
					t.Errorf("%d requests, sleeps %v; want 1 request, no wait", h.hits.Load(), h.sleeps)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenPage: %v", err)
			}
			if len(att) != 2 || !att[0].Retry {
				t.Fatalf("attempts %+v", att)
			}
			if w := att[0].Wait; w < tt.wantMin || w > tt.wantMax {
				t.Errorf("Attempt.Wait = %v, want in [%v, %v]", w, tt.wantMin, tt.wantMax)
			}
			if len(h.sleeps) != 1 || h.sleeps[0] != att[0].Wait {
				t.Errorf("slept %v, want exactly the reported wait %v", h.sleeps, att[0].Wait)
			}
		})
	}
}

func TestRetryBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		maxRetries   int
		wantAttempts int
	}{
		{-1, 1},
		{2, 3},
		{0, 6}, // default 5 retries
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("MaxRetries=", tt.maxRetries), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{respond(503, "<html>Service Unavailable</html>")}, func(c *Config) {
				c.MaxRetries = tt.maxRetries
			})
			_, err := h.c.OpenPage(context.Background(), 0, 100)
			if err == nil {
				t.Fatal("no error")
			}
			if got := h.hits.Load(); got != int64(tt.wantAttempts) {
				t.Errorf("%d requests, want %d", got, tt.wantAttempts)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 503 {
				t.Errorf("err = %v, want it to wrap the 503 APIError", err)
			}
			if want := fmt.Sprintf("after %d attempt", tt.wantAttempts); !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to say %q", err, want)
			}
			att := h.att.all()
			if len(att) != tt.wantAttempts || att[len(att)-1].Retry {
				t.Errorf("attempts %+v", att)
			}
			if st := h.c.Stats(); st.Requests != int64(tt.wantAttempts) || st.Retries != int64(tt.wantAttempts-1) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestNoRetry(t *testing.T) {
	t.Parallel()
	list := func(c *Client) error { _, err := c.OpenPage(context.Background(), 0, 10); return err }
	ticket := func(c *Client) error { _, err := c.Ticket(context.Background(), 99); return err }
	game := func(c *Client) error { _, err := c.GamePage(context.Background(), 99, false, 0, 10); return err }
	tests := []struct {
		name             string
		resp             responder
		call             func(*Client) error
		wantUnauthorized bool
		wantNotFound     bool
		wantMsg          string
	}{
		{name: "401", resp: respond(401, `{"message":"Unauthenticated."}`), call: list, wantUnauthorized: true,
			wantMsg: "ra api: credentials refused (HTTP 401): check RA_USERNAME and RA_API_KEY"},
		{name: "403", resp: respond(403, `{"message":"Forbidden."}`), call: ticket, wantUnauthorized: true,
			wantMsg: "ra api: credentials refused (HTTP 403): check RA_USERNAME and RA_API_KEY"},
		{name: "404 ticket", resp: respond(404, `{"error":"Ticket ID 99 not found"}`), call: ticket, wantNotFound: true,
			wantMsg: `ra api: HTTP 404: {"error":"Ticket ID 99 not found"}`},
		{name: "404 game", resp: respond(404, `{"error":"Game ID 99 not found"}`), call: game, wantNotFound: true},
		{name: "400", resp: respond(400, `{"error":"bad"}`), call: list},
		{name: "422", resp: respond(422, ``), call: list, wantMsg: "ra api: HTTP 422"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{tt.resp, okList(1)}, nil)
			err := tt.call(h.c)
			if err == nil {
				t.Fatal("no error")
			}
			if got := h.hits.Load(); got != 1 {
				t.Errorf("%d requests, want 1 (no retry)", got)
			}
			if got := errors.Is(err, ErrUnauthorized); got != tt.wantUnauthorized {
				t.Errorf("errors.Is(err, ErrUnauthorized) = %v: %v", got, err)
			}
			if got := errors.Is(err, ErrNotFound); got != tt.wantNotFound {
				t.Errorf("errors.Is(err, ErrNotFound) = %v: %v", got, err)
			}
			if tt.wantMsg != "" && err.Error() != tt.wantMsg {
				t.Errorf("message %q, want %q", err, tt.wantMsg)
			}
			if att := h.att.all(); len(att) != 1 || att[0].Retry || att[0].Err == nil {
				t.Errorf("attempts %+v", att)
			}
		})
	}
}

func TestContextCancellation(t *testing.T) {
	t.Parallel()
	t.Run("during backoff wait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// Retry-After 240s: the test only finishes quickly if the wait is
		// aborted by the cancellation.
		h := newHarness(t, []responder{respond(429, "", "Retry-After", "240"), okList(1)}, func(c *Config) {
			c.OnAttempt = func(a Attempt) {
				if a.Retry {
					cancel()
				}
			}
		})
		_, err := h.c.OpenPage(ctx, 0, 10)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if h.hits.Load() != 1 {
			t.Errorf("%d requests, want 1", h.hits.Load())
		}
	})
	t.Run("during request", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		started := make(chan struct{}, 1)
		h := newHarness(t, []responder{func(w http.ResponseWriter, r *http.Request) {
			started <- struct{}{}
			<-r.Context().Done()
		}}, nil)
		go func() { <-started; cancel() }()
		_, err := h.c.OpenPage(ctx, 0, 10)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if h.hits.Load() != 1 {
			t.Errorf("%d requests, want 1 (a cancelled request is not retried)", h.hits.Load())
		}
		assertNoKey(t, "error", err.Error())
	})
	t.Run("already cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		h := newHarness(t, []responder{okList(1)}, nil)
		if _, err := h.c.OpenPage(ctx, 0, 10); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if h.hits.Load() != 0 {
			t.Errorf("%d requests", h.hits.Load())
		}
	})
}

func TestKeyRedaction(t *testing.T) {
	t.Parallel()
	t.Run("url.Error from a refused connection", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		logs := &testlog.Buffer{}
		att := &attempts{}
		c, err := New(Config{BaseURL: "http://" + addr, Username: testUser, APIKey: testKey, MaxRetries: 1,
			BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, OnAttempt: att.add,
			Logger: zerologTo(logs)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.OpenPage(context.Background(), 0, 10)
		if err == nil {
			t.Fatal("no error from a closed port")
		}
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Fatalf("err %v does not wrap a *url.Error", err)
		}
		if !strings.Contains(ue.URL, "y=REDACTED") || !strings.Contains(err.Error(), "y=REDACTED") {
			t.Errorf("url.Error URL not sanitized: %q / %q", ue.URL, err)
		}
		assertNoKey(t, "error", err.Error())
		assertNoKey(t, "url.Error", ue.Error())
		assertNoKey(t, "logs", logs.String())
		if len(att.all()) != 2 {
			t.Errorf("%d attempts, want 2 (a refused connection is retried)", len(att.all()))
		}
		for _, a := range att.all() {
			assertNoKey(t, "attempt error", a.Err.Error())
		}
	})
	t.Run("key echoed in error bodies", func(t *testing.T) {
		t.Parallel()
		echo := "unknown key " + testKey + " / " + url.QueryEscape(testKey)
		h := newHarness(t, []responder{
			respond(500, echo),
			respond(200, "<html>"+echo+"</html>"),
			respond(400, strings.Repeat("x", 500)+testKey), // key straddles the 512-byte cut
		}, nil)
		_, err := h.c.OpenPage(context.Background(), 0, 10)
		if err == nil {
			t.Fatal("no error")
		}
		assertNoKey(t, "error", err.Error())
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Status != 400 {
			t.Fatalf("err = %v", err)
		}
		assertNoKey(t, "APIError.Body", apiErr.Body)
		if strings.Contains(apiErr.Body, testKey[:8]) {
			t.Errorf("APIError.Body leaks part of the key: %q", apiErr.Body)
		}
		if len(apiErr.Body) > 512 || !strings.HasPrefix(apiErr.Body, "xxxx") {
			t.Errorf("Body is %d bytes: %q", len(apiErr.Body), apiErr.Body)
		}
		for _, a := range h.att.all() {
			assertNoKey(t, "attempt error", a.Err.Error())
		}
		if e := h.att.all()[0].Err; !strings.Contains(e.Error(), "REDACTED") {
			t.Errorf("first attempt error %q: the echoed key should read REDACTED", e)
		}
	})
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	const limit = 2000
	exact := padded(limit)
	over := padded(limit + 1)
	tests := []struct {
		name    string
		resp    responder
		wantErr bool
	}{
		{name: "exactly at the cap", resp: respond(200, exact)},
		{name: "over, with Content-Length", resp: respond(200, over), wantErr: true},
		{name: "over, chunked", resp: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(200)
			for i := 0; i < len(over); i += 100 {
				_, _ = w.Write([]byte(over[i:min(i+100, len(over))]))
				w.(http.Flusher).Flush()
			}
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{tt.resp, okList(1)}, func(c *Config) { c.MaxBodyBytes = limit })
			_, err := h.c.OpenPage(context.Background(), 0, 10)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("OpenPage: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("err = %v, want ErrBodyTooLarge", err)
			}
			if h.hits.Load() != 1 {
				t.Errorf("%d requests, want 1 (not retried)", h.hits.Load())
			}
		})
	}
}

// padded is a valid list body of exactly n bytes.
func padded(n int) string {
	s := `{"RecentTickets":[],"OpenTickets":0,"Pad":""}`
	return s[:len(s)-2] + strings.Repeat("x", n-len(s)) + `"}`
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	t.Run("configuration", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			rps     float64
			want    rate.Limit
			none    bool
			wantErr bool
		}{
			{rps: 5, want: 5},
			{rps: 0.5, want: 0.5},
			{rps: 0, none: true},
			{rps: -1, wantErr: true},
		}
		for _, tt := range tests {
			c, err := New(Config{Username: testUser, APIKey: testKey, RPS: tt.rps})
			if tt.wantErr {
				if err == nil {
					t.Errorf("RPS %v: no error", tt.rps)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.none {
				if c.limiter != nil {
					t.Errorf("RPS 0: limiter %v, want none", c.limiter.Limit())
				}
				continue
			}
			if c.limiter == nil || c.limiter.Limit() != tt.want || c.limiter.Burst() != 1 {
				t.Errorf("RPS %v: limiter %+v", tt.rps, c.limiter)
			}
		}
	})
	// One request per 1000s: a second request cannot get its turn before
	// the context deadline, so it fails without reaching the server.
	tests := []struct {
		name   string
		script []responder
		calls  int
	}{
		{name: "second request waits", script: []responder{okList(1)}, calls: 2},
		{name: "retry waits too", script: []responder{respond(500, ""), okList(1)}, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.script, func(c *Config) { c.RPS = 0.001 })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var err error
			for i := 0; i < tt.calls && err == nil; i++ {
				_, err = h.c.OpenPage(ctx, 0, 10)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the limiter to refuse with DeadlineExceeded", err)
			}
			if h.hits.Load() != 1 {
				t.Errorf("%d requests reached the server, want 1", h.hits.Load())
			}
		})
	}
}

func TestOpenTicketsLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field string
		want  int
	}{
		{`12`, 12},
		{`"12"`, 12},
		{`" 7 "`, 7},
		{`12.0`, 12},
		{`null`, -1},
		{``, -1}, // absent
		{`"abc"`, -1},
		{`-3`, -1},
		{`true`, -1},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{respond(200, listBody(2, tt.field))}, nil)
			p, err := h.c.OpenPage(context.Background(), 0, 10)
			if err != nil {
				t.Fatalf("OpenPage: %v", err)
			}
			if p.OpenTickets != tt.want || len(p.Tickets) != 2 {
				t.Errorf("OpenTickets = %d (%d tickets), want %d", p.OpenTickets, len(p.Tickets), tt.want)
			}
		})
	}
}

func TestGameAndTicketBodies(t *testing.T) {
	t.Parallel()
	tk := ticketJSON(5, "2024-01-01 00:00:00")
	tests := []struct {
		name      string
		body      string
		game      bool
		wantN     int
		wantOpen  int
		wantRetry bool
	}{
		{name: "game Tickets", body: `{"GameID":7,"OpenTickets":"2","Tickets":[` + tk + `,` + tk + `]}`, game: true, wantN: 2, wantOpen: 2},
		{name: "game RecentTickets accepted", body: `{"GameID":7,"RecentTickets":[` + tk + `]}`, game: true, wantN: 1, wantOpen: -1},
		{name: "game without list", body: `{"GameID":7,"OpenTickets":2}`, game: true, wantRetry: true},
		{name: "ticket", body: tk},
		{name: "ticket as array", body: `[` + tk + `]`, wantRetry: true},
		{name: "ticket without ID", body: `{"error":"weird"}`, wantRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{respond(200, tt.body)}, func(c *Config) { c.MaxRetries = 1 })
			ctx := context.Background()
			var err error
			if tt.game {
				var p *Page
				p, err = h.c.GamePage(ctx, 7, false, 0, 100)
				if err == nil && (len(p.Tickets) != tt.wantN || p.OpenTickets != tt.wantOpen) {
					t.Errorf("page: %d tickets, OpenTickets %d", len(p.Tickets), p.OpenTickets)
				}
			} else {
				var raw []byte
				raw, err = h.c.Ticket(ctx, 5)
				if err == nil && string(raw) != tk {
					t.Errorf("ticket = %s, want the object as sent", raw)
				}
			}
			if tt.wantRetry {
				if !errors.Is(err, ErrMalformedBody) || h.hits.Load() != 2 {
					t.Errorf("err = %v after %d requests; want ErrMalformedBody after 2", err, h.hits.Load())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	base := Config{Username: testUser, APIKey: testKey}
	tests := []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{name: "defaults", mod: func(*Config) {}, ok: true},
		{name: "no username", mod: func(c *Config) { c.Username = "" }},
		{name: "no key", mod: func(c *Config) { c.APIKey = "" }},
		{name: "negative RPS", mod: func(c *Config) { c.RPS = -0.1 }},
		{name: "negative timeout", mod: func(c *Config) { c.Timeout = -time.Second }},
		{name: "MaxRetries -2", mod: func(c *Config) { c.MaxRetries = -2 }},
		{name: "negative body cap", mod: func(c *Config) { c.MaxBodyBytes = -1 }},
		{name: "ftp base", mod: func(c *Config) { c.BaseURL = "ftp://example.org" }},
		{name: "base with query", mod: func(c *Config) { c.BaseURL = "https://example.org/?a=1" }},
		{name: "backoff max below base", mod: func(c *Config) { c.BackoffBase = time.Minute; c.BackoffMax = time.Second }},
	}
	for _, tt := range tests {
		cfg := base
		tt.mod(&cfg)
		c, err := New(cfg)
		if tt.ok != (err == nil) {
			t.Errorf("%s: New error = %v", tt.name, err)
		}
		if err != nil {
			assertNoKey(t, "New error", err.Error())
		}
		if tt.ok && c.endpoint != DefaultBaseURL+endpointPath {
			t.Errorf("endpoint %q", c.endpoint)
		}
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Username: testUser, APIKey: testKey, BackoffBase: time.Second, BackoffMax: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for n, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 80: 10 * time.Second} {
		for i := 0; i < 200; i++ {
			if d := c.backoff(n); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v]", n, d, ceiling)
			}
		}
	}
}

// TestV2RedirectsNeverCarryTheKeyHeader: v2 sends the key in X-API-Key,
// and Go forwards custom headers on every redirect it follows (it strips
// only Authorization, Cookie and the like when the host changes). So a
// redirect of a v2 request to another host is refused and the header never
// reaches it; on the same host the redirect is followed and the header is
// sent again there (which is why only the host check stands between the
// key and another host).
func TestV2RedirectsNeverCarryTheKeyHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, addr string }{
		{"another loopback address", "127.0.0.2:0"},
		{"another port", "127.0.0.1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			other := newRecorder(t, tc.addr)
			h := newHarness(t, []responder{func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.srv.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			}}, nil)
			_, err := h.c.v2List(context.Background(), ModeV2List, V2Query{}, 1, 10)
			if !errors.Is(err, ErrRedirectRefused) {
				t.Errorf("err %v, want ErrRedirectRefused", err)
			}
			if first := <-h.reqs; first.Header.Get("X-API-Key") != testKey {
				t.Fatal("the v2 request itself did not carry the key in X-API-Key")
			}
			if n := h.hits.Load(); n != 1 {
				t.Errorf("%d requests to the API host, want 1 (a refused redirect is not retried)", n)
			}
			for _, r := range other.all() {
				t.Errorf("a request reached the other host: %s (X-API-Key sent: %v)", r.URL, r.Header.Get("X-API-Key") != "")
			}
		})
	}
	t.Run("same host", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, []responder{func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/moved") {
				http.Redirect(w, r, "/moved"+r.URL.RequestURI(), http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.api+json")
			_, _ = w.Write([]byte(`{"data":[],"meta":{"page":{"total":0}}}`))
		}}, nil)
		if _, err := h.c.v2List(context.Background(), ModeV2List, V2Query{}, 1, 10); err != nil {
			t.Fatal(err)
		}
		<-h.reqs
		moved := <-h.reqs
		if moved.Header.Get("X-API-Key") != testKey || moved.Header.Get("Referer") != "" {
			t.Errorf("redirected request: X-API-Key sent %v, Referer %q", moved.Header.Get("X-API-Key") == testKey, moved.Header.Get("Referer"))
		}
		if strings.Contains(moved.URL.RawQuery, testKey) {
			t.Errorf("the key is in the redirected URL %s", moved.URL)
		}
	})
}
