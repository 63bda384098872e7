//go:build goexperiment.jsonv2

package transform

import (
	jsonv2 "encoding/json/v2"
	"testing"
)

// BenchmarkDecodersJSONv2 is BenchmarkDecoders' encoding/json/v2 entry
// (GOEXPERIMENT=jsonv2 with Go 1.26: the package is not available without
// the experiment). It decodes into the same wire struct, whose members
// implement the v1 Unmarshaler that v2 also honours.
func BenchmarkDecodersJSONv2(b *testing.B) {
	page, size := page100()
	b.Run("decode/encoding_json_v2", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range page {
				var w wire
				if err := jsonv2.Unmarshal(raw, &w); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("parse/encoding_json_v2", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			for _, raw := range page {
				var w wire
				if err := jsonv2.Unmarshal(raw, &w); err != nil {
					b.Fatal(err)
				}
				if _, err := build(raw, &w, false); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
