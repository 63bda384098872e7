package extract

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNotFoundOnlyFromTheAPI: only the API's own answer to a missing ticket
// or game means "not found"; any other 404 (a proxy's HTML page, a wrong
// path, another id) is an error, or a ticket would be marked vanished for
// good on a misrouted request.
func TestNotFoundOnlyFromTheAPI(t *testing.T) {
	t.Parallel()
	ticket := func(c *Client) error { _, err := c.Ticket(context.Background(), 99); return err }
	game := func(c *Client) error { _, err := c.GamePage(context.Background(), 77, false, 0, 10); return err }
	tests := []struct {
		name string
		resp responder
		call func(*Client) error
		want bool
	}{
		{"ticket", respond(404, `{"error":"Ticket ID 99 not found"}`, "Content-Type", "application/json"), ticket, true},
		{"ticket, spaced JSON", respond(404, " {\"error\" : \"Ticket ID 99 not found\"}\n"), ticket, true},
		{"game", respond(404, `{"error":"Game ID 77 not found"}`), game, true},
		{"HTML", respond(404, "<html><body><h1>404 Not Found</h1>nginx</body></html>", "Content-Type", "text/html"), ticket, false},
		{"empty", respond(404, ""), ticket, false},
		{"other JSON", respond(404, `{"message":"Not Found"}`), ticket, false},
		{"another id", respond(404, `{"error":"Ticket ID 98 not found"}`), ticket, false},
		{"game answer to a ticket", respond(404, `{"error":"Game ID 99 not found"}`), ticket, false},
		{"ticket answer to a game", respond(404, `{"error":"Ticket ID 77 not found"}`), game, false},
		{"not an object", respond(404, `["Ticket ID 99 not found"]`), ticket, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, []responder{tt.resp}, func(c *Config) { c.MaxRetries = -1 })
			err := tt.call(h.c)
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, ErrNotFound); got != tt.want {
				t.Errorf("errors.Is(err, ErrNotFound) = %v, want %v: %v", got, tt.want, err)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != 404 {
				t.Errorf("err %v is not an HTTP 404 APIError", err)
			}
		})
	}
}

// recorder is a second host that records every request reaching it.
type recorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newRecorder(t *testing.T, addr string) *recorder {
	t.Helper()
	r := &recorder{}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.mu.Unlock()
		_, _ = w.Write([]byte(listBody(1, "1")))
	}))
	r.srv.Listener.Close()
	r.srv.Listener = l
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) all() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

// TestRedirectsNeverLeakTheKey: a redirect to another host (or to plain
// http) is refused, not retried, and nothing reaches the other host: not the
// key in the Location's query, not a Referer carrying y=KEY. A redirect on
// the same host is followed, without a Referer.
func TestRedirectsNeverLeakTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, addr string }{
		{"another loopback address", "127.0.0.2:0"},
		{"another port", "127.0.0.1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			other := newRecorder(t, tc.addr)
			h := newHarness(t, []responder{func(w http.ResponseWriter, r *http.Request) {
				// Keeps the query (and so the key), as a careless
				// rewrite rule would.
				http.Redirect(w, r, other.srv.URL+r.URL.RequestURI(), http.StatusFound)
			}}, nil)
			_, err := h.c.OpenPage(context.Background(), 0, 10)
			if err == nil {
				t.Fatal("a redirect to another host was followed")
			}
			if !errors.Is(err, ErrRedirectRefused) {
				t.Errorf("err %v does not match ErrRedirectRefused", err)
			}
			assertNoKey(t, "error", err.Error())
			if n := h.hits.Load(); n != 1 {
				t.Errorf("%d requests to the API host, want 1 (a refused redirect is not retried)", n)
			}
			if got := other.all(); len(got) != 0 {
				t.Errorf("%d requests reached the other host, first %s (Referer %q)", len(got), got[0].URL, got[0].Referer())
			}
		})
	}
	t.Run("same host", func(t *testing.T) {
		t.Parallel()
		var referers []string
		var mu sync.Mutex
		h := newHarness(t, []responder{func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			referers = append(referers, r.Header.Get("Referer"))
			mu.Unlock()
			if !strings.HasPrefix(r.URL.Path, "/moved") {
				http.Redirect(w, r, "/moved"+r.URL.RequestURI(), http.StatusMovedPermanently)
				return
			}
			_, _ = w.Write([]byte(listBody(3, "3")))
		}}, nil)
		p, err := h.c.OpenPage(context.Background(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Tickets) != 3 {
			t.Errorf("%d tickets after the redirect", len(p.Tickets))
		}
		mu.Lock()
		defer mu.Unlock()
		if len(referers) != 2 || referers[1] != "" {
			t.Errorf("referers %q: the redirected request must not carry a Referer", referers)
		}
	})
	for _, tc := range []struct{ name, want string }{
		{"https to http, same host", "from https to http"},
		{"https to http, another host", "another host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			other := newRecorder(t, "127.0.0.1:0")
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				to := "http://" + r.Host // plain http: the key would cross the network in clear
				if tc.want == "another host" {
					to = other.srv.URL
				}
				http.Redirect(w, r, to+r.URL.RequestURI(), http.StatusFound)
			}))
			t.Cleanup(srv.Close)
			hc := srv.Client()
			c, err := New(Config{BaseURL: srv.URL, Username: testUser, APIKey: testKey, HTTPClient: hc,
				BackoffBase: time.Millisecond, BackoffMax: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.OpenPage(context.Background(), 0, 10)
			if !errors.Is(err, ErrRedirectRefused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrRedirectRefused %s", err, tc.want)
			}
			assertNoKey(t, "error", err.Error())
			if got := other.all(); len(got) != 0 {
				t.Errorf("%d plain-http requests followed the redirect", len(got))
			}
			if hc.CheckRedirect != nil {
				t.Error("New changed the caller's http.Client")
			}
		})
	}
}

// TestMalformedBodySnippetKeepsTheKey: the start of a malformed body quoted
// in the error is cut at a fixed length; a key that straddles the cut must
// not leave its first half in the message.
func TestMalformedBodySnippetKeepsTheKey(t *testing.T) {
	t.Parallel()
	for off := 40; off < 70; off++ {
		body := strings.Repeat("x", off) + testKey + " <html>"
		h := newHarness(t, []responder{respond(200, body)}, func(c *Config) { c.MaxRetries = -1 })
		_, err := h.c.OpenPage(context.Background(), 0, 10)
		if !errors.Is(err, ErrMalformedBody) {
			t.Fatalf("offset %d: err %v", off, err)
		}
		if strings.Contains(err.Error(), testKey[:4]) {
			t.Errorf("offset %d: part of the key in %q", off, err)
		}
		body = strings.Repeat("x", off) + strings.ReplaceAll(testKey, "/", `\/`) + " <html>"
		h = newHarness(t, []responder{respond(200, body)}, func(c *Config) { c.MaxRetries = -1 })
		if _, err = h.c.OpenPage(context.Background(), 0, 10); strings.Contains(err.Error(), testKey[:4]) {
			t.Errorf("offset %d, JSON-escaped key: part of the key in %q", off, err)
		}
	}
}
