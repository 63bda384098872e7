package transform

import (
	"encoding/json"
	"fmt"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	raw := json.RawMessage(ticketJSON())
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParsePage100 parses one API page worth of tickets (the server's
// maximum page size).
func BenchmarkParsePage100(b *testing.B) {
	page := make([]json.RawMessage, 100)
	size := 0
	for i := range page {
		page[i] = json.RawMessage(ticketJSON(
			"ID", fmt.Sprint(60000+i),
			"AchievementTitle", fmt.Sprintf(`"Achievement %d"`, i),
			"ReportNotes", fmt.Sprintf(`"Note %d\nRetroAchievements Hash: bff0eb90c2006edade14063d4a2d13cf\nEmulator: RALibRetro (core%d)\nEmulator Version: 1.%d"`, i, i, i)))
		size += len(page[i])
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, raw := range page {
			if _, err := Parse(raw); err != nil {
				b.Fatal(err)
			}
		}
	}
}
