package fakeapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"
)

const testKey = "fake-api-key"

// mount serves srv under /ra (as a consumer's base URL would), returning
// the base URL that API paths are appended to.
func mount(t *testing.T, srv *Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ra/", http.StripPrefix("/ra", srv))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL + "/ra"
}

// newClient returns a plain client without connection reuse, so the
// transport never silently retries a request on a connection a fault broke.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// get requests path?query (the key is added unless query sets y) and fails
// the test on any transport or read error.
func get(t *testing.T, base, query string) reply {
	t.Helper()
	r, err := tryGet(newClient(t), base, "/API/API_GetTicketData.php", query)
	if err != nil {
		t.Fatalf("GET %s: %v", query, err)
	}
	return r
}

func tryGet(c *http.Client, base, path, query string) (reply, error) {
	q, err := url.ParseQuery(query)
	if err != nil {
		return reply{}, err
	}
	if _, ok := q["y"]; !ok {
		q.Set("y", testKey)
	}
	resp, err := c.Get(base + path + "?" + q.Encode())
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, err
}

type listBody struct {
	OpenTickets   int
	URL           string
	RecentTickets []servedTicket
}

type gameBody struct {
	GameID      int64
	GameTitle   string
	ConsoleName string
	OpenTickets int
	URL         string
	Tickets     []servedTicket
}

// servedTicket decodes the fields the tests look at.
type servedTicket struct {
	ID                     int64
	GameID                 int64
	GameTitle              string
	ReportedAt             string
	ReportState            int
	ReportStateDescription string
	ReportNotes            string
	ResolvedAt             *string
	ResolvedBy             *string
	ResolvedByULID         *string
	URL                    string
}

func decode[T any](t *testing.T, r reply) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T: %v\nbody: %.300s", v, err, r.body)
	}
	return v
}

// objectKeys returns the keys of the JSON object in b, in order.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %v %v", tok, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func ids(ts []Ticket) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func servedIDs(ts []servedTicket) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// scanAll pages through the open list with c=100 until a page is empty.
func scanAll(t *testing.T, base string) []servedTicket {
	t.Helper()
	var all []servedTicket
	for o := 0; ; o += 100 {
		page := decode[listBody](t, get(t, base, "c=100&o="+strconv.Itoa(o))).RecentTickets
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}
