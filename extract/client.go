package extract

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/ratickets/ratickets/internal/redact"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultBaseURL      = "https://retroachievements.org"
	DefaultUserAgent    = "ratickets/dev (+https://github.com/ratickets/ratickets)"
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRetries   = 5
	DefaultMaxBodyBytes = 16 << 20
	DefaultBackoffBase  = time.Second
	DefaultBackoffMax   = 60 * time.Second
)

// Request modes, as reported in Attempt.Mode (stable; usable as metric
// label values).
const (
	ModeList   = "list"
	ModeTicket = "ticket"
	ModeGame   = "game"
)

const (
	endpointPath = "/API/API_GetTicketData.php"
	// maxRetryAfter (or BackoffMax if longer) bounds how long a server's
	// Retry-After may make us wait. We never wait less than it asks, so a
	// longer request fails the call instead (the next run picks it up).
	maxRetryAfter = 5 * time.Minute
	errorBodyRead = 4096 // of a non-2xx body: room for the 512-byte snippet after redaction
)

// Config configures a Client. Zero fields select their defaults.
type Config struct {
	BaseURL  string // default DefaultBaseURL; a path prefix is kept, a trailing slash trimmed
	Username string // sent as z (v1 only)
	APIKey   string // sent as y, or X-API-Key in v2; never in logs or errors
	// RPS is the client-side rate limit in requests per second, applied to
	// every attempt including retries. 0 means unlimited.
	RPS          float64
	Timeout      time.Duration // bounds one attempt (request and body); default 30s
	MaxRetries   int           // retries after the first attempt; 0: the default 5, -1: none
	MaxBodyBytes int64         // caps a response body (ErrBodyTooLarge); default 16 MiB
	UserAgent    string        // default DefaultUserAgent; the caller passes its version
	// HTTPClient defaults to a client with a clone of
	// http.DefaultTransport. Its Timeout should be 0: Timeout applies per
	// attempt. The Client uses a copy with the redirect policy described in
	// the package documentation; a CheckRedirect of its own runs after it.
	HTTPClient *http.Client
	Logger     zerolog.Logger // retry warnings and per-request debug lines; the zero value logs nothing
	// BackoffBase (default 1s) and BackoffMax (default 60s): the n-th retry
	// waits a random duration in [0, min(BackoffMax, BackoffBase*2^(n-1))]
	// (full jitter), but never less than a Retry-After header asks.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	OnAttempt   func(Attempt) // if set, called after every HTTP attempt (metrics), on the caller's goroutine
}

// Attempt describes one finished HTTP attempt.
type Attempt struct {
	Mode   string        // ModeList, ModeTicket or ModeGame
	Status int           // HTTP status; 0 when no response was received
	Err    error         // nil on success; the key is redacted
	Retry  bool          // whether another attempt follows
	Wait   time.Duration // the wait before that next attempt (0 when none)
}

// Page is one page of tickets.
type Page struct {
	Offset int // the o parameter sent
	// Tickets holds each ticket's JSON object as received, each in its own
	// buffer; in a scan only the tickets new to the scan.
	Tickets []json.RawMessage
	// OpenTickets is the body's OpenTickets, -1 when absent or unusable.
	OpenTickets int
}

// Stats are cumulative counters of a Client.
type Stats struct {
	Requests int64 // HTTP attempts made
	Retries  int64 // attempts that were retries
	Rereads  int64 // scan windows fetched again to close a possible gap
}

// Client calls API_GetTicketData. It is safe for concurrent use.
type Client struct {
	cfg      Config // defaults applied, MaxRetries the real count, HTTPClient our copy
	endpoint string
	red      *redact.Redactor // removes the key from every error
	limiter  *rate.Limiter    // nil: unlimited
	// sleep is sleepCtx; tests replace it to observe waits instantly.
	sleep func(ctx context.Context, d time.Duration) error

	requests atomic.Int64
	retries  atomic.Int64
	rereads  atomic.Int64
}

// New checks cfg, applies defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Username == "" || cfg.APIKey == "" {
		return nil, errors.New("ra api: config: Username and APIKey are required")
	}
	if cfg.RPS < 0 || math.IsNaN(cfg.RPS) {
		return nil, fmt.Errorf("ra api: config: RPS must be >= 0, got %v", cfg.RPS)
	}
	if cfg.Timeout < 0 || cfg.BackoffBase < 0 || cfg.BackoffMax < 0 {
		return nil, errors.New("ra api: config: Timeout, BackoffBase and BackoffMax must not be negative")
	}
	if cfg.MaxRetries < -1 {
		return nil, fmt.Errorf("ra api: config: MaxRetries must be >= -1, got %d", cfg.MaxRetries)
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("ra api: config: MaxBodyBytes must not be negative, got %d", cfg.MaxBodyBytes)
	}
	base := cmp.Or(cfg.BaseURL, DefaultBaseURL)
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ra api: config: BaseURL %q must be an http(s) URL without query", base)
	}
	cfg.UserAgent = cmp.Or(cfg.UserAgent, DefaultUserAgent)
	cfg.Timeout = cmp.Or(cfg.Timeout, DefaultTimeout)
	cfg.MaxRetries = max(cmp.Or(cfg.MaxRetries, DefaultMaxRetries), 0)
	cfg.MaxBodyBytes = cmp.Or(cfg.MaxBodyBytes, DefaultMaxBodyBytes)
	cfg.BackoffBase = cmp.Or(cfg.BackoffBase, DefaultBackoffBase)
	cfg.BackoffMax = cmp.Or(cfg.BackoffMax, DefaultBackoffMax)
	if cfg.BackoffMax < cfg.BackoffBase {
		return nil, fmt.Errorf("ra api: config: BackoffMax %v is below BackoffBase %v", cfg.BackoffMax, cfg.BackoffBase)
	}
	if cfg.HTTPClient == nil {
		tr, ok := http.DefaultTransport.(*http.Transport)
		if !ok {
			return nil, errors.New("ra api: http.DefaultTransport is not an *http.Transport; pass Config.HTTPClient")
		}
		cfg.HTTPClient = &http.Client{Transport: tr.Clone()}
	}
	if cfg.OnAttempt == nil {
		cfg.OnAttempt = func(Attempt) {}
	}
	hc := *cfg.HTTPClient
	hc.CheckRedirect = sameOriginRedirects(hc.CheckRedirect)
	cfg.HTTPClient = &hc
	c := &Client{
		cfg:      cfg,
		endpoint: strings.TrimRight(base, "/") + endpointPath,
		red:      redact.New(cfg.APIKey),
		sleep:    sleepCtx,
	}
	if cfg.RPS > 0 && !math.IsInf(cfg.RPS, 1) {
		// Burst 1: requests are spaced evenly, never bunched.
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RPS), 1)
	}
	return c, nil
}

// Stats returns the cumulative counters.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Rereads: c.rereads.Load()}
}

// OpenPage fetches count open tickets starting at offset (the default mode:
// open tickets of promoted achievements, newest first). The server caps
// count at 100.
func (c *Client) OpenPage(ctx context.Context, offset, count int) (*Page, error) {
	if offset < 0 || count < 1 {
		return nil, fmt.Errorf("ra api: OpenPage: need offset >= 0 and count >= 1, got o=%d c=%d", offset, count)
	}
	params := url.Values{"o": {strconv.Itoa(offset)}, "c": {strconv.Itoa(count)}}
	return get(ctx, c, ModeList, params, func(body []byte) (*Page, error) {
		return decodePage(body, ModeList, offset)
	})
}

// GamePage fetches count tickets (every state) of one game starting at
// offset: the core (promoted) achievements' tickets, or the unofficial ones
// when unofficial is set. A missing game is an error matching ErrNotFound.
func (c *Client) GamePage(ctx context.Context, gameID int64, unofficial bool, offset, count int) (*Page, error) {
	// g=0 would silently turn into the open-list mode on the server.
	if gameID <= 0 || offset < 0 || count < 1 {
		return nil, fmt.Errorf("ra api: GamePage: need game ID > 0, offset >= 0, count >= 1, got g=%d o=%d c=%d", gameID, offset, count)
	}
	params := url.Values{
		"g": {strconv.FormatInt(gameID, 10)},
		"d": {"1"},
		"o": {strconv.Itoa(offset)},
		"c": {strconv.Itoa(count)},
	}
	if unofficial {
		params.Set("f", "5")
	}
	return get(ctx, c, ModeGame, params, func(body []byte) (*Page, error) {
		return decodePage(body, ModeGame, offset)
	})
}

// Ticket fetches one ticket in any state and returns its JSON object as
// received (it includes a "URL" field). A missing ticket is an error
// matching ErrNotFound.
func (c *Client) Ticket(ctx context.Context, id int64) (json.RawMessage, error) {
	// i=0 would silently turn into the open-list mode on the server.
	if id <= 0 {
		return nil, fmt.Errorf("ra api: Ticket: need ID > 0, got %d", id)
	}
	return get(ctx, c, ModeTicket, url.Values{"i": {strconv.FormatInt(id, 10)}}, decodeTicket)
}

// get is send returning what decode made of the 2xx body.
func get[T any](ctx context.Context, c *Client, mode string, params url.Values, decode func([]byte) (T, error)) (T, error) {
	var v, zero T
	err := c.send(ctx, mode, params, func(body []byte) (err error) {
		v, err = decode(body)
		return err
	})
	if err != nil {
		return zero, err
	}
	return v, nil
}

// target returns a request's URL and extra headers: v1 takes the
// credentials in the query, v2 only the key, in the X-API-Key header.
func (c *Client) target(mode string, params url.Values) (string, http.Header) {
	if strings.HasPrefix(mode, "v2_") {
		h := http.Header{"X-Api-Key": {c.cfg.APIKey}, "Accept": {v2Accept}} // canonical spellings
		return strings.TrimSuffix(c.endpoint, endpointPath) + v2Path + "?" + params.Encode(), h
	}
	q := url.Values{"z": {c.cfg.Username}, "y": {c.cfg.APIKey}}
	maps.Copy(q, params)
	return c.endpoint + "?" + q.Encode(), nil
}

// outcome is the result of one attempt before retry policy is applied.
type outcome struct {
	status     int
	err        error
	retryable  bool
	retryAfter time.Duration // from a Retry-After header; 0 when none
}

// send runs one logical request with rate limiting, retries and redaction.
// decode is applied to every 2xx body; its ErrMalformedBody is retried.
// params, which name the request in errors and logs, hold no credentials.
func (c *Client) send(ctx context.Context, mode string, params url.Values, decode func([]byte) error) error {
	target, header := c.target(mode, params)
	notFound := notFoundAnswer(mode, params)
	desc := mode + " " + params.Encode()

	for attempt := 1; ; attempt++ {
		if err := c.waitLimiter(ctx); err != nil {
			return fmt.Errorf("ra api: %s: %w", desc, err)
		}
		c.requests.Add(1)
		if attempt > 1 {
			c.retries.Add(1)
		}
		start := time.Now()
		out := c.attempt(ctx, target, notFound, header, decode)
		out.err = c.red.Error(out.err)

		if out.err != nil && ctx.Err() != nil {
			// The caller gave up: no retry, and report the context's error.
			c.cfg.OnAttempt(Attempt{Mode: mode, Status: out.status, Err: out.err})
			return fmt.Errorf("ra api: %s: %w", desc, ctx.Err())
		}
		c.logger(ctx).Debug().Str("mode", mode).Str("params", params.Encode()).Int("attempt", attempt).
			Int("status", out.status).Dur("duration", time.Since(start)).AnErr("error", out.err).
			Msg("ra api request")
		if out.err == nil {
			c.cfg.OnAttempt(Attempt{Mode: mode, Status: out.status})
			return nil
		}

		retry := out.retryable && attempt <= c.cfg.MaxRetries
		var wait time.Duration
		if longest := max(maxRetryAfter, c.cfg.BackoffMax); retry && out.retryAfter > longest {
			retry = false
			out.err = fmt.Errorf("server asked to retry after %v, longer than the %v we wait: %w", out.retryAfter, longest, out.err)
		} else if retry {
			wait = max(c.backoff(attempt), out.retryAfter)
		}
		c.cfg.OnAttempt(Attempt{Mode: mode, Status: out.status, Err: out.err, Retry: retry, Wait: wait})

		if !retry {
			if out.retryable || attempt > 1 {
				return fmt.Errorf("ra api: %s: giving up after %d attempt%s: %w", desc, attempt, plural(attempt), out.err)
			}
			return out.err
		}
		c.logger(ctx).Warn().Str("mode", mode).Str("params", params.Encode()).Int("attempt", attempt).
			Int("status", out.status).Dur("wait", wait).AnErr("error", out.err).
			Msg("ra api attempt failed; retrying")
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("ra api: %s: %w", desc, err)
		}
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// attempt makes one HTTP request and classifies the result. notFound is
// the API's error text for a missing ticket or game ("" if none is asked).
func (c *Client) attempt(ctx context.Context, target, notFound string, header http.Header, decode func([]byte) error) outcome {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, target, nil)
	if err != nil {
		return outcome{err: fmt.Errorf("ra api: build request: %w", err)}
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	maps.Copy(req.Header, header)

	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		// Sanitize the *url.Error before anything wraps it.
		return c.transportOutcome(actx, c.red.Error(err), 0)
	}
	defer resp.Body.Close()

	if status := resp.StatusCode; status < 200 || status > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, errorBodyRead))
		apiErr := &APIError{Status: status, Body: c.bodySnippet(b)}
		apiErr.NotFound = status == http.StatusNotFound && isNotFoundAnswer(b, notFound)
		out := outcome{status: status, err: apiErr, retryable: status == http.StatusTooManyRequests || status >= 500}
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return out
	}

	if resp.ContentLength > c.cfg.MaxBodyBytes {
		return outcome{status: resp.StatusCode,
			err: fmt.Errorf("%w: Content-Length %d exceeds the %d-byte limit", ErrBodyTooLarge, resp.ContentLength, c.cfg.MaxBodyBytes)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		return c.transportOutcome(actx, fmt.Errorf("ra api: read body: %w", c.red.Error(err)), resp.StatusCode)
	}
	if int64(len(body)) > c.cfg.MaxBodyBytes {
		return outcome{status: resp.StatusCode,
			err: fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, c.cfg.MaxBodyBytes)}
	}
	if err := decode(body); err != nil {
		if clean := c.red.Bytes(body); !bytes.Equal(clean, body) {
			// The error may quote the start of the body, cut at a fixed
			// length: a key cut in half there would escape redaction of
			// the message, so the message is made from the redacted body.
			if err = decode(clean); err == nil {
				err = fmt.Errorf("%w (%d bytes, holding the API key)", ErrMalformedBody, len(body))
			}
		}
		return outcome{status: resp.StatusCode, err: err, retryable: errors.Is(err, ErrMalformedBody)}
	}
	return outcome{status: resp.StatusCode}
}

// transportOutcome classifies a failure to get or read a response: all is
// retried but certificate problems and refused redirects, which do not heal
// by retrying. Cancellation by the caller is handled by send.
func (c *Client) transportOutcome(actx context.Context, err error, status int) outcome {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return outcome{status: status, retryable: true,
			err: fmt.Errorf("ra api: no complete response within %v: %w", c.cfg.Timeout, err)}
	}
	var certErr *tls.CertificateVerificationError
	retryable := !errors.As(err, &certErr) && !errors.Is(err, ErrRedirectRefused)
	return outcome{status: status, err: err, retryable: retryable}
}

// backoff returns the full-jitter wait before retry number n (1-based).
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.cfg.BackoffMax
	if n-1 < 62 {
		if d := c.cfg.BackoffBase << (n - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// waitLimiter waits for the rate limiter, aborting at once when ctx ends or
// when its deadline comes before the turn.
func (c *Client) waitLimiter(ctx context.Context) error {
	if err := ctx.Err(); err != nil || c.limiter == nil {
		return err
	}
	r := c.limiter.Reserve()
	d := r.Delay()
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		r.Cancel()
		return fmt.Errorf("rate limit wait of %v would pass the deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	if err := c.sleep(ctx, d); err != nil {
		r.Cancel()
		return err
	}
	return nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d): // no Stop needed since Go 1.23
		return nil
	}
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date. 0 when absent, unusable or past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(secs, 0), int64(math.MaxInt64/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		// HTTP dates have 1s resolution: round up so we never come early.
		return t.Sub(now).Truncate(time.Second) + time.Second
	}
	return 0
}

// logger prefers a logger the caller put in ctx (zerolog.Logger.WithContext):
// that one carries the run's fields, such as run_id.
func (c *Client) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		sub := l.With().Str("stage", "extract").Logger()
		return &sub
	}
	return &c.cfg.Logger
}

// sameOriginRedirects returns a redirect policy that refuses a redirect to
// another host (and port) or from https to http, and removes the Referer
// (the previous URL, which carries y=KEY); then next, when set.
func sameOriginRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		req.Header.Del("Referer")
		first := via[0].URL
		switch {
		case !strings.EqualFold(req.URL.Host, first.Host):
			return fmt.Errorf("%w: to another host (%s)", ErrRedirectRefused, req.URL.Host)
		case req.URL.Scheme != first.Scheme && req.URL.Scheme != "https":
			return fmt.Errorf("%w: from %s to %s", ErrRedirectRefused, first.Scheme, req.URL.Scheme)
		case len(via) >= 10:
			return fmt.Errorf("%w: more than 10 redirects", ErrRedirectRefused)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}
