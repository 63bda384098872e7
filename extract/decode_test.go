package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodePageCopiesTickets(t *testing.T) {
	t.Parallel()
	body := []byte(listBody(3, "3"))
	p, err := decodePage(body, ModeList, 40)
	if err != nil {
		t.Fatal(err)
	}
	before := make([]string, len(p.Tickets))
	for i, tk := range p.Tickets {
		before[i] = string(tk)
	}
	// Scribble over the response buffer: the page must not alias it.
	for i := range body {
		body[i] = 'X'
	}
	for i, tk := range p.Tickets {
		if string(tk) != before[i] {
			t.Fatalf("ticket %d changed with the body buffer", i)
		}
		if !strings.HasPrefix(before[i], `{"ID":`) || !json.Valid(tk) {
			t.Errorf("ticket %d = %s, want the object as sent", i, tk)
		}
	}
	if p.Offset != 40 {
		t.Errorf("Offset %d", p.Offset)
	}
}

func TestKeyOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want sortKey
		ok   bool
	}{
		{`{"ID":64866,"ReportedAt":"2024-01-10 22:31:54"}`, sortKey{"2024-01-10 22:31:54", 64866}, true},
		{`{"ID":"55958","ReportedAt":"2013-01-10 22:31:54"}`, sortKey{"2013-01-10 22:31:54", 55958}, true},
		{`{"ReportedAt":"2024-01-10 22:31:54","ID":7,"X":[1,{"ID":9}]}`, sortKey{"2024-01-10 22:31:54", 7}, true},
		{`{"ID":7}`, sortKey{}, false},
		{`{"ID":7,"ReportedAt":null}`, sortKey{}, false},
		{`{"ID":7,"ReportedAt":""}`, sortKey{}, false},
		{`{"ID":7,"ReportedAt":20240110}`, sortKey{}, false},
		{`{"ID":"x","ReportedAt":"2024-01-10 22:31:54"}`, sortKey{}, false},
		{`null`, sortKey{}, false},
		{`[1]`, sortKey{}, false},
	}
	for _, tt := range tests {
		got, ok := keyOf(json.RawMessage(tt.raw))
		if ok != tt.ok || got != tt.want {
			t.Errorf("keyOf(%s) = %+v, %v; want %+v, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
	// Order: later ReportedAt sorts above; same second, larger ID above.
	a := sortKey{"2024-01-10 22:31:54", 5}
	if a.cmp(sortKey{"2024-01-10 22:31:55", 1}) >= 0 || a.cmp(sortKey{"2024-01-10 22:31:54", 6}) >= 0 ||
		a.cmp(sortKey{"2024-01-10 22:31:54", 4}) <= 0 || a.cmp(a) != 0 {
		t.Error("sortKey.cmp does not follow (ReportedAt, ID)")
	}
}

var fuzzSeeds = []string{
	listBody(2, "2"),
	listBody(0, `"0"`),
	`{"RecentTickets":[],"OpenTickets":null}`,
	`{"RecentTickets":null}`,
	`{"RecentTickets":[null,1,"x",[]],"OpenTickets":1e400}`,
	`{"GameID":7,"Tickets":[{"ID":"1","ReportedAt":"2024-01-01 00:00:00"}],"OpenTickets":"9"}`,
	`<!DOCTYPE html><html><body>502 Bad Gateway</body></html>`,
	`{"RecentTickets":[{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportNotes":"\u0000\ud800 <br/> MD5: abc"}]`,
	`[]`,
	``,
	`{"recenttickets":[{"id":1}],"opentickets":-5}`,
	`{"ID":64866,"ReportedAt":"2024-01-10 22:31:54","URL":"x"}`,
}

// FuzzDecodePage: decoding never panics; a body it accepts yields valid JSON
// tickets, and every failure is a (retryable) malformed-body error.
func FuzzDecodePage(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := bytes.Clone(body)
		for _, mode := range []string{ModeList, ModeGame} {
			p, err := decodePage(body, mode, 3)
			if err != nil {
				if !errors.Is(err, ErrMalformedBody) {
					t.Fatalf("%s: error not ErrMalformedBody: %v", mode, err)
				}
				continue
			}
			if p.Offset != 3 || p.OpenTickets < -1 || p.Tickets == nil {
				t.Fatalf("%s: page %+v", mode, p)
			}
			for _, tk := range p.Tickets {
				if !json.Valid(tk) {
					t.Fatalf("%s: invalid ticket JSON %q", mode, tk)
				}
				keyOf(tk)
			}
		}
		if raw, err := decodeTicket(body); err == nil {
			if !json.Valid(raw) {
				t.Fatalf("ticket: invalid JSON %q", raw)
			}
		} else if !errors.Is(err, ErrMalformedBody) {
			t.Fatalf("ticket: error not ErrMalformedBody: %v", err)
		}
		if !bytes.Equal(body, orig) {
			t.Fatal("decoding modified its input")
		}
	})
}

func BenchmarkDecodePage100(b *testing.B) {
	body := []byte(listBody(100, "16000"))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := decodePage(body, ModeList, 0)
		if err != nil || len(p.Tickets) != 100 {
			b.Fatal(err)
		}
	}
}
