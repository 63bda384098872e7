package extract

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNotFound matches an *APIError that is the API's own answer to a
	// missing ticket (Ticket) or game (GamePage): HTTP 404 with the body
	// {"error":"Ticket ID N not found"} (or "Game ID N") for the id asked.
	// Any other 404 (an HTML page, another body) is a plain error.
	ErrNotFound = errors.New("ra api: not found")
	// ErrUnauthorized matches an *APIError with HTTP 401 or 403: the
	// username or web API key was refused. Never retried.
	ErrUnauthorized = errors.New("ra api: credentials refused")
	// ErrScanIncomplete means a scan stopped before the end of the list, at
	// a limit or because the list churned faster than the scan. The pages
	// yielded before it are still valid.
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
	// ErrRedirectRefused means the server redirected to another host or
	// from https to plain http. The request, which carries the key, is not
	// sent there, nor retried.
	ErrRedirectRefused = errors.New("ra api: redirect refused")
)

// APIError is a non-2xx HTTP response from the API.
type APIError struct {
	Status   int
	Body     string // up to 512 bytes of the body, the API key replaced by REDACTED
	NotFound bool   // the API's own "not found" answer for the id asked (ErrNotFound)
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
		return e.Status == http.StatusNotFound && e.NotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	}
	return false
}

// bodySnippet returns at most 512 bytes of b as valid UTF-8, key
// redacted. Redaction runs before truncation so a key that straddles the
// cut cannot leak half of itself.
func (c *Client) bodySnippet(b []byte) string {
	s := strings.ToValidUTF8(c.red.String(string(b)), "\uFFFD")
	for len(s) > 512 { // whole runes only
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// isNotFoundAnswer reports whether a 404 body is the API's answer to a
// missing ticket or game: a JSON object whose "error" is exactly want.
func isNotFoundAnswer(body []byte, want string) bool {
	var m struct {
		Error string `json:"error"`
	}
	return want != "" && jsonv2.Unmarshal(body, &m, decodeOptions...) == nil && m.Error == want
}

// notFoundAnswer is the error text the API sends with HTTP 404 when the
// ticket or game a request asks for does not exist; "" for other requests.
func notFoundAnswer(mode string, params url.Values) string {
	switch mode {
	case ModeTicket:
		return "Ticket ID " + params.Get("i") + " not found"
	case ModeGame:
		return "Game ID " + params.Get("g") + " not found"
	}
	return ""
}
