package fakeapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestServedBytesAreStable pins the simulator's output for a few seeds: a
// transcript of v1 list pages, i= lookups, g= and f=1 answers, v2 pages and
// single tickets, before and after churn and the other world changes, is
// hashed and compared with the hash recorded when the transcript was first
// written. Tests, benchmarks and BENCHMARKS.md rely on a seed giving the same
// bytes; a deliberate change to what is served must update the hashes (the
// failure message prints the new one).
func TestServedBytesAreStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{Seed: 1, Tickets: 1000}, "2950a1e7e4633e8f695c6f792d3f6e6caa61c45b1024f42f092b5a45ce9265e6"},
		{Options{Seed: 7, Tickets: 300, OpenShare: 0.3}, "df921cb21e5221b8b66274dd65227b5e16a807cb8dd11dc7149dd21236cd32fa"},
		{Options{Seed: 42, Tickets: 2500}, "cb07bc07a3fc7b27fe3f4150c2433fcaae96af03fecb2d704ab1e52c667e0daa"},
		{Options{Seed: 5, Empty: true}, "012e8c01e970d06b77f7ca975043cb703d0ec8e7df554fc04d2662d66bafd088"},
	} {
		t.Run(strconv.FormatInt(tc.opts.Seed, 10), func(t *testing.T) {
			t.Parallel()
			if got := transcriptHash(New(tc.opts)); got != tc.want {
				t.Errorf("transcript hash %s, want %s", got, tc.want)
			}
		})
	}
}

func transcriptHash(srv *Server) string {
	h := sha256.New()
	transcript(h, srv)
	return hex.EncodeToString(h.Sum(nil))
}

// transcript serves the request set, changes the world in every way the
// methods allow, and serves the request set again.
func transcript(h io.Writer, srv *Server) {
	serveAll(h, srv)
	srv.Churn(rand.New(rand.NewSource(3)), 120)
	srv.AddTickets(4)
	lb := srv.AddLeaderboardTickets(3)
	if open := srv.Open(); len(open) > 2 {
		srv.SetState(open[0].ID, StateResolved, "")
		srv.SetState(open[1].ID, StateQuarantined, "someone")
		srv.Delete(open[2].ID)
	}
	srv.SetState(lb[0], StateClosed, "lbdev")
	if all := srv.All(); len(all) > 0 {
		tk := all[len(all)/2]
		tk.ReportNotes, tk.ReportedAt = "edited / é 😀", tk.ReportedAt.Add(time.Hour)
		srv.Put(tk)
	}
	srv.PutRaw(999_999, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), json.RawMessage(`{"ID":999999,"odd":true}`))
	serveAll(h, srv)
}

// serveAll writes every answer of a fixed request set to h.
func serveAll(h io.Writer, srv *Server) {
	do := func(path, query string, v2 bool) {
		method := http.MethodGet
		if query == "HEAD" {
			method, query = http.MethodHead, ""
		}
		req := httptest.NewRequest(method, path+"?"+query, nil)
		if v2 {
			req.Header.Set("X-API-Key", testKey)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		fmt.Fprintf(h, "%s?%s %d %s %d\n", path, query, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		h.Write(append(rec.Body.Bytes(), '\n'))
	}
	v1 := func(query string) { do("/API/API_GetTicketData.php", "y="+testKey+"&"+query, false) }
	v2 := func(query string) { do("/api/v2/tickets", query, true) }

	all, allV2 := srv.All(), srv.AllV2()
	for _, x := range []any{all, allV2, srv.Open()} {
		b, _ := json.Marshal(x)
		h.Write(b)
	}
	for _, q := range []string{"", "c=100", "o=37&c=25", "o=-5", "c=-1", "c=abc", "c=1e2&o=3.9", "o=100000"} {
		v1(q)
	}
	for o := 0; o < len(srv.Open())+100; o += 100 {
		v1("c=100&o=" + strconv.Itoa(o))
	}
	maxID := int64(1000)
	if len(allV2) > 0 {
		maxID = allV2[len(allV2)-1].ID
	}
	for id := int64(995); id <= maxID+2; id += 3 {
		v1("i=" + strconv.FormatInt(id, 10))
		do("/api/v2/tickets/"+strconv.FormatInt(id, 10), "", true)
	}
	var games []int64
	for _, tk := range allV2 {
		if !slices.Contains(games, tk.GameID) {
			games = append(games, tk.GameID)
		}
	}
	games = append(games[:min(len(games), 12)], 1)
	for _, g := range games {
		gs := strconv.FormatInt(g, 10)
		for _, q := range []string{"", "&d=1", "&d=1&f=5", "&d=1&o=2&c=3", "&d=1&c=-1", "&c=-1"} {
			v1("g=" + gs + q)
		}
		v2("filter[gameId]=" + gs + "&filter[state]=all")
	}
	v1("f=1")
	v1("f=1&c=5")
	v1("y=wrong")

	for _, q := range []string{
		"", "filter[state]=all&page[size]=100", "sort=resolvedAt,-id&filter[state]=resolved,closed",
		"sort=state,-reportedAt&page[size]=7&page[number]=3", "filter[ticketableType]=leaderboard&filter[state]=all",
		"filter[type]=did_not_trigger,did_not_start", "filter[id]=1001,1002,1001,1005,50000",
		"filter[achievementId]=10001,10005&filter[leaderboardId]=50001", "page[number]=999",
		"filter[reporterUserId]=x,y", "page[size]=0", "sort=nope", "filter[state]=weird", "filter[foo]=1",
		"filter[id]=a", "filter[type]=zzz", "filter[ticketableType]=x", "page[number]=0",
	} {
		v2(q)
	}
	for _, tk := range allV2[:min(len(allV2), 40)] {
		v2("filter[reporterUserId]=" + tk.ReportedByULID + "&filter[state]=all")
		if tk.ResolvedByULID != nil {
			v2("filter[resolverUserId]=" + *tk.ResolvedByULID + "&filter[state]=all&sort=-resolvedAt")
		}
	}
	for n := 1; n <= (len(allV2)+99)/100+1; n++ {
		v2("filter[state]=all&sort=-reportedAt,id&page[size]=100&page[number]=" + strconv.Itoa(n))
	}
	srv.Enqueue(Fault{Kind: FaultTooManyRequests, RetryAfter: 1500 * time.Millisecond}, Fault{Kind: FaultServerError},
		Fault{Kind: FaultServerError, Status: 503}, Fault{Kind: FaultHTML}, Fault{Kind: FaultTruncated},
		Fault{Kind: FaultSlow, Delay: time.Millisecond}, Fault{Kind: FaultTruncated})
	for range 6 {
		v1("c=3")
	}
	v2("page[size]=2")
	do("/api/v2/tickets/abc", "", true)
	do("/api/v2/tickets", "", false)
	do("/api/v2/other", "", true)
	do("/nowhere", "", false)
	do("/API/API_GetTicketData", "HEAD", false)
	do("/api/v2/tickets", "HEAD", true)
	b, _ := json.Marshal(srv.Requests())
	h.Write(b)
}
