package redact

import (
	"bytes"
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
