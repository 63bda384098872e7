package fakeapi

import (
	"math/rand"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkServePage serves 100-ticket pages at spread offsets of a
// 200,000-ticket world, optionally with a churn event between requests
// (the incremental open-list maintenance a mid-scan change costs).
func BenchmarkServePage(b *testing.B) {
	srv := New(Options{Seed: 1, Tickets: 200_000})
	n := len(srv.Open())
	for _, churn := range []bool{false, true} {
		name := "static"
		if churn {
			name = "with_churn"
		}
		b.Run(name, func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			i := 0
			for b.Loop() {
				if churn {
					srv.Churn(rng, 1)
				}
				o := (i * 7919 * 100) % n
				i++
				req := httptest.NewRequest("GET", "/API/API_GetTicketData.php?y="+testKey+"&c=100&o="+strconv.Itoa(o), nil)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
				b.SetBytes(int64(rec.Body.Len()))
			}
		})
	}
}

func BenchmarkNewWorld200k(b *testing.B) {
	for b.Loop() {
		New(Options{Seed: 1, Tickets: 200_000})
	}
}
