package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// child is one finished run of the ratickets binary.
type child struct {
	seconds float64
	rssMiB  float64 // peak resident set size
	out     string  // stdout and stderr
}

// runBinary runs the ratickets binary against w and dbURL (no rate limit)
// and measures its wall time and peak RSS.
//
// The RSS comes from /usr/bin/time when it is installed: Go starts children
// with vfork, and Linux then counts this process's own peak RSS (it holds
// the simulator) in the child's ru_maxrss, so the rusage of a direct child
// is useless here. Without /usr/bin/time, /proc/PID/status VmHWM is polled
// every 10 ms instead (which may miss a short final peak).
func runBinary(ctx context.Context, bin, dbURL string, w *world, args ...string) (child, error) {
	name, argv := bin, args
	rssFile := ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		f, err := os.CreateTemp("", "benchtool-rss-*")
		if err != nil {
			return child{}, err
		}
		rssFile = f.Name()
		_ = f.Close()
		defer os.Remove(rssFile)
		name, argv = "/usr/bin/time", append([]string{"-f", "%M", "-o", rssFile, bin}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	// RA_API=v1: these figures measure the v1 path (the open list the
	// simulator's world puts every ticket in), comparable with earlier
	// results; v2's cost is the requests group's.
	cmd.Env = append(os.Environ(), "RA_API=v1",
		"DATABASE_URL="+dbURL, "RA_BASE_URL="+w.hs.URL, "RA_USERNAME="+username,
		"RA_API_KEY="+apiKey, "RA_RPS=0", "RATICKETS_LOG_LEVEL=warn", "RATICKETS_LOG_FORMAT=json")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return child{}, err
	}
	var polled int64
	done := make(chan struct{})
	if rssFile == "" {
		go pollHWM(cmd.Process.Pid, &polled, done)
	}
	err := cmd.Wait()
	c := child{seconds: time.Since(t0).Seconds(), out: out.String()}
	if rssFile == "" {
		done <- struct{}{}
	}
	if err != nil {
		return c, fmt.Errorf("%s %s: %w\n%s", bin, args[0], err, c.out)
	}
	kib := polled
	if rssFile != "" {
		raw, err := os.ReadFile(rssFile)
		if err == nil {
			_, err = fmt.Sscan(string(raw), &kib) // the whole file is "%M\n"
		}
		if err != nil {
			return c, fmt.Errorf("RSS from /usr/bin/time: %q: %w", raw, err)
		}
	}
	c.rssMiB = float64(kib) / 1024
	return c, nil
}

// pollHWM keeps the largest VmHWM of pid in *peak until done receives
// (and then returns, so *peak may be read).
func pollHWM(pid int, peak *int64, done chan struct{}) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if kib := vmHWM(pid); kib > *peak {
			*peak = kib
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}

// vmHWM reads a process's peak RSS (KiB) from /proc; 0 when unknown.
func vmHWM(pid int) int64 {
	raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	var kib int64
	if _, rest, ok := strings.Cut(string(raw), "\nVmHWM:"); ok {
		_, _ = fmt.Sscan(rest, &kib)
	}
	return kib
}
