package fakeapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestEachFaultIsObservable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault Fault
		check func(t *testing.T, r reply, err error, normal []byte)
	}{
		{"429 with Retry-After rounded up", Fault{Kind: FaultTooManyRequests, RetryAfter: 2500 * time.Millisecond},
			func(t *testing.T, r reply, err error, _ []byte) {
				if err != nil || r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3" {
					t.Errorf("got %v %d Retry-After=%q", err, r.status, r.header.Get("Retry-After"))
				}
			}},
		{"429 default Retry-After", Fault{Kind: FaultTooManyRequests},
			func(t *testing.T, r reply, err error, _ []byte) {
				if err != nil || r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
					t.Errorf("got %v %d Retry-After=%q", err, r.status, r.header.Get("Retry-After"))
				}
			}},
		{"500 default", Fault{Kind: FaultServerError},
			func(t *testing.T, r reply, err error, _ []byte) {
				if err != nil || r.status != http.StatusInternalServerError {
					t.Errorf("got %v %d", err, r.status)
				}
			}},
		{"503 gateway page", Fault{Kind: FaultServerError, Status: 503},
			func(t *testing.T, r reply, err error, _ []byte) {
				if err != nil || r.status != 503 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
					!bytes.Contains(r.body, []byte("503 Service Unavailable")) {
					t.Errorf("got %v %d %q %s", err, r.status, r.header.Get("Content-Type"), r.body)
				}
			}},
		{"HTML page with 200", Fault{Kind: FaultHTML},
			func(t *testing.T, r reply, err error, _ []byte) {
				if err != nil || r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
					!bytes.HasPrefix(r.body, []byte("<!DOCTYPE html>")) {
					t.Errorf("got %v %d %q %.40s", err, r.status, r.header.Get("Content-Type"), r.body)
				}
			}},
		{"truncated body", Fault{Kind: FaultTruncated},
			func(t *testing.T, r reply, err error, normal []byte) {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("read error = %v, want unexpected EOF", err)
				}
				if r.status != http.StatusOK || len(r.body) == 0 || len(r.body) >= len(normal) || !bytes.HasPrefix(normal, r.body) {
					t.Errorf("status %d, %d of %d bytes, prefix=%v", r.status, len(r.body), len(normal), bytes.HasPrefix(normal, r.body))
				}
				if cl, _ := strconv.Atoi(r.header.Get("Content-Length")); cl != len(normal) {
					t.Errorf("Content-Length = %q, want %d", r.header.Get("Content-Length"), len(normal))
				}
			}},
		{"slow then normal", Fault{Kind: FaultSlow, Delay: 10 * time.Millisecond},
			func(t *testing.T, r reply, err error, normal []byte) {
				if err != nil || r.status != http.StatusOK || !bytes.Equal(r.body, normal) {
					t.Errorf("got %v %d", err, r.status)
				}
			}},
		{"connection reset", Fault{Kind: FaultReset},
			func(t *testing.T, r reply, err error, _ []byte) {
				if err == nil {
					t.Errorf("got a response (%d) from a reset", r.status)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := New(Options{Seed: 1, Tickets: 100})
			base := mount(t, srv)
			c := newClient(t)
			normal := get(t, base, "c=20").body
			srv.Enqueue(tt.fault)
			r, err := tryGet(c, base, "/API/API_GetTicketData.php", "c=20")
			tt.check(t, r, err, normal)
			// The fault was used up: the next request is normal.
			if after := get(t, base, "c=20"); after.status != http.StatusOK || !bytes.Equal(after.body, normal) {
				t.Errorf("request after the fault: %d", after.status)
			}
			if got := srv.Requests()["fault"]; got != 1 {
				t.Errorf("fault count = %d, want 1", got)
			}
		})
	}
}

func TestSlowFaultRespectsTheRequestContext(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 20})
	base := mount(t, srv) // its Close waits for handlers: a stuck one hangs the test
	srv.Enqueue(Fault{Kind: FaultSlow, Delay: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/API/API_GetTicketData.php?y="+testKey, nil)
	resp, err := newClient(t).Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the client's deadline to end the request", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v", err)
	}
}

func TestLatencyRespectsTheRequestContext(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 20, Latency: time.Hour})
	base := mount(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/API/API_GetTicketData.php?y="+testKey, nil)
	if resp, err := newClient(t).Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("latency was not applied")
	}
	srv.SetLatency(0)
	if r := get(t, base, ""); r.status != http.StatusOK {
		t.Errorf("after SetLatency(0): %d", r.status)
	}
}

func TestFaultQueueIsFIFOAndPrecedesAuth(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 20})
	base := mount(t, srv)
	srv.Enqueue(Fault{Kind: FaultTooManyRequests}, Fault{Kind: FaultHTML})
	c := newClient(t)
	r1, _ := tryGet(c, base, "/API/API_GetTicketData.php", "y=wrong")
	r2, _ := tryGet(c, base, "/API/API_GetTicketData.php", "")
	r3, _ := tryGet(c, base, "/API/API_GetTicketData.php", "")
	if r1.status != http.StatusTooManyRequests || !bytes.HasPrefix(r2.body, []byte("<!DOCTYPE")) || r3.status != http.StatusOK ||
		!strings.HasPrefix(r3.header.Get("Content-Type"), "application/json") {
		t.Errorf("got %d, %.20s, %d", r1.status, r2.body, r3.status)
	}
	if got := srv.Requests(); got["fault"] != 2 || got["unauthorized"] != 0 || got["list"] != 1 {
		t.Errorf("Requests() = %v", got)
	}
}

func TestFaultRate(t *testing.T) {
	t.Parallel()
	srv := New(Options{Seed: 1, Tickets: 20})
	base := mount(t, srv)
	c := newClient(t)
	srv.SetFaultRate(1, rand.New(rand.NewSource(3)))
	for i := range 25 {
		r, err := tryGet(c, base, "/API/API_GetTicketData.php", "")
		ok := err == nil && r.status == http.StatusOK && strings.HasPrefix(r.header.Get("Content-Type"), "application/json")
		if ok {
			t.Errorf("request %d was not faulted", i)
		}
	}
	if got := srv.Requests()["fault"]; got != 25 {
		t.Errorf("fault count = %d, want 25", got)
	}
	srv.SetFaultRate(0, nil)
	if r := get(t, base, ""); r.status != http.StatusOK {
		t.Errorf("rate 0: status %d", r.status)
	}
}
