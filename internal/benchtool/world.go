package main

import (
	"net/http/httptest"
	"slices"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

const (
	apiKey   = "bench-key"
	username = "bench"
)

// world is the simulator (the code behind `ratickets fakeapi`) serving
// over HTTP on a local port. Request counts come from its side.
type world struct {
	srv   *fakeapi.Server
	hs    *httptest.Server
	open  int
	total int
	games []int64
}

// startWorld serves a world of tickets tickets, every one in the open list
// so that a sync sees them all.
func startWorld(tickets int, seed int64) *world {
	w := serve(fakeapi.New(fakeapi.Options{Seed: seed, Tickets: tickets, OpenShare: 1, APIKey: apiKey, Username: username}))
	w.open = len(w.srv.Open())
	for _, t := range w.srv.All() {
		w.total++
		w.games = append(w.games, t.GameID)
	}
	slices.Sort(w.games)
	w.games = slices.Compact(w.games)
	return w
}

func serve(srv *fakeapi.Server) *world {
	return &world{srv: srv, hs: httptest.NewServer(srv)}
}

// requestsSince returns the requests made since before (a
// w.srv.Requests()), by kind: "list", "ticket", "game", "fault", "v2_list"
// (a page or a batch of ids) ….
func (w *world) requestsSince(before map[string]int) map[string]float64 {
	out := map[string]float64{}
	for k, v := range w.srv.Requests() {
		out[k] = float64(v - before[k])
	}
	return out
}
