package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type wantErr struct {
	ticketID int64  // 0: the error must carry no ticket ID
	field    string // "" for whole-record errors
	reason   string // exact, or a prefix when prefix is set
	prefix   bool
}

type parseCase struct {
	name string
	raw  string
	// want edits a copy of baseTicket() into the expected result; nil means
	// the base ticket unchanged. Ignored when err is set.
	want func(*Ticket)
	// minimal starts want from minimalTicket() instead.
	minimal bool
	// raw checks Ticket.Raw; nil means Raw must be the input bytes unchanged.
	checkRaw func(t *testing.T, raw json.RawMessage)
	err      *wantErr
	// problems are the fields Parse must report as dropped (Ticket.Problems).
	problems []FieldProblem
}

func problem(field, reason string) []FieldProblem {
	return []FieldProblem{{Field: field, Reason: reason}}
}

func fieldErr(field, reason string) *wantErr {
	return &wantErr{ticketID: 64866, field: field, reason: reason}
}

// rawHas checks members of the re-encoded Raw (decoded with UseNumber) and
// that no string or key in it holds a NUL.
func rawHas(kv ...any) func(t *testing.T, raw json.RawMessage) {
	return func(t *testing.T, raw json.RawMessage) {
		t.Helper()
		if strings.Contains(string(raw), `\u0000`) {
			t.Errorf("Raw still holds a \\u0000 escape: %s", raw)
		}
		if !utf8.Valid(raw) {
			t.Errorf("Raw is not valid UTF-8: %q", raw)
		}
		m := decodeRaw(t, raw)
		jsonStrings(m, func(s string) {
			if strings.ContainsRune(s, 0) {
				t.Errorf("Raw holds a NUL in %q", s)
			}
		})
		for i := 0; i+1 < len(kv); i += 2 {
			k := kv[i].(string)
			got, ok := m[k]
			if !ok {
				t.Errorf("Raw lost member %q: %s", k, raw)
				continue
			}
			if fmt.Sprint(got) != fmt.Sprint(kv[i+1]) {
				t.Errorf("Raw[%q] = %#v, want %#v", k, got, kv[i+1])
			}
		}
		if n := len(m); n != len(baseMembers()) && len(kv) == 0 {
			t.Errorf("Raw has %d members, want %d", n, len(baseMembers()))
		}
	}
}

// parseCases is the shared table: TestParse runs it and FuzzParse is seeded
// with every raw input in it.
func parseCases() []parseCase {
	cases := []parseCase{
		{name: "realistic ticket", raw: ticketJSON()},
		{name: "surrounding whitespace", raw: " \n\t" + ticketJSON() + "\r\n "},
		{name: "numbers as strings", raw: ticketJSON(
			"ID", `"64866"`, "AchievementID", `"323665"`, "Points", `"10"`, "GameID", `"24453"`,
			"ReportType", `"2"`, "ReportState", `"1"`, "Hardcore", `"1"`)},
		{name: "numeric strings with spaces", raw: ticketJSON("ID", `" 64866 "`, "Points", `"\t10 "`)},
		{name: "integral float forms", raw: ticketJSON("Points", `10.0`, "GameID", `"2.4453e4"`, "AchievementID", `3.23665e5`)},
		{name: "negative and zero optional numbers", raw: ticketJSON("Points", `-1`, "GameID", `0`),
			want: func(t *Ticket) { t.Points = ptr[int32](-1); t.GameID = ptr[int64](0) }},
		{name: "int limits", raw: ticketJSON("ID", `9223372036854775807`, "Points", `2147483647`, "GameID", `-9223372036854775808`),
			want: func(t *Ticket) {
				t.ID = 9223372036854775807
				t.Points = ptr[int32](2147483647)
				t.GameID = ptr[int64](-9223372036854775808)
			}},
		{name: "all optional members null", raw: ticketJSON(
			"AchievementID", `null`, "AchievementTitle", `null`, "AchievementDesc", `null`,
			"AchievementType", `null`, "Points", `null`, "BadgeName", `null`, "AchievementAuthor", `null`,
			"GameID", `null`, "ConsoleName", `null`, "GameTitle", `null`, "GameIcon", `null`,
			"Hardcore", `null`, "ReportNotes", `null`, "ReportedBy", `null`, "ResolvedAt", `null`,
			"ResolvedBy", `null`), minimal: true},
		{name: "only required members", raw: minimalJSON(), minimal: true},
		{name: "empty strings stay empty text", raw: ticketJSON(
			"AchievementTitle", `""`, "AchievementType", `""`, "ReportNotes", `""`, "ResolvedBy", `""`),
			want: func(t *Ticket) {
				t.AchievementTitle, t.AchievementType, t.ResolvedBy = ptr(""), ptr(""), ptr("")
				t.ReportNotes = ptr("")
				t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion = nil, nil, nil, nil
			}},
		{name: "empty strings in numeric members are absent", raw: ticketJSON(
			"AchievementID", `""`, "Points", `""`, "GameID", `" "`, "Hardcore", `""`),
			want: func(t *Ticket) { t.AchievementID, t.Points, t.GameID, t.Hardcore = nil, nil, nil, nil }},
		{name: "achievement type set", raw: ticketJSON("AchievementType", `"progression"`),
			want: func(t *Ticket) { t.AchievementType = ptr("progression") }},
		{name: "number in a text member keeps its literal", raw: ticketJSON("BadgeName", `361407`, "AchievementType", `1.50`, "GameIcon", `-0`),
			want: func(t *Ticket) { t.AchievementType, t.GameIcon = ptr("1.50"), ptr("-0") }},
		{name: "whitespace around names and values", raw: strings.NewReplacer(`":`, "\" :\t", `,"`, " ,\n\"").Replace(ticketJSON())},
		{name: "names match in any case, the last repeated member wins", raw: ticketJSON("points", `5`, "POINTS", `7`),
			want: func(t *Ticket) { t.Points = ptr[int32](7) }},
		{name: "name delimiters count when matching", raw: ticketJSON("Report_State", `{}`, "Game-ID", `"x"`)},
		{name: "unknown members are kept in raw", raw: ticketJSON("NewField", `{"nested":[1,2,{"x":null}]}`, "Big", `12345678901234567890`)},

		// Timestamps.
		{name: "rfc3339 with offset is converted to UTC", raw: ticketJSON("ReportedAt", `"2024-01-10T23:31:54+01:00"`)},
		{name: "rfc3339 Z", raw: ticketJSON("ReportedAt", `"2024-01-10T22:31:54Z"`)},
		{name: "rfc3339 with fraction", raw: ticketJSON("ReportedAt", `"2024-01-10T22:31:54.25Z"`),
			want: func(t *Ticket) { t.ReportedAt = t.ReportedAt.Add(250 * time.Millisecond) }},
		{name: "leap day", raw: ticketJSON("ReportedAt", `"2024-02-29 23:59:59"`),
			want: func(t *Ticket) { t.ReportedAt = time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC) }},
		{name: "epoch is the earliest accepted", raw: ticketJSON("ReportedAt", `"1970-01-01 00:00:00"`),
			want: func(t *Ticket) { t.ReportedAt = time.Unix(0, 0).UTC() }},
		{name: "resolved ticket", raw: ticketJSON("ResolvedAt", `"2024-02-01 08:09:10"`, "ResolvedBy", `"Jamiras"`, "ReportState", `2`),
			want: func(t *Ticket) {
				t.ResolvedAt = ptr(time.Date(2024, 2, 1, 8, 9, 10, 0, time.UTC))
				t.ResolvedBy = ptr("Jamiras")
				t.ReportState, t.ReportStateCode = StateResolved, 2
			}},
		{name: "ResolvedAt rfc3339", raw: ticketJSON("ResolvedAt", `"2024-02-01T03:09:10-05:00"`),
			want: func(t *Ticket) { t.ResolvedAt = ptr(time.Date(2024, 2, 1, 8, 9, 10, 0, time.UTC)) }},
		{name: "ResolvedAt empty string is unresolved", raw: ticketJSON("ResolvedAt", `""`)},
		{name: "ResolvedAt missing is unresolved", raw: ticketJSON("ResolvedAt", ``)},
		{name: "ResolvedAt MySQL zero date is unresolved", raw: ticketJSON("ResolvedAt", `"0000-00-00 00:00:00"`)},

		// Text round trips: Raw must stay byte-identical.
		{name: "emoji RTL quotes backslashes", raw: ticketJSON(
			"AchievementTitle", `"🎮 Ünïcødé \"quoted\" back\\slash C:\\new\\tab"`,
			"AchievementDesc", `"مرحبا بالعالم \u202eevil\u202c עברית"`,
			"ReportedBy", `"名前😀\t\/"`),
			want: func(t *Ticket) {
				t.AchievementTitle = ptr(`🎮 Ünïcødé "quoted" back\slash C:\new\tab`)
				t.AchievementDescription = ptr("مرحبا بالعالم \u202eevil\u202c עברית")
				t.ReportedBy = ptr("名前😀\t/")
			}},
		{name: "escaped surrogate pair is valid and kept", raw: ticketJSON("GameTitle", `"caf\u00e9 \ud83d\ude00"`),
			want: func(t *Ticket) { t.GameTitle = ptr("café 😀") }},
		{name: "html in text survives", raw: ticketJSON("AchievementDesc", `"<b>&amp;</b> \u003cscript\u003e"`),
			want: func(t *Ticket) { t.AchievementDescription = ptr("<b>&amp;</b> <script>") }},

		// NUL handling.
		{name: "NUL stripped from text and raw", raw: ticketJSON("AchievementTitle", `"a\u0000b\u0000"`, "Big", `12345678901234567890`),
			want: func(t *Ticket) { t.AchievementTitle = ptr("ab") },
			checkRaw: rawHas("AchievementTitle", "ab", "Big", "12345678901234567890", "ID", "64866",
				"AchievementAuthorULID", "01HNG49MXJA71KCVG3PXQS5B2C", "ResolvedAt", nil)},
		{name: "NUL in notes does not break note parsing", raw: ticketJSON("ReportNotes", `"x\nEmulator: RA\u0000Libretro (core)\nMD5: BFF0EB90C2006EDADE14063D4A2D13C\u0000F"`),
			want: func(t *Ticket) {
				t.ReportNotes = ptr("x\nEmulator: RALibretro (core)\nMD5: BFF0EB90C2006EDADE14063D4A2D13CF")
				t.Emulator, t.EmulatorCore, t.EmulatorVersion = ptr("RALibretro"), ptr("core"), nil
			},
			checkRaw: rawHas("ReportNotes", "x\nEmulator: RALibretro (core)\nMD5: BFF0EB90C2006EDADE14063D4A2D13CF")},
		{name: "escaped backslash then u0000 is literal text", raw: ticketJSON("AchievementTitle", `"a\\u0000b"`),
			want: func(t *Ticket) { t.AchievementTitle = ptr(`a\u0000b`) }},
		{name: "escaped backslash then a real NUL", raw: ticketJSON("AchievementTitle", `"a\\\u0000"`),
			want:     func(t *Ticket) { t.AchievementTitle = ptr(`a\`) },
			checkRaw: rawHas("AchievementTitle", `a\`)},
		{name: "NUL only in an unmodelled member and key", raw: ticketJSON("Ex\x00tra", `{"k\u0000":["v\u0000",1.50]}`),
			checkRaw: rawHas("Extra", map[string]any{"k": []any{"v", json.Number("1.50")}})},
		{name: "NUL key colliding with a real key keeps the real one", raw: ticketJSON("GameI\x00D", `1`),
			checkRaw: rawHas("GameID", "24453")},
		{name: "NUL in a numeric string is a problem", raw: ticketJSON("Points", `"1\u00000"`),
			want: func(t *Ticket) { t.Points = nil }, problems: problem("Points", `expected an integer, got "1\x000"`),
			checkRaw: rawHas("Points", "10")},
		{name: "invalid UTF-8 becomes U+FFFD in text and raw", raw: ticketJSON("AchievementTitle", "\"caf\xe9 ok\""),
			want:     func(t *Ticket) { t.AchievementTitle = ptr("caf\uFFFD ok") },
			checkRaw: rawHas("AchievementTitle", "caf\uFFFD ok")},
		{name: "lone surrogate becomes U+FFFD in text and raw", raw: ticketJSON("AchievementTitle", `"\ud800x\udc00"`),
			want:     func(t *Ticket) { t.AchievementTitle = ptr("\uFFFDx\uFFFD") },
			checkRaw: rawHas("AchievementTitle", "\uFFFDx\uFFFD")},

		// Numbers jsonb cannot store (the exact limits are checked against
		// PostgreSQL in internal/pipeline TestJSONBNumberLimits).
		{name: "number beyond numeric in an unmodelled member", raw: ticketJSON("Big", `{"n":[1,1e1000000]}`),
			err: fieldErr("Big", "number 1e1000000 is beyond what PostgreSQL jsonb can store (numeric range)")},
		{name: "number beyond numeric in a modelled member", raw: ticketJSON("Points", `-1e-16384`),
			err: fieldErr("Points", "number -1e-16384 is beyond what PostgreSQL jsonb can store (numeric range)")},
		{name: "numbers at numeric's limits are kept", raw: ticketJSON("Big", `[1e131071,1e-16383,0e1073741822]`)},

		// Whole-record errors.
		{name: "truncated JSON", raw: `{"ID":64866,"ReportedAt":"2024-01-`, err: &wantErr{reason: "invalid JSON: ", prefix: true}},
		{name: "trailing garbage", raw: ticketJSON() + `,`, err: &wantErr{reason: "invalid JSON: ", prefix: true}},
		{name: "empty input", raw: ``, err: &wantErr{reason: "not a JSON object"}},
		{name: "null", raw: `null`, err: &wantErr{reason: "not a JSON object"}},
		{name: "array", raw: `[` + ticketJSON() + `]`, err: &wantErr{reason: "not a JSON object"}},
		{name: "string", raw: `"{}"`, err: &wantErr{reason: "not a JSON object"}},
		{name: "empty object", raw: `{}`, err: &wantErr{field: "ID", reason: "missing"}},

		// ID.
		{name: "ID null", raw: ticketJSON("ID", `null`), err: &wantErr{field: "ID", reason: "is null"}},
		{name: "ID empty", raw: ticketJSON("ID", `""`), err: &wantErr{field: "ID", reason: "is empty"}},
		{name: "ID zero", raw: ticketJSON("ID", `0`), err: &wantErr{field: "ID", reason: "expected a positive integer, got 0"}},
		{name: "ID negative string", raw: ticketJSON("ID", `"-5"`), err: &wantErr{field: "ID", reason: "expected a positive integer, got -5"}},
		{name: "ID bool", raw: ticketJSON("ID", `true`), err: &wantErr{field: "ID", reason: "expected an integer, got true"}},
		{name: "ID fraction", raw: ticketJSON("ID", `1.5`), err: &wantErr{field: "ID", reason: "expected an integer, got 1.5"}},
		{name: "ID overflow", raw: ticketJSON("ID", `9223372036854775808`), err: &wantErr{field: "ID", reason: "expected an integer, got 9223372036854775808"}},
		{name: "ID object", raw: ticketJSON("ID", `{"v":1}`), err: &wantErr{field: "ID", reason: "expected an integer, got object"}},
		{name: "ID hex string", raw: ticketJSON("ID", `"0x10"`), err: &wantErr{field: "ID", reason: `expected an integer, got "0x10"`}},

		// Other numbers.
		{name: "Points not numeric", raw: ticketJSON("Points", `"abc"`), want: func(t *Ticket) { t.Points = nil }, problems: problem("Points", `expected an integer, got "abc"`)},
		{name: "Points over int32", raw: ticketJSON("Points", `3000000000`), want: func(t *Ticket) { t.Points = nil }, problems: problem("Points", "value 3000000000 out of range [-2147483648, 2147483647]")},
		{name: "Points array", raw: ticketJSON("Points", `[10]`), want: func(t *Ticket) { t.Points = nil }, problems: problem("Points", "expected an integer, got array")},
		{name: "GameID fraction", raw: ticketJSON("GameID", `"1.5"`), want: func(t *Ticket) { t.GameID = nil }, problems: problem("GameID", `expected an integer, got "1.5"`)},
		{name: "AchievementID bool", raw: ticketJSON("AchievementID", `false`), want: func(t *Ticket) { t.AchievementID = nil }, problems: problem("AchievementID", "expected an integer, got false")},
		{name: "long bad value is shortened in the reason", raw: ticketJSON("Points", `"`+strings.Repeat("é", 500)+`"`),
			want: func(t *Ticket) { t.Points = nil }, problems: problem("Points", `expected an integer, got "`+strings.Repeat("é", 40)+`"...`)},

		// Codes.
		{name: "ReportState object", raw: ticketJSON("ReportState", `{}`), err: fieldErr("ReportState", "expected an integer, got object")},
		{name: "ReportState missing", raw: ticketJSON("ReportState", ``), err: fieldErr("ReportState", "missing")},
		{name: "ReportState null", raw: ticketJSON("ReportState", `null`), err: fieldErr("ReportState", "is null")},
		{name: "ReportType empty", raw: ticketJSON("ReportType", `""`), want: func(t *Ticket) { t.ReportType, t.ReportTypeCode = TypeUnknown, 0 }, problems: problem("ReportType", "is empty")},
		{name: "ReportType missing", raw: ticketJSON("ReportType", ``), want: func(t *Ticket) { t.ReportType, t.ReportTypeCode = TypeUnknown, 0 }, problems: problem("ReportType", "missing")},
		{name: "ReportType over int16", raw: ticketJSON("ReportType", `70000`), want: func(t *Ticket) { t.ReportType, t.ReportTypeCode = TypeUnknown, 0 }, problems: problem("ReportType", "value 70000 out of range [-32768, 32767]")},
		{name: "ReportType label string", raw: ticketJSON("ReportType", `"Did not trigger"`), want: func(t *Ticket) { t.ReportType, t.ReportTypeCode = TypeUnknown, 0 }, problems: problem("ReportType", `expected an integer, got "Did not trigger"`)},

		// Hardcore.
		{name: "Hardcore 2", raw: ticketJSON("Hardcore", `2`), want: func(t *Ticket) { t.Hardcore = nil }, problems: problem("Hardcore", "expected 0, 1 or a boolean, got 2")},
		{name: "Hardcore -1", raw: ticketJSON("Hardcore", `-1`), want: func(t *Ticket) { t.Hardcore = nil }, problems: problem("Hardcore", "expected 0, 1 or a boolean, got -1")},
		{name: "Hardcore yes", raw: ticketJSON("Hardcore", `"yes"`), want: func(t *Ticket) { t.Hardcore = nil }, problems: problem("Hardcore", `expected 0, 1 or a boolean, got "yes"`)},
		{name: "Hardcore string true", raw: ticketJSON("Hardcore", `"true"`), want: func(t *Ticket) { t.Hardcore = nil }, problems: problem("Hardcore", `expected 0, 1 or a boolean, got "true"`)},
		{name: "Hardcore string 2", raw: ticketJSON("Hardcore", `"2"`), want: func(t *Ticket) { t.Hardcore = nil }, problems: problem("Hardcore", `expected 0, 1 or a boolean, got "2"`)},
		{name: "Hardcore object", raw: ticketJSON("Hardcore", `{}`), want: func(t *Ticket) { t.Hardcore = nil }, problems: problem("Hardcore", "expected 0, 1 or a boolean, got object")},

		// Bad timestamps.
		{name: "ReportedAt MySQL zero date", raw: ticketJSON("ReportedAt", `"0000-00-00 00:00:00"`), err: fieldErr("ReportedAt", `invalid timestamp "0000-00-00 00:00:00"`)},
		{name: "ReportedAt Feb 30", raw: ticketJSON("ReportedAt", `"2024-02-30 10:00:00"`), err: fieldErr("ReportedAt", `invalid timestamp "2024-02-30 10:00:00"`)},
		{name: "ReportedAt Feb 29 non-leap", raw: ticketJSON("ReportedAt", `"2023-02-29 10:00:00"`), err: fieldErr("ReportedAt", `invalid timestamp "2023-02-29 10:00:00"`)},
		{name: "ReportedAt month 13", raw: ticketJSON("ReportedAt", `"2024-13-01 00:00:00"`), err: fieldErr("ReportedAt", `invalid timestamp "2024-13-01 00:00:00"`)},
		{name: "ReportedAt hour 24", raw: ticketJSON("ReportedAt", `"2024-01-01 24:00:00"`), err: fieldErr("ReportedAt", `invalid timestamp "2024-01-01 24:00:00"`)},
		{name: "ReportedAt second 60", raw: ticketJSON("ReportedAt", `"2024-01-01 23:59:60"`), err: fieldErr("ReportedAt", `invalid timestamp "2024-01-01 23:59:60"`)},
		{name: "ReportedAt before 1970", raw: ticketJSON("ReportedAt", `"1969-12-31 23:59:59"`), err: fieldErr("ReportedAt", `invalid timestamp "1969-12-31 23:59:59"`)},
		{name: "ReportedAt year 1", raw: ticketJSON("ReportedAt", `"0001-01-01T00:00:00Z"`), err: fieldErr("ReportedAt", `invalid timestamp "0001-01-01T00:00:00Z"`)},
		{name: "ReportedAt no zone with T", raw: ticketJSON("ReportedAt", `"2024-01-10T22:31:54"`), err: fieldErr("ReportedAt", `invalid timestamp "2024-01-10T22:31:54"`)},
		{name: "ReportedAt words", raw: ticketJSON("ReportedAt", `"yesterday"`), err: fieldErr("ReportedAt", `invalid timestamp "yesterday"`)},
		{name: "ReportedAt unix number", raw: ticketJSON("ReportedAt", `1704925914`), err: fieldErr("ReportedAt", "expected a timestamp string, got 1704925914")},
		{name: "ReportedAt missing", raw: ticketJSON("ReportedAt", ``), err: fieldErr("ReportedAt", "missing")},
		{name: "ReportedAt null", raw: ticketJSON("ReportedAt", `null`), err: fieldErr("ReportedAt", "is null")},
		{name: "ReportedAt empty", raw: ticketJSON("ReportedAt", `""`), err: fieldErr("ReportedAt", "is empty")},
		{name: "ResolvedAt impossible", raw: ticketJSON("ResolvedAt", `"2024-04-31 00:00:00"`), want: func(t *Ticket) { t.ResolvedAt = nil }, problems: problem("ResolvedAt", `invalid timestamp "2024-04-31 00:00:00"`)},
		{name: "ResolvedAt number", raw: ticketJSON("ResolvedAt", `5`), want: func(t *Ticket) { t.ResolvedAt = nil }, problems: problem("ResolvedAt", "expected a timestamp string, got 5")},

		// Text of the wrong type.
		{name: "AchievementTitle array", raw: ticketJSON("AchievementTitle", `["a"]`), want: func(t *Ticket) { t.AchievementTitle = nil }, problems: problem("AchievementTitle", "expected a string, got array")},
		{name: "ReportNotes object", raw: ticketJSON("ReportNotes", `{"a":1}`), want: func(t *Ticket) {
			t.ReportNotes, t.RomHash, t.Emulator, t.EmulatorCore, t.EmulatorVersion = nil, nil, nil, nil, nil
		}, problems: problem("ReportNotes", "expected a string, got object")},
		{name: "ReportedBy bool", raw: ticketJSON("ReportedBy", `true`), want: func(t *Ticket) { t.ReportedBy = nil }, problems: problem("ReportedBy", "expected a string, got true")},
		{name: "a bad state sets the record aside whatever else is wrong", raw: ticketJSON("Points", `"x"`, "ReportState", `{}`), err: fieldErr("ReportState", "expected an integer, got object")},
		{name: "every bad optional field is a problem", raw: ticketJSON("Points", `"x"`, "Hardcore", `"true"`, "GameTitle", `[]`),
			want: func(t *Ticket) { t.Points, t.Hardcore, t.GameTitle = nil, nil, nil },
			problems: []FieldProblem{{"Points", `expected an integer, got "x"`}, {"GameTitle", "expected a string, got array"},
				{"Hardcore", `expected 0, 1 or a boolean, got "true"`}}},
	}

	// Every code, known or not, as a number and as a string.
	for code := -1; code <= 7; code++ {
		state, typ := StateFromCode(int16(code)), TypeFromCode(int16(code))
		for _, lit := range []string{fmt.Sprint(code), fmt.Sprintf(`"%d"`, code)} {
			cases = append(cases, parseCase{
				name: "codes " + lit,
				raw:  ticketJSON("ReportState", lit, "ReportType", lit),
				want: func(t *Ticket) {
					t.ReportState, t.ReportStateCode = state, int16(code)
					t.ReportType, t.ReportTypeCode = typ, int16(code)
				},
			})
		}
	}

	// Every accepted Hardcore form.
	for _, h := range []struct {
		lit  string
		want *bool
	}{
		{`1`, ptr(true)}, {`0`, ptr(false)}, {`true`, ptr(true)}, {`false`, ptr(false)},
		{`"1"`, ptr(true)}, {`"0"`, ptr(false)}, {`null`, nil}, {``, nil}, {`""`, nil},
	} {
		cases = append(cases, parseCase{
			name: "Hardcore " + h.lit,
			raw:  ticketJSON("Hardcore", h.lit),
			want: func(t *Ticket) { t.Hardcore = h.want },
		})
	}

	// Very long notes: 1 MB of text with the client's lines at the end.
	long := strings.Repeat("émulation glitch 🎮 <b>bold</b> ", 1<<20/40)
	notes := long + "\nRetroAchievements Hash: 0123456789ABCDEF0123456789abcdef\nEmulator: RetroArch (1.16) (mGBA)"
	cases = append(cases, parseCase{
		name: "1 MB notes",
		raw:  ticketJSON("ReportNotes", mustJSON(notes)),
		want: func(t *Ticket) {
			t.ReportNotes = ptr(notes)
			t.RomHash = ptr("0123456789abcdef0123456789abcdef")
			t.Emulator, t.EmulatorCore, t.EmulatorVersion = ptr("RetroArch (1.16)"), ptr("mGBA"), nil
		},
	})
	return cases
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(json.RawMessage(tc.raw))
			if tc.err != nil {
				checkRecordError(t, err, tc.err)
				return
			}
			if err != nil {
				t.Fatalf("Parse: unexpected error: %v", err)
			}
			want := baseTicket()
			if tc.minimal {
				want = minimalTicket()
			}
			if tc.want != nil {
				tc.want(&want)
			}
			want.Problems = tc.problems
			for _, d := range diffTickets(got, want) {
				t.Error(d)
			}
			if tc.checkRaw != nil {
				tc.checkRaw(t, got.Raw)
			} else if string(got.Raw) != tc.raw {
				t.Errorf("Raw changed:\n got %.300s\nwant %.300s", got.Raw, tc.raw)
			}
		})
	}
}

func checkRecordError(t *testing.T, err error, want *wantErr) {
	t.Helper()
	if err == nil {
		t.Fatal("Parse succeeded, want an error")
	}
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("error %T %v is not a *RecordError", err, err)
	}
	switch {
	case want.ticketID == 0 && re.TicketID != nil:
		t.Errorf("TicketID = %d, want nil", *re.TicketID)
	case want.ticketID != 0 && (re.TicketID == nil || *re.TicketID != want.ticketID):
		t.Errorf("TicketID = %s, want %d", show(re.TicketID), want.ticketID)
	}
	if re.Field != want.field {
		t.Errorf("Field = %q, want %q", re.Field, want.field)
	}
	if want.prefix && !strings.HasPrefix(re.Reason, want.reason) || !want.prefix && re.Reason != want.reason {
		t.Errorf("Reason = %q, want %q (prefix %v)", re.Reason, want.reason, want.prefix)
	}
}

func TestRecordErrorMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  *RecordError
		want string
	}{
		{&RecordError{TicketID: ptr[int64](123), Field: "ReportedAt", Reason: `invalid timestamp "0000-00-00 00:00:00"`},
			`ticket 123: field ReportedAt: invalid timestamp "0000-00-00 00:00:00"`},
		{&RecordError{Field: "ID", Reason: "missing"}, "field ID: missing"},
		{&RecordError{Reason: "not a JSON object"}, "not a JSON object"},
		{&RecordError{TicketID: ptr[int64](7), Reason: "cannot clean raw JSON: x"}, "ticket 7: cannot clean raw JSON: x"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	// The message a user sees for the brief's example comes from Parse itself.
	_, err := Parse(json.RawMessage(ticketJSON("ID", `123`, "ReportedAt", `"0000-00-00 00:00:00"`)))
	if err == nil || err.Error() != `ticket 123: field ReportedAt: invalid timestamp "0000-00-00 00:00:00"` {
		t.Errorf("Parse error = %v", err)
	}
}

func TestParseDoesNotAliasInput(t *testing.T) {
	t.Parallel()
	buf := []byte(ticketJSON())
	got, err := Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	want := string(buf)
	for i := range buf {
		buf[i] = ' ' // the caller reuses its buffer
	}
	if string(got.Raw) != want {
		t.Errorf("Raw aliases the input buffer: %q", got.Raw)
	}
	if *got.AchievementTitle != "Sonic Speedrun" || *got.RomHash != "bff0eb90c2006edade14063d4a2d13cf" {
		t.Errorf("text fields alias the input buffer: %q %q", *got.AchievementTitle, *got.RomHash)
	}
}

func TestCodes(t *testing.T) {
	t.Parallel()
	types := map[int16]ReportType{1: TypeTriggeredAtWrongTime, 2: TypeDidNotTrigger,
		0: TypeUnknown, 3: TypeUnknown, 7: TypeUnknown, -1: TypeUnknown, 32767: TypeUnknown}
	for code, want := range types {
		if got := TypeFromCode(code); got != want {
			t.Errorf("TypeFromCode(%d) = %q, want %q", code, got, want)
		}
	}
	states := map[int16]ReportState{0: StateClosed, 1: StateOpen, 2: StateResolved, 3: StateRequest,
		4: StateQuarantined, 5: StateUnknown, 7: StateUnknown, -1: StateUnknown, -32768: StateUnknown}
	for code, want := range states {
		if got := StateFromCode(code); got != want {
			t.Errorf("StateFromCode(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestStripNUL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                  "",
		"plain":             "plain",
		"\x00":              "",
		"a\x00b\x00\x00c":   "abc",
		"😀\x00مرحبا\x00":    "😀مرحبا",
		`literal \u0000 ok`: `literal \u0000 ok`,
	} {
		if got := StripNUL(in); got != want {
			t.Errorf("StripNUL(%q) = %q, want %q", in, got, want)
		}
	}
}
