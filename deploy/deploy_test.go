package deploy_test

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/ratickets/ratickets/extract"
	"github.com/ratickets/ratickets/internal/fakeapi"
	"github.com/ratickets/ratickets/internal/pgtest"
	"github.com/ratickets/ratickets/internal/pipeline"
	"github.com/ratickets/ratickets/load"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerfile is the Dockerfile's instructions, continuation lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	var out []string
	cur := ""
	for _, line := range strings.Split(read(t, "Dockerfile"), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		out = append(out, cur+trimmed)
		cur = ""
	}
	return out
}

// TestDockerfileBuildsAStaticBinary runs the Dockerfile's build line as is
// (from the repository root, as COPY . . puts it in WORKDIR) and checks that
// the binary has no ELF interpreter and no shared libraries, so that it runs
// on the distroless static image; and that the image runs as non-root.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	t.Parallel()
	var build, user string
	froms := 0
	for _, ins := range dockerfile(t) {
		switch {
		case strings.HasPrefix(ins, "FROM "):
			froms++
			user = "" // USER is per stage
		case strings.HasPrefix(ins, "RUN ") && strings.Contains(ins, "go build"):
			build = strings.TrimPrefix(ins, "RUN ")
		case strings.HasPrefix(ins, "USER "):
			user = strings.TrimPrefix(ins, "USER ")
		}
	}
	if froms < 2 {
		t.Errorf("%d stages, want a multi-stage build", froms)
	}
	if user == "" || user == "root" || strings.HasPrefix(user, "0") {
		t.Errorf("the final stage runs as %q, want a non-root user", user)
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !strings.Contains(build, "-o /out/ratickets") {
		t.Fatalf("build line %q: want CGO_ENABLED=0 and -o /out/ratickets", build)
	}
	bin := filepath.Join(t.TempDir(), "ratickets")
	cmd := exec.Command("sh", "-c", strings.Replace(build, "/out/ratickets", bin, 1))
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-dockertest")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "ratickets v0.0.0-dockertest" {
		t.Errorf("built binary: version %q (%v), want the VERSION build arg", out, err)
	}
}

// TestSystemdUnitsVerify runs systemd-analyze verify on the unit pair, with
// the binary's path pointed at an executable that exists here. Warnings
// (unknown keys, bad values) fail the test, not only errors.
func TestSystemdUnitsVerify(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"ratickets.service", "ratickets.timer"} {
		text := read(t, filepath.Join("systemd", name))
		if name == "ratickets.service" {
			if !strings.Contains(text, "ExecStart=/usr/local/bin/ratickets sync") {
				t.Fatal("the service does not run `ratickets sync`")
			}
			text = strings.ReplaceAll(text, "/usr/local/bin/ratickets", self)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "ratickets.service"), filepath.Join(dir, "ratickets.timer"))
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

var cronField = regexp.MustCompile(`^(\*|\d+(-\d+)?)(/\d+)?(,(\d+(-\d+)?)(/\d+)?)*$`)

// TestCrontabLine checks the /etc/cron.d line: five time fields, a user, and
// a command that sh can parse, runs sync, and has no bare % (cron turns it
// into a newline).
func TestCrontabLine(t *testing.T) {
	t.Parallel()
	var jobs []string
	for _, line := range strings.Split(read(t, "cron/ratickets"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || regexp.MustCompile(`^[A-Z_]+=`).MatchString(line) {
			continue
		}
		jobs = append(jobs, line)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d job lines, want 1: %q", len(jobs), jobs)
	}
	fields := strings.Fields(jobs[0])
	if len(fields) < 7 {
		t.Fatalf("job line %q: want 5 time fields, a user and a command", jobs[0])
	}
	for _, f := range fields[:5] {
		if !cronField.MatchString(f) {
			t.Errorf("time field %q", f)
		}
	}
	if fields[5] != "ratickets" {
		t.Errorf("runs as %q, want the ratickets user", fields[5])
	}
	command := strings.Join(fields[6:], " ")
	if strings.Contains(command, "%") {
		t.Error("the command has a %, which cron turns into a newline")
	}
	if !strings.Contains(command, "/usr/local/bin/ratickets sync") || !strings.Contains(command, "RA_API_KEY_FILE=") {
		t.Errorf("command %q: want ratickets sync with the key from a file", command)
	}
	if out, err := exec.Command("sh", "-n", "-c", command).CombinedOutput(); err != nil {
		t.Errorf("sh cannot parse the command: %v\n%s", err, out)
	}
}

// TestKubernetesCronJob checks what matters in the manifest without a
// cluster: Forbid, the key as a file from a Secret mounted where
// RA_API_KEY_FILE points, and a non-root user that matches the image's.
func TestKubernetesCronJob(t *testing.T) {
	t.Parallel()
	y := read(t, "kubernetes/cronjob.yaml")
	if strings.Contains(y, "\t") {
		t.Error("tab in YAML")
	}
	for _, want := range []string{
		"apiVersion: batch/v1", "kind: CronJob", "concurrencyPolicy: Forbid", "restartPolicy: Never",
		"runAsNonRoot: true", "runAsUser: 65532", "readOnlyRootFilesystem: true", `args: ["sync"`,
		"secretName: ratickets-api",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("cronjob.yaml lacks %q", want)
		}
	}
	if strings.Contains(y, "name: RA_API_KEY\n") {
		t.Error("the key is passed as a variable; use RA_API_KEY_FILE")
	}
	m := regexp.MustCompile(`name: RA_API_KEY_FILE\s+value: (\S+)`).FindStringSubmatch(y)
	if m == nil {
		t.Fatal("no RA_API_KEY_FILE")
	}
	mount := regexp.MustCompile(`name: ra-api-key\s+mountPath: (\S+)`).FindStringSubmatch(y)
	item := regexp.MustCompile(`key: ra_api_key\s+path: (\S+)`).FindStringSubmatch(y)
	if mount == nil || item == nil || m[1] != mount[1]+"/"+item[1] {
		t.Errorf("RA_API_KEY_FILE %s is not the mounted secret's file (mount %v, item %v)", m[1], mount, item)
	}
	var dockerUser string
	for _, ins := range dockerfile(t) {
		if strings.HasPrefix(ins, "USER ") {
			dockerUser = strings.TrimPrefix(ins, "USER ")
		}
	}
	if dockerUser != "65532:65532" {
		t.Errorf("the image's user %q differs from the CronJob's 65532:65532", dockerUser)
	}
}

// TestRoleScript runs deploy/postgres/role.sql (twice: it must be
// re-runnable) on a server of its own, then migrates and syncs as the role,
// and checks that the role can do that and nothing more.
func TestRoleScript(t *testing.T) {
	t.Parallel()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	pg := pgtest.NewServer(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close(context.Background()) })
	if _, err := admin.Exec(ctx, "CREATE DATABASE ratickets"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		out, err := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "password=role-pw-123",
			"-d", pg.URL("ratickets"), "-f", "postgres/role.sql").CombinedOutput()
		if err != nil {
			t.Fatalf("psql -f role.sql: %v\n%s", err, out)
		}
	}
	owner, err := pgx.Connect(ctx, pg.URL("ratickets"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = owner.Close(context.Background()) })
	// Something the role must not reach: a table another role owns.
	if _, err := owner.Exec(ctx, "CREATE TABLE public.not_yours (i int)"); err != nil {
		t.Fatal(err)
	}
	var super, createDB, createRole, hasPassword bool
	if err := owner.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolpassword IS NOT NULL
		FROM pg_authid WHERE rolname = 'ratickets'`).Scan(&super, &createDB, &createRole, &hasPassword); err != nil {
		t.Fatal(err)
	}
	if super || createDB || createRole || !hasPassword {
		t.Errorf("role: superuser %v, createdb %v, createrole %v, password set %v", super, createDB, createRole, hasPassword)
	}

	u, _ := url.Parse(pg.URL("ratickets"))
	u.User = url.UserPassword("ratickets", "role-pw-123")
	pool, err := pgxpool.New(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	mig, err := load.NewMigrator(pool, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer mig.Close()
	if _, err := mig.Up(ctx); err != nil {
		t.Fatalf("migrate up as the role: %v", err)
	}

	// A whole sync as the role: advisory lock, temporary staging table, COPY,
	// merge, history, run bookkeeping.
	fake := fakeapi.New(fakeapi.Options{Seed: 2, Tickets: 120})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	client, err := extract.New(extract.Config{BaseURL: api.URL, Username: "demo", APIKey: "fake-api-key"})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pipeline.Sync(ctx, pipeline.Config{Client: client, Store: load.New(pool, zerolog.Nop()), Version: "test"})
	if err != nil || sum.Status != load.StatusSucceeded || sum.Counts.Inserted != int64(len(fake.Open())) {
		t.Fatalf("sync as the role: %s, %d inserted of %d open, %v", sum.Status, sum.Counts.Inserted, len(fake.Open()), err)
	}

	count := func(sql string) int64 {
		var n int64
		if err := pool.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('ratickets', 'analytics') AND pg_get_userbyid(c.relowner) <> 'ratickets'`); n != 0 {
		t.Errorf("%d relations in the role's schemas owned by someone else", n)
	}
	if n := count(`SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relname <> 'not_yours'`); n != 0 {
		t.Errorf("%d relations landed in public", n)
	}
	if n := count(`SELECT count(*) FROM ratickets.tickets`); n == 0 {
		t.Error("no tickets in the schema ratickets")
	}

	for _, sql := range []string{
		"CREATE TABLE public.intruder (i int)",
		"SELECT * FROM public.not_yours",
		"CREATE ROLE another",
		"CREATE DATABASE another",
	} {
		_, err := pool.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the role: %v, want permission denied (42501)", sql, err)
		}
	}
}
