package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// The BENCH line format is what scripts and BENCHMARKS.md grep for.
func TestLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	line(&out, "sync_new", "rows", int64(185023), "rows_per_s", 11699.4, "peak_rss_mib", 28.04, "ratio", 0.4024)
	want := "BENCH name=sync_new rows=185023 rows_per_s=11699 peak_rss_mib=28.0 ratio=0.402\n"
	if out.String() != want {
		t.Fatalf("got  %q\nwant %q", out.String(), want)
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	ss := []sample{{rows: 10, seconds: 1}, {rows: 30, seconds: 1}, {rows: 20, seconds: 1}, {rows: 40, seconds: 1}}
	if got := median(ss); got.rows != 20 {
		t.Fatalf("median of an even count is the lower middle run: got %d rows/s", got.rows)
	}
	if got := median(ss[:3]); got.rows != 20 {
		t.Fatalf("median: got %d rows/s", got.rows)
	}
}

// The loader's figures are go benchmarks now: -only refuses their group
// instead of silently measuring nothing.
func TestOnlyRejectsUnknownGroup(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"-database-url", "postgres:///none", "-only", "sync,load"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `unknown group "load"`) {
		t.Fatalf("got %v", err)
	}
}

// A group left out (-only) prints no line and does not break the others.
func TestPrintWithoutSomeGroups(t *testing.T) {
	t.Parallel()
	sync := sample{rows: 100, seconds: 1, extra: map[string]float64{"list": 2, "ticket": 0, "rss_mib": 20}}
	r := &results{syncNew: []sample{sync}, syncSame: []sample{sync}}
	var out bytes.Buffer
	r.print(&out)
	if got := out.String(); !strings.Contains(got, "name=sync_new ") || !strings.Contains(got, "name=requests_quiet_sync ") ||
		strings.Contains(got, "backfill") {
		t.Fatalf("got\n%s", got)
	}
	out.Reset()
	(&results{}).print(&out)
	if out.Len() != 0 {
		t.Fatalf("nothing measured, got\n%s", out.String())
	}
}
