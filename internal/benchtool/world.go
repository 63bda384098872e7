package main

import (
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

const (
	apiKey   = "bench-key"
	username = "bench"
)

// world is the simulator (the code behind `ratickets fakeapi`) serving
// over HTTP on a local port, every ticket in the open list so that a sync
// sees them all. Request counts come from its side.
type world struct {
	srv   *fakeapi.Server
	hs    *http.Server
	url   string
	open  int
	total int
	games []int64
}

func startWorld(tickets int, seed int64) (*world, error) {
	w, err := serve(fakeapi.New(fakeapi.Options{Seed: seed, Tickets: tickets, OpenShare: 1, APIKey: apiKey, Username: username}))
	if err != nil {
		return nil, err
	}
	w.open = len(w.srv.Open())
	for _, t := range w.srv.All() {
		w.total++
		w.games = append(w.games, t.GameID)
	}
	slices.Sort(w.games)
	w.games = slices.Compact(w.games)
	return w, nil
}

// serve serves srv over HTTP on a local port.
func serve(srv *fakeapi.Server) (*world, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return &world{srv: srv, hs: hs, url: "http://" + ln.Addr().String()}, nil
}

func (w *world) close() { _ = w.hs.Close() }

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
