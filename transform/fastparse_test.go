package transform

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// fastCases are inputs aimed at the fast path's edges: member-name
// matching, repeats, escapes and content that makes Raw need cleaning.
func fastCases() []string {
	return []string{
		ticketJSON("id", `5`),                             // case-insensitive match
		ticketJSON("REPORTEDAT", `"2020-02-02 02:02:02"`), // folded match after the exact one
		`{"ID":1,"id":2,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1}`,
		`{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1,"ID":"7"}`, // last wins
		`{"ID":"1","ID":2,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1}`,
		`{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1,"Points":"x","Points":3}`,
		`{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1,"GameTitle":"a","GameTitle":null}`,
		`{"I\u0044":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1}`,   // escaped name
		`{"ıd":1,"ID":3,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1}`, // folds to ID
		`{"ſtate":1,"ID":3,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1}`,
		ticketJSON("Extra", `"caf`+"\xe9"+`"`),        // invalid UTF-8 in an unmodelled member
		ticketJSON("Extra", `"\u0000"`),               // NUL in an unmodelled member
		ticketJSON("Extra", `"\udc00\ud800"`),         // lone surrogates, reversed
		ticketJSON("Extra", `"\ud83d\ude00 ok"`),      // a valid pair
		ticketJSON("GameTitle", `"\ud83d\u0041"`),     // high surrogate then not a low one
		ticketJSON("GameTitle", `"\ud83d"`),           // high surrogate at the end
		ticketJSON("GameTitle", "\"\xed\xa0\x80\""),   // UTF-8-encoded surrogate
		ticketJSON("GameTitle", "\"\xf0\x9f\x98\""),   // truncated sequence
		ticketJSON("GameTitle", `"\b\f\n\r\t\/\\\""`), // every short escape
		ticketJSON("GameTitle", "\"tab\there\""),      // raw control character: invalid
		ticketJSON("GameTitle", `"\x"`),               // bad escape: invalid
		ticketJSON("GameTitle", `"\u12"`),             // short \u: invalid
		ticketJSON("Points", `-0`),
		ticketJSON("Points", `1E1`),
		ticketJSON("Points", `01`), // invalid number
		ticketJSON("Points", `1.`), // invalid number
		ticketJSON("Points", `-`),  // invalid number
		ticketJSON("Points", `1e`), // invalid number
		ticketJSON("Hardcore", `tru`),
		ticketJSON("Nested", strings.Repeat("[", 300)+strings.Repeat("]", 300)), // deeper than the fast path goes
		ticketJSON("Nested", `{"a":[1,2,{"b":"c\"d"}],"e":{}}`),
		ticketJSON("Nested", `[ ]`),
		ticketJSON("Nested", `{ }`),
		" { \"ID\" : 1 , \"ReportedAt\" : \"2024-01-01 00:00:00\" , \"ReportType\" : 1 , \"ReportState\" : 1 } ",
		`{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1,}`,
		`{"ID":1 "ReportedAt":"2024-01-01 00:00:00"}`,
		`{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1}}`,
		`{"ID":1,"ReportedAt":"2024-01-01 00:00:00","ReportType":1,"ReportState":1} x`,
		ticketJSON("ReportedAt", `"2024-02-29 24:00:00"`),
		ticketJSON("ReportedAt", `" 2024-01-10 22:31:54 "`),
		ticketJSON("ReportedAt", `"1969-12-31 23:59:59"`),
		ticketJSON("ReportedAt", `"2100-02-29 00:00:00"`),
		ticketJSON("ReportedAt", `"2000-02-29 00:00:00"`),
		ticketJSON("ReportedAt", `"2024-1-10 22:31:54"`),
		ticketJSON("ReportedAt", `"+024-01-10 22:31:54"`),
	}
}

// TestFastMatchesSlow checks that the one-pass decoder gives exactly what
// the encoding/json path gives, on the shared table and on edge cases.
func TestFastMatchesSlow(t *testing.T) {
	t.Parallel()
	inputs := fastCases()
	for _, tc := range parseCases() {
		inputs = append(inputs, tc.raw)
	}
	for _, raw := range inputs {
		compareFastSlow(t, []byte(raw))
	}
}

// TestFastPathTakesRealTickets guards the speed-up itself: a ticket as the
// API sends it must not fall back to encoding/json.
func TestFastPathTakesRealTickets(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		ticketJSON(),
		ticketJSON("ID", `"55958"`, "ReportState", `"1"`, "Hardcore", `"1"`),
		ticketJSON("ReportNotes", `"caf\u00e9 \ud83d\ude00 <br/> MD5: bff0eb90c2006edade14063d4a2d13cf"`),
	} {
		var w wire
		if _, ok := scanWire([]byte(raw), &w); !ok {
			t.Errorf("fast path declined %.120s", raw)
		}
	}
}

func FuzzFastMatchesSlow(f *testing.F) {
	for _, raw := range fastCases() {
		f.Add([]byte(raw))
	}
	for _, tc := range parseCases() {
		if len(tc.raw) <= maxFuzzSeed {
			f.Add([]byte(tc.raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		compareFastSlow(t, raw)
	})
}

func compareFastSlow(t *testing.T, raw []byte) {
	t.Helper()
	in := bytes.Clone(raw)
	fast, ferr := parse(raw, true)
	slow, serr := parse(raw, false)
	if !bytes.Equal(raw, in) {
		t.Fatal("parse modified its input")
	}
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("%.200q: fast error %v, slow error %v", raw, ferr, serr)
	}
	if ferr != nil {
		if ferr.Error() != serr.Error() {
			t.Fatalf("%.200q: fast error %q, slow error %q", raw, ferr, serr)
		}
		return
	}
	for _, d := range diffTickets(fast, slow) {
		t.Errorf("%.200q: fast vs slow: %s", raw, d)
	}
	if !bytes.Equal(fast.Raw, slow.Raw) {
		t.Errorf("%.200q: Raw differs:\nfast %q\nslow %q", raw, fast.Raw, slow.Raw)
	}
	if len(raw) > 0 && json.Valid(raw) && len(fast.Raw) == 0 {
		t.Errorf("%.200q: empty Raw", raw)
	}
}
