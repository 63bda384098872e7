package extract

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/testlog"
	"github.com/rs/zerolog"
)

// testKey contains characters that URL encoding changes, so redaction of
// both the raw and the escaped form is exercised.
const (
	testUser = "alice"
	testKey  = "k3y+S3cr/t=XYZ"
)

// attempts records OnAttempt calls.
type attempts struct {
	mu sync.Mutex
	a  []Attempt
}

func (r *attempts) add(a Attempt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.a = append(r.a, a)
}

func (r *attempts) all() []Attempt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Attempt(nil), r.a...)
}

// harness is a client wired to a scripted httptest server.
type harness struct {
	c      *Client
	srv    *httptest.Server
	hits   atomic.Int64
	reqs   chan *http.Request // every request, buffered
	logs   *testlog.Buffer
	att    *attempts
	sleeps []time.Duration // waits seen by the sleep hook (when installed)
	mu     sync.Mutex
}

type responder func(w http.ResponseWriter, r *http.Request)

// newHarness serves script[i] for the i-th request (the last one repeats).
// Backoff is tiny so retries are fast.
func newHarness(t *testing.T, script []responder, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{reqs: make(chan *http.Request, 1024), logs: &testlog.Buffer{}, att: &attempts{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(h.hits.Add(1)) - 1
		select {
		case h.reqs <- r.Clone(context.Background()):
		default:
		}
		script[min(i, len(script)-1)](w, r)
	}))
	t.Cleanup(h.srv.Close)
	cfg := Config{
		BaseURL:     h.srv.URL,
		Username:    testUser,
		APIKey:      testKey,
		Timeout:     5 * time.Second,
		MaxRetries:  5,
		BackoffBase: time.Millisecond,
		BackoffMax:  2 * time.Millisecond,
		Logger:      zerolog.New(h.logs).Level(zerolog.DebugLevel),
		OnAttempt:   h.att.add,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	t.Cleanup(func() { assertNoKey(t, "logs", h.logs.String()) })
	return h
}

// fakeSleep makes waits instant and records them.
func (h *harness) fakeSleep() {
	h.c.sleep = func(ctx context.Context, d time.Duration) error {
		h.mu.Lock()
		h.sleeps = append(h.sleeps, d)
		h.mu.Unlock()
		return ctx.Err()
	}
}

func assertNoKey(t *testing.T, what, s string) {
	t.Helper()
	for _, form := range []string{testKey, url.QueryEscape(testKey), url.PathEscape(testKey)} {
		if strings.Contains(s, form) {
			t.Errorf("%s contains the API key (form %q): %s", what, form, s)
		}
	}
}

// ticketJSON is a realistic ticket object.
func ticketJSON(id int64, at string) string {
	return fmt.Sprintf(`{"ID":%d,"AchievementID":323665,"AchievementTitle":"Title %d","AchievementDesc":"Desc",`+
		`"AchievementType":null,"Points":5,"BadgeName":"361407","AchievementAuthor":"WCopeland","GameID":24453,`+
		`"ConsoleName":"Mega Drive","GameTitle":"Game","GameIcon":"/Images/074329.png","ReportedAt":%q,"ReportType":2,`+
		`"Hardcore":1,"ReportNotes":"text\nRetroAchievements Hash: bff0eb90c2006edade14063d4a2d13cf\nEmulator: RALibRetro (123123)",`+
		`"ReportedBy":"WCopeland","ResolvedAt":null,"ResolvedBy":null,"ReportState":1,"ReportStateDescription":"Open",`+
		`"ReportTypeDescription":"Did not trigger"}`, id, id, at)
}

func listBody(n int, openTickets string) string {
	var b strings.Builder
	b.WriteString(`{"RecentTickets":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ticketJSON(int64(1000-i), "2024-01-10 22:31:54"))
	}
	b.WriteString(`]`)
	if openTickets != "" {
		b.WriteString(`,"OpenTickets":` + openTickets)
	}
	b.WriteString(`,"URL":"https://retroachievements.org/ticketmanager.php"}`)
	return b.String()
}

func respond(status int, body string, headers ...string) responder {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func okList(n int) responder {
	return respond(200, listBody(n, "42"), "Content-Type", "application/json")
}

// shortBody declares the full length but sends half and closes.
func shortBody(body string) responder {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(200)
		_, _ = w.Write([]byte(body[:len(body)/2]))
	}
}

// slow answers only after the client has given up (or 10s).
func slow() responder {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
}

// hangUp closes the connection without a response; reset makes it an RST.
func hangUp(reset bool) responder {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

func zerologTo(w io.Writer) zerolog.Logger { return zerolog.New(w).Level(zerolog.DebugLevel) }
