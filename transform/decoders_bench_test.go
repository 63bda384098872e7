package transform

import (
	"encoding/json"
	"fmt"
	"testing"
)

// page100 is one API page worth of realistic tickets.
func page100() ([]json.RawMessage, int) {
	page := make([]json.RawMessage, 100)
	size := 0
	for i := range page {
		page[i] = json.RawMessage(ticketJSON(
			"ID", fmt.Sprint(60000+i),
			"AchievementTitle", fmt.Sprintf(`"Achievement %d"`, i),
			"ReportNotes", fmt.Sprintf(`"Note %d\nRetroAchievements Hash: bff0eb90c2006edade14063d4a2d13cf\nEmulator: RALibRetro (core%d)\nEmulator Version: 1.%d"`, i, i, i)))
		size += len(page[i])
	}
	return page, size
}

// BenchmarkDecoders compares the decoders Parse can sit on, on a 100-ticket
// page: encoding/json (the reference path, into the same wire struct), the
// one-pass scanner Parse uses, and, when built with GOEXPERIMENT=jsonv2,
// encoding/json/v2 (decoders_jsonv2_bench_test.go). "decode" is the JSON
// decoding alone; "parse" is the whole of Parse on top of it.
func BenchmarkDecoders(b *testing.B) {
	page, size := page100()
	b.Run("decode/encoding_json", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range page {
				var w wire
				if err := json.Unmarshal(raw, &w); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("decode/fast", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range page {
				var w wire
				if _, ok := scanWire(raw, &w); !ok {
					b.Fatal("fast path declined")
				}
			}
		}
	})
	for _, fast := range []bool{false, true} {
		name := "parse/encoding_json"
		if fast {
			name = "parse/fast"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, raw := range page {
					if _, err := parse(raw, fast); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
