package extract

import (
	"context"
	"testing"
)

// TestScanImpossibleDateMidList: an item whose ReportedAt is not a real
// date, served among the others, is yielded, and so is every item after
// it: a bogus key must not end the scan early.
func TestScanImpossibleDateMidList(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"0000-00-00 00:00:00", "2024-02-30 10:00:00", "not a date", "9999-99-99 99:99:99"} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			f := newFakeList(350, nil, 0)
			f.items[120].at = bad // where a server that does not sort it would put it
			c := fakeClient(t, f)
			res := runScan(c.ScanOpen(context.Background(), ScanOptions{}))
			if res.err != nil {
				t.Fatalf("scan: %v", res.err)
			}
			if got := f.check(t, res, false); len(res.counts) != got {
				t.Errorf("yielded %d of %d tickets", len(res.counts), got)
			}
		})
	}
}
