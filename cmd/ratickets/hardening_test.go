package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// closedPort returns a loopback TCP port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	return port
}

// TestPlainHTTPNeedsAllowInsecure: the key travels in the query string, so a
// plain http:// base URL is refused unless it is loopback or
// --allow-insecure says so.
func TestPlainHTTPNeedsAllowInsecure(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{"RA_API_KEY": testKey, "RA_USERNAME": "me",
		"DATABASE_URL": "postgres://u@127.0.0.1:" + closedPort(t) + "/x?connect_timeout=2"}}
	for _, tc := range []struct {
		base string
		code int
	}{
		{"http://retroachievements.org", 2},
		{"http://example.com/ra", 2},
		{"HTTP://10.0.0.7:8080", 2},
		{"http://localhost.example.com", 2},
		{"http://127.0.0.1:1/ra", 1}, // allowed: fails later, on the database
		{"http://localhost:1", 1},
		{"http://[::1]:1", 1},
		{"https://example.com", 1},
	} {
		code, stdout, stderr := c.run("sync", "--base-url", tc.base, "--log-level", "error")
		if code != tc.code {
			t.Errorf("--base-url %s: exit %d, want %d\n%s%s", tc.base, code, tc.code, stdout, stderr)
		}
		if tc.code == 2 && !strings.Contains(stderr, "--allow-insecure") {
			t.Errorf("--base-url %s: the refusal does not name --allow-insecure: %s", tc.base, stderr)
		}
	}
	if code, _, stderr := c.run("sync", "--base-url", "http://example.com", "--allow-insecure", "--log-level", "error"); code != 1 {
		t.Errorf("--allow-insecure: exit %d, want 1 (the database): %s", code, stderr)
	}
}

// TestUnlimitedRateGuardKnowsTheSiteByHost: --rps 0 is refused against any
// spelling of the real site, not only the default URL string.
func TestUnlimitedRateGuardKnowsTheSiteByHost(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, env: map[string]string{"RA_API_KEY": testKey, "RA_USERNAME": "me",
		"DATABASE_URL": "postgres://u@127.0.0.1:" + closedPort(t) + "/x?connect_timeout=2"}}
	for _, base := range []string{
		"https://retroachievements.org", "https://RetroAchievements.org/", "https://retroachievements.org.",
		"https://retroachievements.org:443", "https://www.retroachievements.org", "https://api.RETROACHIEVEMENTS.org./x",
	} {
		code, _, stderr := c.run("sync", "--base-url", base, "--rps", "0")
		if code != 2 || !strings.Contains(stderr, "--allow-unlimited") {
			t.Errorf("--base-url %s --rps 0: exit %d, %q; want 2 and --allow-unlimited", base, code, stderr)
		}
	}
	for _, base := range []string{"https://notretroachievements.org", "https://retroachievements.org.example.com"} {
		if code, _, stderr := c.run("sync", "--base-url", base, "--rps", "0", "--log-level", "error"); code != 1 {
			t.Errorf("--base-url %s --rps 0: exit %d, want 1 (the database): %s", base, code, stderr)
		}
	}
}

// TestMalformedDatabaseURLNeverShowsThePassword: the strict parser rejects
// these, and its error quotes the string; the password must not survive in
// any part.
func TestMalformedDatabaseURLNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"host=127.0.0.1 password = 'Sup3r SecretPw' port=x",
		"host=127.0.0.1 password = Sup3rSecretPw port=x",
		`host=127.0.0.1 password=Sup3r\ SecretPw port=x`,
		`host=127.0.0.1 sslmode=bogus password=Sup3r\ SecretPw`,
		"postgres://u:Sup3r SecretPw@127.0.0.1:notaport/x",
		"postgres://u:Sup3r@SecretPw@127.0.0.1:5432/x?port=zz",
		"postgres://u@127.0.0.1:notaport/x?password=Sup3r%20SecretPw",
	} {
		c := &cli{t: t, env: map[string]string{"DATABASE_URL": dsn}}
		code, stdout, stderr := c.run("migrate", "status")
		if code != 2 || !strings.Contains(stderr, "database-url") {
			t.Errorf("%q: exit %d, %q; want 2 and --database-url", dsn, code, stderr)
		}
		for _, part := range []string{"Sup3r", "SecretPw"} {
			if strings.Contains(stdout+stderr, part) {
				t.Errorf("%q: %q of the password printed: %s", dsn, part, stdout+stderr)
			}
		}
	}
}

// TestAPIKeyFileReadableByOthersWarns: a key file that group or others can
// read gets a warning (the run goes on).
func TestAPIKeyFileReadableByOthersWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o604, true}} {
		path := filepath.Join(dir, "key-"+strconv.FormatUint(uint64(tc.mode), 8))
		if err := os.WriteFile(path, []byte(testKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		c := &cli{t: t, env: map[string]string{"RA_USERNAME": "me", "RA_API_KEY_FILE": path,
			"DATABASE_URL": "postgres://u@127.0.0.1:" + closedPort(t) + "/x?connect_timeout=2"}}
		code, stdout, stderr := c.run("sync", "--log-format", "json")
		if code != 1 {
			t.Errorf("mode %o: exit %d, want 1 (the database)\n%s", tc.mode, code, stderr)
		}
		if got := strings.Contains(stderr, "readable by"); got != tc.warn {
			t.Errorf("mode %o: warning %v, want %v\n%s", tc.mode, got, tc.warn, stderr)
		}
		if strings.Contains(stdout+stderr, testKey) {
			t.Errorf("mode %o: key printed", tc.mode)
		}
	}
}
