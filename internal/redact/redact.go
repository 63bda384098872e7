// Package redact keeps secrets (the RA API key, the database password) out
// of everything ratickets prints or stores: one Redactor built in main from
// the configured secrets, applied to log output and to run errors.
package redact

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// Placeholder replaces a secret.
const Placeholder = "REDACTED"

// minLen: shorter values are not treated as secrets, because replacing them
// would mangle ordinary text (and a 1-3 character key is no secret anyway).
const minLen = 4

// Redactor replaces known secret values.
type Redactor struct {
	secrets []string
}

// New returns a Redactor for the given secret values; empty and very short
// values are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= minLen {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// String returns s with every secret replaced. A nil Redactor returns s.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, Placeholder)
	}
	return s
}

// Writer wraps w so that every write has the secrets replaced. Log lines are
// written whole by zerolog, so a secret is never split across two writes.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	if r == nil || len(r.secrets) == 0 {
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
	out := p
	for _, sec := range w.r.secrets {
		if bytes.Contains(out, []byte(sec)) {
			out = bytes.ReplaceAll(out, []byte(sec), []byte(Placeholder))
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, err := w.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
