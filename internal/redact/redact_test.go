package redact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	t.Parallel()
	r := New("s3cr3t-key", "pw", "", "dbpassword")
	cases := []struct{ in, want string }{
		{"GET /API?y=s3cr3t-key&z=me", "GET /API?y=REDACTED&z=me"},
		{"password=dbpassword host=x", "password=REDACTED host=x"},
		{"pw stays: too short to be a secret", "pw stays: too short to be a secret"},
		{"nothing here", "nothing here"},
	}
	for _, c := range cases {
		if got := r.String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	var buf bytes.Buffer
	w := r.Writer(&buf)
	n, err := w.Write([]byte(`{"error":"key s3cr3t-key refused"}`))
	if err != nil || n != len(`{"error":"key s3cr3t-key refused"}`) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := buf.String(); got != `{"error":"key REDACTED refused"}` {
		t.Fatalf("writer output %q", got)
	}
	var nilR *Redactor
	if nilR.String("s3cr3t-key") != "s3cr3t-key" {
		t.Fatal("nil redactor must pass text through")
	}
}

func TestSpellings(t *testing.T) {
	t.Parallel()
	const key = `k3y+S3cr/t=X"Z`
	r := New(key)
	for _, in := range []string{
		key,
		url.QueryEscape(key),
		url.PathEscape(key),
		url.UserPassword("u", key).String(),
		fmt.Sprintf("%q", key),
		`{"echo":"k3y+S3cr\/t=X\"Z"}`,
		fmt.Sprintf("%q", `{"echo":"k3y+S3cr\/t=X\"Z"}`),
	} {
		got := r.String(in)
		if strings.Contains(got, "S3cr") {
			t.Errorf("String(%q) = %q: the key survives", in, got)
		}
		if b := r.Bytes([]byte(in)); strings.Contains(string(b), "S3cr") {
			t.Errorf("Bytes(%q) = %q: the key survives", in, b)
		}
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	r := New("abcd1234", "abc")
	if got := r.Error(errors.New("failed with abcd1234 inside")).Error(); got != "failed with REDACTED inside" {
		t.Errorf("got %q", got)
	}
	if got := r.Error(errors.New("short abc stays")).Error(); got != "short abc stays" {
		t.Errorf("got %q: a short secret must not be replaced in free text", got)
	}
	// A url.Error is sanitized whatever the secret's length, and the
	// wrappers that froze its URL are rewritten too.
	ue := &url.Error{Op: "Get", URL: "http://h/p?c=1&y=abc&z=u", Err: errors.New("boom")}
	err := r.Error(fmt.Errorf("wrapped %s: %w", ue.URL, ue))
	if strings.Contains(err.Error(), "y=abc") || !strings.Contains(err.Error(), "y=REDACTED") {
		t.Errorf("url.Error not sanitized: %v", err)
	}
	if !errors.Is(r.Error(fmt.Errorf("x abcd1234: %w", context.Canceled)), context.Canceled) {
		t.Error("Error broke the chain")
	}
	var nilR *Redactor
	if e := errors.New("abcd1234"); nilR.Error(e) != e {
		t.Error("nil redactor must pass errors through")
	}
}

func TestConnStringPasswords(t *testing.T) {
	t.Parallel()
	const pw = "Sup3r SecretPw"
	cases := []string{
		"host=h password = 'Sup3r SecretPw' port=x",
		`host=h password=Sup3r\ SecretPw port=x`,
		`host=h password='Sup3r SecretPw`,
		"password\t=\t'Sup3r SecretPw' host=h sslmode=bogus",
		`host=h password='Sup3r\ SecretPw' port=x`,
		"postgres://u:Sup3r SecretPw@h:notaport/x",
		"postgres://u:Sup3r%20SecretPw@h:notaport/x",
		"postgresql://u@h:notaport/x?sslmode=x&password=Sup3r%20SecretPw",
		"POSTGRES://u:Sup3r SecretPw@h:5432/x?port=zz",
		"host=İstanbul password='Sup3r SecretPw' port=x", // ToLower would shift the offsets
		"postgres://u@İ:x/x?password=Sup3r%20SecretPw",
	}
	for _, cs := range cases {
		if got := ConnStringPasswords(cs); !slices.Contains(got, pw) {
			t.Errorf("ConnStringPasswords(%q) = %q, want it to hold %q", cs, got, pw)
		}
		if out := New(ConnStringPasswords(cs)...).String("cannot parse `" + cs + "`"); strings.Contains(out, "Secret") {
			t.Errorf("%q: %q still shows the password", cs, out)
		}
	}
	if got := ConnStringPasswords("host=h sslpassword=notme user=u"); len(got) != 0 {
		t.Errorf("sslpassword taken for the password: %q", got)
	}
	// With two '@', the password may end at either.
	got := ConnStringPasswords("postgres://u:Sup3r@Secret@h:5432/x")
	if !slices.Contains(got, "Sup3r@Secret") {
		t.Errorf("two '@': %q", got)
	}
}
