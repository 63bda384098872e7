package extract

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func v2Body(ids ...int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"meta":{"page":{"currentPage":1,"lastPage":1,"perPage":100,"total":%d}},"jsonapi":{"version":"1.0"},"links":{"first":"x"},"data":[`, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"tickets","id":"%d","attributes":{"state":"open"}}`, id)
	}
	b.WriteString(`]}`)
	return b.String()
}

func okV2(ids ...int64) responder {
	return respond(200, v2Body(ids...), "Content-Type", "application/vnd.api+json")
}

// TestV2KeyOnlyInHeader: v2 requests carry the key in X-API-Key and
// nowhere else (no y=, no z=), ask for JSON:API, and go to /api/v2/tickets
// under the base URL's path prefix.
func TestV2KeyOnlyInHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []responder{okV2(5, 6)}, func(c *Config) { c.BaseURL += "/prefix/" })
	p, err := h.c.v2List(context.Background(), ModeV2List, V2Query{States: []string{"all"}, GameIDs: []int64{7, 8}}, 2, 50)
	if err != nil || len(p.IDs) != 2 || p.IDs[0] != 5 || p.Total != 2 || p.HasNext {
		t.Fatalf("V2List: %+v, %v", p, err)
	}
	r := <-h.reqs
	if r.URL.Path != "/prefix/api/v2/tickets" {
		t.Errorf("path %q", r.URL.Path)
	}
	q := r.URL.Query()
	if q.Has("y") || q.Has("z") || strings.Contains(r.URL.RawQuery, "k3y") {
		t.Errorf("credentials in the URL: %s", r.URL.RawQuery)
	}
	if r.Header.Get("X-API-Key") != testKey || r.Header.Get("Accept") != "application/vnd.api+json" {
		t.Errorf("headers %v", r.Header)
	}
	if q.Get("filter[state]") != "all" || q.Get("filter[gameId]") != "7,8" || q.Get("sort") != "id" ||
		q.Get("page[number]") != "2" || q.Get("page[size]") != "50" {
		t.Errorf("query %v", q)
	}
	if a := h.att.all(); len(a) != 1 || a[0].Mode != ModeV2List {
		t.Errorf("attempts %+v", a)
	}
	if _, err := h.c.v2List(context.Background(), ModeV2List, V2Query{}, 1, 101); err == nil || h.hits.Load() != 1 {
		t.Errorf("page size 101: %v after %d requests", err, h.hits.Load())
	}
}

func TestProbeV2(t *testing.T) {
	t.Parallel()
	notFound := respond(404, `<html>Not Found</html>`, "Content-Type", "text/html")
	unauth := respond(401, `{"errors":[{"status":"401","title":"Unauthenticated"}]}`)
	tests := []struct {
		name     string
		script   []responder
		want     error // nil: v2 usable
		requests int64
	}{
		{"answers", []responder{okV2(9)}, nil, 1},
		{"not deployed", []responder{notFound}, ErrV2Unavailable, 1},
		{"key refused", []responder{unauth}, ErrUnauthorized, 1},
		{"throttled then answers", []responder{respond(429, `{}`, "Retry-After", "2"), okV2(9)}, nil, 2},
		{"html page then answers", []responder{respond(200, "<html>busy</html>"), okV2()}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.script, nil)
			h.fakeSleep()
			err := h.c.ProbeV2(context.Background())
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("probe: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("probe: %v, want %v", err, tt.want)
			}
			if err != nil {
				assertNoKey(t, "error", err.Error())
			}
			if got := h.hits.Load(); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			r := <-h.reqs
			if r.URL.Query().Get("page[size]") != "1" {
				t.Errorf("probe asked for %q tickets", r.URL.Query().Get("page[size]"))
			}
			if tt.name == "throttled then answers" && (len(h.sleeps) == 0 || h.sleeps[0] < 2*time.Second) {
				t.Errorf("Retry-After not honoured: waits %v", h.sleeps)
			}
		})
	}
}

func TestTicketsByID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []responder{okV2(30, 10)}, nil)
	b, err := h.c.TicketsByID(context.Background(), []int64{30, 20, 10, 30, 40})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(b.Asked, b.IDs, b.Missing) != "[10 20 30 40] [10 30] [20 40]" || len(b.Tickets) != 2 ||
		!strings.Contains(string(b.Tickets[0]), `"id":"10"`) {
		t.Errorf("batch %v %v %v", b.Asked, b.IDs, b.Missing)
	}
	q := (<-h.reqs).URL.Query()
	if q.Get("filter[id]") != "10,20,30,40" || q.Get("filter[state]") != "all" || q.Get("page[size]") != "100" {
		t.Errorf("query %v", q)
	}
	if a := h.att.all(); a[0].Mode != ModeV2IDs {
		t.Errorf("mode %q", a[0].Mode)
	}

	// A server that ignores filter[id] must not make real tickets "missing".
	for name, r := range map[string]responder{
		"unasked id": okV2(10, 11),
		"more pages": respond(200, strings.Replace(v2Body(10), `"first":"x"`, `"first":"x","next":"y"`, 1)),
	} {
		h := newHarness(t, []responder{r}, nil)
		if _, err := h.c.TicketsByID(context.Background(), []int64{10, 12}); err == nil || errors.Is(err, ErrMalformedBody) {
			t.Errorf("%s: err %v", name, err)
		}
		if h.hits.Load() != 1 {
			t.Errorf("%s: %d requests (retried)", name, h.hits.Load())
		}
	}
	many := make([]int64, 101)
	for i := range many {
		many[i] = int64(i + 1)
	}
	if _, err := h.c.TicketsByID(context.Background(), many); err == nil {
		t.Error("101 ids accepted")
	}
}

func TestLookupV2Batches(t *testing.T) {
	t.Parallel()
	h := newHarness(t, []responder{okV2(1, 100), okV2(101), okV2()}, nil)
	ids := make([]int64, 0, 260)
	for i := int64(250); i >= 1; i-- {
		ids = append(ids, i)
	}
	ids = append(ids, 5, 6, 7)
	var found, missing int
	for b, err := range h.c.LookupV2(context.Background(), ids) {
		if err != nil {
			t.Fatal(err)
		}
		found += len(b.IDs)
		missing += len(b.Missing)
	}
	if h.hits.Load() != 3 || found != 3 || missing != 247 {
		t.Errorf("%d requests, %d found, %d missing", h.hits.Load(), found, missing)
	}
	var sizes []int
	for range 3 {
		sizes = append(sizes, len(strings.Split((<-h.reqs).URL.Query().Get("filter[id]"), ",")))
	}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Errorf("batch sizes %v", sizes)
	}
}

func TestV2MalformedBodiesAreRetried(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]string{
		"html":          "<html>busy</html>",
		"no data":       `{"meta":{}}`,
		"errors doc":    `{"errors":[{"status":"500"}]}`,
		"bad id":        `{"data":[{"type":"tickets","id":"x"}]}`,
		"other type":    `{"data":[{"type":"users","id":"5"}]}`,
		"truncated doc": v2Body(1, 2)[:40],
	} {
		h := newHarness(t, []responder{respond(200, bad), okV2(3)}, nil)
		p, err := h.c.v2List(context.Background(), ModeV2List, V2Query{}, 1, 10)
		if err != nil || len(p.IDs) != 1 || h.hits.Load() != 2 {
			t.Errorf("%s: %v after %d requests", name, err, h.hits.Load())
		}
	}
}
