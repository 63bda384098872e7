package extract

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNotFound matches an *APIError with HTTP 404 (a missing ticket in
	// Ticket, a missing game in GamePage).
	ErrNotFound = errors.New("ra api: not found")
	// ErrUnauthorized matches an *APIError with HTTP 401 or 403: the
	// username or web API key was refused. Never retried.
	ErrUnauthorized = errors.New("ra api: credentials refused")
	// ErrScanIncomplete means a scan stopped before the end of the list: the
	// page limit was reached or the list churned more than the reread budget
	// allows. The pages yielded before it are still valid.
	ErrScanIncomplete = errors.New("ra api: scan incomplete")
	// ErrPageLimit is wrapped (with ErrScanIncomplete) when a scan stops at
	// ScanOptions.MaxPages, the limit the caller asked for.
	ErrPageLimit = errors.New("page limit reached")
	// ErrMalformedBody means a 2xx response whose body was not the expected
	// JSON (an HTML error page, truncated JSON, the wrong top-level shape).
	// It is retried; it surfaces only when the retry budget is spent.
	ErrMalformedBody = errors.New("ra api: malformed response body")
	// ErrBodyTooLarge means a response exceeded Config.MaxBodyBytes. Not
	// retried: the same request would most likely get the same answer.
	ErrBodyTooLarge = errors.New("ra api: response body too large")
)

// apiErrorBodyMax is how much of a non-2xx body an APIError keeps.
const apiErrorBodyMax = 512

// redacted replaces the API key wherever it would otherwise appear.
const redacted = "REDACTED"

// APIError is a non-2xx HTTP response from the API.
type APIError struct {
	Status int
	// Body is the first 512 bytes of the response body with the API key
	// replaced by REDACTED.
	Body string
}

func (e *APIError) Error() string {
	if e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden {
		return fmt.Sprintf("ra api: credentials refused (HTTP %d): check RA_USERNAME and RA_API_KEY", e.Status)
	}
	// Collapse whitespace so an HTML error page stays on one log line.
	body := strings.Join(strings.Fields(e.Body), " ")
	if body == "" {
		return fmt.Sprintf("ra api: HTTP %d", e.Status)
	}
	return fmt.Sprintf("ra api: HTTP %d: %s", e.Status, body)
}

// Is makes errors.Is(err, ErrNotFound) and errors.Is(err, ErrUnauthorized)
// work on API errors without string matching.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// sanitizeURL returns a copy of u whose y (API key) query parameter, if
// present, is replaced by REDACTED. Same idea as go-github's sanitizeURL.
func sanitizeURL(u *url.URL) *url.URL {
	if u == nil {
		return nil
	}
	q := u.Query()
	if !q.Has("y") {
		return u
	}
	q.Set("y", redacted)
	u2 := *u
	u2.RawQuery = q.Encode()
	return &u2
}

// redactedError carries an error message with the key removed while keeping
// the original chain for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes the API key from err: every *url.Error in the chain gets
// its URL sanitized in place (the *url.Error is ours, made for this one
// request), and, belt and braces, any remaining occurrence of the key (raw
// or query-escaped) in the message is replaced when the key is at least 4
// characters long (a shorter one would mangle unrelated text).
func (c *Client) redact(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			old := ue.URL
			ue.URL = sanitizeURL(u).String()
			// Wrappers made by fmt.Errorf froze the old URL into their
			// message; replace it there too.
			clean = strings.ReplaceAll(clean, old, ue.URL)
			if q := strconv.Quote(old); len(q) > 2 {
				clean = strings.ReplaceAll(clean, q[1:len(q)-1], ue.URL)
			}
		}
	}
	clean = c.redactString(clean)
	if clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// redactString replaces the API key (raw and query-escaped forms) in s.
func (c *Client) redactString(s string) string {
	if len(c.apiKey) < 4 {
		return s
	}
	s = strings.ReplaceAll(s, c.apiKey, redacted)
	if esc := url.QueryEscape(c.apiKey); esc != c.apiKey {
		s = strings.ReplaceAll(s, esc, redacted)
	}
	if esc := url.PathEscape(c.apiKey); esc != c.apiKey {
		s = strings.ReplaceAll(s, esc, redacted)
	}
	return s
}

// bodySnippet returns at most n bytes of b as valid UTF-8, key redacted.
// Redaction runs before truncation so a key that straddles the cut cannot
// leak half of itself.
func (c *Client) bodySnippet(b []byte, n int) string {
	s := c.redactString(string(b))
	if len(s) > n {
		s = s[:n]
		// Do not end in the middle of a UTF-8 sequence.
		for i := 0; i < utf8.UTFMax-1 && len(s) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
