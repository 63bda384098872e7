package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ratickets/ratickets/internal/pgtest"
)

// binPath is the ratickets binary TestMain built for this test run.
var binPath string

// peakRSSEnv, set to a file name, makes this test binary a small parent
// instead: it runs its arguments as a command and writes that command's
// peak RSS (KiB) and CPU time (user + system, µs) to the file. The benchmarks measure the ratickets binary
// through it (runBinary): the rusage of a direct child of the benchmark
// process is useless, because Go starts children with vfork and Linux then
// charges the parent's peak (the benchmark holds a world of 200,000
// tickets) to the child.
const peakRSSEnv = "RATICKETS_E2E_PEAK_RSS_FILE"

func TestMain(m *testing.M) {
	if file := os.Getenv(peakRSSEnv); file != "" {
		os.Exit(runMeasured(file, os.Args[1:]))
	}
	os.Exit(testMain(m))
}

// runMeasured runs argv and writes its peak RSS and CPU time to file; it
// exits as argv did.
func runMeasured(file string, argv []string) int {
	_ = os.Unsetenv(peakRSSEnv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if err := os.WriteFile(file, fmt.Appendf(nil, "%d %d", ru.Maxrss, cpu.Microseconds()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return cmd.ProcessState.ExitCode()
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ratickets-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// RATICKETS_E2E_BIN tests a binary built elsewhere (a release build).
	if binPath = os.Getenv("RATICKETS_E2E_BIN"); binPath == "" {
		binPath, err = buildBinary(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	// These tests mostly wait: on retry backoffs, on simulated latency, on
	// subprocesses and Postgres. The default -parallel (GOMAXPROCS, 2 on a
	// small machine) would serialise those waits; unless -parallel was
	// given, run more at once.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "6")
	}
	return pgtest.Main(m)
}

// buildBinary builds ./cmd/ratickets of the enclosing module into dir.
func buildBinary(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module (go env GOMOD = %q)", gomod)
	}
	bin := filepath.Join(dir, "ratickets")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ratickets")
	cmd.Dir = filepath.Dir(gomod)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ratickets: %w\n%s", err, b)
	}
	return bin, nil
}
