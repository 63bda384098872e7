// Package redact keeps secrets (the RA API key, the database password) out
// of everything ratickets prints or stores. It is the one redactor of the
// program: the extract client applies it to every error it returns (the key
// enters errors there), cmd applies it to database errors (the password
// enters them there) and, as a last line of defence, to everything the log
// writes and to the error it prints on exit.
package redact

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Placeholder replaces a secret.
const Placeholder = "REDACTED"

// minLen: shorter values are not replaced in free text, because that would
// mangle ordinary text (and a 1-3 character key is no secret anyway). They
// are still replaced where they stand as a whole URL query value.
const minLen = 4

// Redactor replaces known secret values, in every spelling in which they
// commonly appear in text: raw, URL query- and path-escaped, escaped as URL
// user info, quoted by Go's %q and escaped by a JSON encoder that escapes
// "/" (PHP does). A Redactor is immutable and safe for concurrent use; a nil
// *Redactor passes everything through.
type Redactor struct {
	secrets   []string // as given, non-empty
	spellings []string // every spelling of every secret of minLen or more, longest first
}

// New returns a Redactor for the given secret values; empty values are
// ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if s == "" || slices.Contains(r.secrets, s) {
			continue
		}
		r.secrets = append(r.secrets, s)
		if len(s) >= minLen {
			r.spellings = append(r.spellings, spellings(s)...)
		}
	}
	// Longest first, so that a spelling containing another is replaced
	// whole.
	slices.SortFunc(r.spellings, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	r.spellings = slices.Compact(r.spellings)
	return r
}

func spellings(s string) []string {
	json := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `/`, `\/`).Replace(s)
	return []string{s, url.QueryEscape(s), url.PathEscape(s),
		url.UserPassword("", s).String()[1:], // ":" + the escaped password
		quoted(s), json, quoted(json)}
}

// quoted is s as Go's %q writes it, without the quotes.
func quoted(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// String returns s with every secret replaced.
func (r *Redactor) String(s string) string {
	return string(r.Bytes([]byte(s)))
}

// Bytes returns b with every secret replaced; b itself is not modified.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil {
		return b
	}
	for _, sp := range r.spellings {
		if bytes.Contains(b, []byte(sp)) {
			b = bytes.ReplaceAll(b, []byte(sp), []byte(Placeholder))
		}
	}
	return b
}

// Error returns err with every secret removed from its message, keeping the
// chain for errors.Is and errors.As. Every *url.Error in the chain has the
// query values that equal a secret (of any length) replaced in its URL, in
// place: the caller owns the error, made for one request.
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil {
		return err
	}
	msg := err.Error()
	clean := msg
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			old := ue.URL
			ue.URL = r.sanitizeURL(u).String()
			// Wrappers made by fmt.Errorf froze the old URL into their
			// message; replace it there too.
			clean = strings.ReplaceAll(clean, old, ue.URL)
			clean = strings.ReplaceAll(clean, quoted(old), ue.URL)
		}
	}
	clean = r.String(clean)
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// sanitizeURL returns u, or a copy of it whose query values that equal a
// secret read REDACTED.
func (r *Redactor) sanitizeURL(u *url.URL) *url.URL {
	q := u.Query()
	changed := false
	for _, vs := range q {
		for i, v := range vs {
			if slices.Contains(r.secrets, v) {
				vs[i], changed = Placeholder, true
			}
		}
	}
	if !changed {
		return u
	}
	u2 := *u
	u2.RawQuery = q.Encode()
	return &u2
}

// redactedError carries an error message with the secrets removed while
// keeping the original chain.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Writer wraps w so that every write has the secrets replaced. Log lines are
// written whole by zerolog and messages by one Fprintf, so a secret is never
// split across two writes.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	if r == nil || len(r.spellings) == 0 {
		return w
	}
	return &writer{r: r, w: w}
}

type writer struct {
	mu sync.Mutex
	r  *Redactor
	w  io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	out := w.r.Bytes(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
