package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// print writes one BENCH line per figure: measured values only (the
// targets are in BENCHMARKS.md).
func (r *results) print(w io.Writer) {
	var ceiling float64
	if len(r.ceiling) > 0 {
		m := median(r.ceiling)
		ceiling = m.rate()
		line(w, "copy_ceiling", "rows", m.rows, "runs", len(r.ceiling), "seconds", m.seconds, "rows_per_s", ceiling)
	}
	rateLine := func(name string, ss []sample, extra ...any) {
		if len(ss) == 0 {
			return
		}
		m := median(ss)
		kv := []any{"rows", m.rows, "runs", len(ss), "seconds", m.seconds, "rows_per_s", m.rate()}
		if ceiling > 0 {
			kv = append(kv, "ceiling_rows_per_s", ceiling, "ratio", m.rate()/ceiling)
		}
		line(w, name, append(kv, extra...)...)
	}
	if len(r.syncNew) > 0 {
		rateLine("sync_new", r.syncNew, "requests", int64(medianOf(r.syncNew, "list")+medianOf(r.syncNew, "ticket")),
			"peak_rss_mib", medianOf(r.syncNew, "rss_mib"))
		rateLine("sync_unchanged", r.syncSame, "peak_rss_mib", medianOf(r.syncSame, "rss_mib"))
	}
	rateLine("backfill_new", r.backfill, "requests", int64(medianOf(r.backfill, "game")),
		"peak_rss_mib", medianOf(r.backfill, "rss_mib"))
	if len(r.rssSmall) > 0 && len(r.syncNew) > 0 {
		small, large := medianOf(r.rssSmall, "rss_mib"), medianOf(r.syncNew, "rss_mib")
		line(w, "rss_sync_small", "tickets", r.rssSmall[0].rows, "runs", len(r.rssSmall), "peak_rss_mib", small)
		line(w, "rss_sync_large", "tickets", r.syncNew[0].rows, "runs", len(r.syncNew), "peak_rss_mib", large,
			"growth_vs_small", large/small-1)
	}
	// Requests, against the fewest that can do the job: ceil(N/100) pages
	// of 100 (the v2 and v1 figures: requests.go).
	if len(r.syncSame) > 0 {
		open := r.syncSame[0].rows
		fewest := math.Ceil(float64(open) / 100)
		req := medianOf(r.syncSame, "list")
		line(w, "requests_quiet_sync", "open", open, "runs", len(r.syncSame), "requests", int64(req),
			"ceil_open_per_100", int64(fewest), "ratio", req/fewest,
			"ticket_lookups", int64(medianOf(r.syncSame, "ticket")))
	}
	for _, f := range r.requests {
		line(w, f.name, f.kv...)
	}
}

// median returns the run with the median rate (the lower middle one for an
// even count).
func median(ss []sample) sample {
	sorted := slices.Clone(ss)
	slices.SortFunc(sorted, func(a, b sample) int { return cmp.Compare(a.rate(), b.rate()) })
	return sorted[(len(sorted)-1)/2]
}

// medianOf is the median of one extra value of ss, 0 for no runs (a group
// left out).
func medianOf(ss []sample, key string) float64 {
	if len(ss) == 0 {
		return 0
	}
	vals := make([]float64, len(ss))
	for i, s := range ss {
		vals[i] = s.extra[key]
	}
	slices.Sort(vals)
	return vals[(len(vals)-1)/2]
}

// line prints one BENCH line: name first, then the fields in order.
func line(w io.Writer, name string, kv ...any) {
	var b strings.Builder
	b.WriteString("BENCH name=" + name)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=", kv[i])
		switch v := kv[i+1].(type) {
		case float64:
			switch {
			case v >= 1000:
				fmt.Fprintf(&b, "%.0f", v)
			case v >= 10:
				fmt.Fprintf(&b, "%.1f", v)
			default:
				fmt.Fprintf(&b, "%.3f", v)
			}
		default:
			fmt.Fprint(&b, v)
		}
	}
	fmt.Fprintln(w, b.String())
}
