package fakeapi

import (
	"cmp"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"strconv"
	"time"
)

// FaultKind is a way the real site misbehaves.
type FaultKind int

const (
	// FaultTooManyRequests answers 429 with a Retry-After header (seconds,
	// from RetryAfter rounded up; default 1).
	FaultTooManyRequests FaultKind = iota + 1
	// FaultServerError answers Status (default 500; must be 5xx). 500 has
	// Laravel's JSON body, other codes a proxy's HTML page.
	FaultServerError
	// FaultHTML answers 200 with an HTML error page (text/html).
	FaultHTML
	// FaultTruncated sends the normal headers (full Content-Length) and half
	// the body, then closes the connection: the client sees an unexpected EOF.
	FaultTruncated
	// FaultSlow waits Delay (default 2s) and then answers normally; a
	// request whose context ends first gets nothing.
	FaultSlow
	// FaultReset hijacks the connection and closes it (with a TCP RST where
	// possible) without writing a response.
	FaultReset
)

// Fault is one injected failure. Only the fields of its Kind matter.
type Fault struct {
	Kind       FaultKind
	Status     int
	RetryAfter time.Duration
	Delay      time.Duration
}

// Enqueue queues faults; each following API request (with or without a
// valid key) takes one, before anything else happens.
func (s *Server) Enqueue(f ...Fault) {
	s.ctl.Lock()
	s.faults = append(s.faults, f...)
	s.ctl.Unlock()
}

// SetFaultRate makes each API request that finds the queue empty fail with
// probability rate (0: off), a fault drawn from rng (never FaultSlow).
func (s *Server) SetFaultRate(rate float64, rng *rand.Rand) {
	s.ctl.Lock()
	s.faultRate, s.faultRNG = rate, rng
	s.ctl.Unlock()
}

func (s *Server) nextFault() (Fault, bool) {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	if len(s.faults) > 0 {
		f := s.faults[0]
		s.faults = s.faults[1:]
		return f, true
	}
	if s.faultRate <= 0 || s.faultRNG == nil || s.faultRNG.Float64() >= s.faultRate {
		return Fault{}, false
	}
	return randomFaults[s.faultRNG.Intn(len(randomFaults))], true
}

// randomFaults are the faults SetFaultRate draws from.
var randomFaults = []Fault{
	{Kind: FaultTooManyRequests, RetryAfter: time.Second},
	{Kind: FaultServerError, Status: 500},
	{Kind: FaultServerError, Status: 502},
	{Kind: FaultServerError, Status: 503},
	{Kind: FaultHTML},
	{Kind: FaultTruncated},
	{Kind: FaultReset},
}

const htmlErrorPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>RetroAchievements - Temporarily unavailable</title></head>
<body>
<h1>Whoops, looks like something went wrong.</h1>
<p>The site is under heavy load. Please try again in a few minutes.</p>
</body>
</html>
`

const gatewayPage = `<html>
<head><title>%[1]d %[2]s</title></head>
<body>
<center><h1>%[1]d %[2]s</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

// applyFault carries out f and reports whether the request is finished.
// FaultSlow and FaultTruncated return false: the request goes on.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	switch f.Kind {
	case FaultTooManyRequests:
		secs := max(1, int((f.RetryAfter+time.Second-1)/time.Second))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		write(w, r, jsonResponse(http.StatusTooManyRequests, []byte(`{"message":"Too Many Attempts."}`)), false)
	case FaultServerError:
		status := f.Status
		if status < 500 || status > 599 || status == http.StatusInternalServerError {
			write(w, r, serverError(), false)
			break
		}
		write(w, r, response{status, "text/html", fmt.Appendf(nil, gatewayPage, status, http.StatusText(status))}, false)
	case FaultHTML:
		write(w, r, response{http.StatusOK, "text/html; charset=UTF-8", []byte(htmlErrorPage)}, false)
	case FaultSlow:
		return !sleepCtx(r.Context(), cmp.Or(max(f.Delay, 0), 2*time.Second))
	case FaultReset:
		reset(w)
	default: // FaultTruncated cuts the normal answer short
		return false
	}
	return true
}

// reset drops the connection without a response. Lingering 0 turns the
// close into a TCP RST, as a crashed proxy would send.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2, recorder): abort the handler instead,
		// which net/http turns into a broken stream / closed connection.
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
