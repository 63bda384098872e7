package transform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// baseMembers is a realistic ticket in the real API's member order.
func baseMembers() [][2]string {
	return [][2]string{
		{"ID", `64866`},
		{"AchievementID", `323665`},
		{"AchievementTitle", `"Sonic Speedrun"`},
		{"AchievementDesc", `"Finish Green Hill Act 1 in under 30 seconds"`},
		{"AchievementType", `null`},
		{"Points", `10`},
		{"BadgeName", `"361407"`},
		{"AchievementAuthor", `"WCopeland"`},
		{"AchievementAuthorULID", `"01HNG49MXJA71KCVG3PXQS5B2C"`},
		{"GameID", `24453`},
		{"ConsoleName", `"Mega Drive"`},
		{"GameTitle", `"Sonic the Hedgehog"`},
		{"GameIcon", `"/Images/074329.png"`},
		{"ReportedAt", `"2024-01-10 22:31:54"`},
		{"ReportType", `2`},
		{"Hardcore", `1`},
		{"ReportNotes", `"Did not pop after the boss.\nRetroAchievements Hash: bff0eb90c2006edade14063d4a2d13cf\nEmulator: RALibRetro (genesis_plus_gx)\nEmulator Version: 1.8.1"`},
		{"ReportedBy", `"Player1"`},
		{"ReportedByULID", `"01HNG49MXJA71KCVG3PXQS5B2D"`},
		{"ResolvedAt", `null`},
		{"ResolvedBy", `null`},
		{"ResolvedByULID", `null`},
		{"ReportState", `1`},
		{"ReportStateDescription", `"Open"`},
		{"ReportTypeDescription", `"Did not trigger"`},
	}
}

// ticketJSON renders the base ticket with overrides given as pairs of member
// name and raw JSON value. An empty value removes the member; a name the base
// lacks is appended.
func ticketJSON(kv ...string) string {
	members := baseMembers()
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for j := range members {
			if members[j][0] == kv[i] {
				members[j][1] = kv[i+1]
				found = true
			}
		}
		if !found {
			members = append(members, [2]string{kv[i], kv[i+1]})
		}
	}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, m := range members {
		if m[1] == "" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(m[0]) // JSON, not Go, escaping: NUL must be \u0000
		b.Write(key)
		b.WriteByte(':')
		b.WriteString(m[1])
	}
	b.WriteByte('}')
	return b.String()
}

// minimalJSON is a ticket with only the required members.
func minimalJSON(kv ...string) string {
	all := []string{}
	for _, m := range baseMembers() {
		switch m[0] {
		case "ID", "ReportedAt", "ReportType", "ReportState":
		default:
			all = append(all, m[0], "")
		}
	}
	return ticketJSON(append(all, kv...)...)
}

func ptr[T any](v T) *T { return &v }

// baseTicket is what Parse must return for ticketJSON() (Raw aside).
func baseTicket() Ticket {
	return Ticket{
		ID:                     64866,
		AchievementID:          ptr[int64](323665),
		AchievementTitle:       ptr("Sonic Speedrun"),
		AchievementDescription: ptr("Finish Green Hill Act 1 in under 30 seconds"),
		Points:                 ptr[int32](10),
		BadgeName:              ptr("361407"),
		AchievementAuthor:      ptr("WCopeland"),
		GameID:                 ptr[int64](24453),
		ConsoleName:            ptr("Mega Drive"),
		GameTitle:              ptr("Sonic the Hedgehog"),
		GameIcon:               ptr("/Images/074329.png"),
		ReportedAt:             time.Date(2024, 1, 10, 22, 31, 54, 0, time.UTC),
		ReportType:             TypeDidNotTrigger,
		ReportTypeCode:         2,
		ReportState:            StateOpen,
		ReportStateCode:        1,
		Hardcore:               ptr(true),
		ReportNotes:            ptr("Did not pop after the boss.\nRetroAchievements Hash: bff0eb90c2006edade14063d4a2d13cf\nEmulator: RALibRetro (genesis_plus_gx)\nEmulator Version: 1.8.1"),
		ReportedBy:             ptr("Player1"),
		RomHash:                ptr("bff0eb90c2006edade14063d4a2d13cf"),
		Emulator:               ptr("RALibRetro"),
		EmulatorCore:           ptr("genesis_plus_gx"),
		EmulatorVersion:        ptr("1.8.1"),
	}
}

// minimalTicket is what Parse must return for minimalJSON() (Raw aside).
func minimalTicket() Ticket {
	b := baseTicket()
	return Ticket{
		ID: b.ID, ReportedAt: b.ReportedAt,
		ReportType: b.ReportType, ReportTypeCode: b.ReportTypeCode,
		ReportState: b.ReportState, ReportStateCode: b.ReportStateCode,
	}
}

// diffTickets lists the fields that differ, ignoring Raw. Times must be equal
// instants and both in UTC.
func diffTickets(got, want Ticket) []string {
	var diffs []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		name := gv.Type().Field(i).Name
		if name == "Raw" {
			continue
		}
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gt, ok := asTime(g); ok {
			wt, _ := asTime(w)
			if !timesEqual(gt, wt) {
				diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", name, show(g), show(w)))
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s: got %s, want %s", name, show(g), show(w)))
		}
	}
	return diffs
}

func asTime(v any) (*time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return &t, true
	case *time.Time:
		return t, true
	}
	return nil, false
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b) && a.Location() == time.UTC && b.Location() == time.UTC
}

// show prints a value with pointers dereferenced and long strings cut.
func show(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "nil"
		}
		v = rv.Elem().Interface()
	}
	if t, ok := v.(time.Time); ok {
		return t.Format(time.RFC3339Nano) + " (" + t.Location().String() + ")"
	}
	s := fmt.Sprintf("%#v", v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// decodeRaw decodes Raw the way a reader of the jsonb column would.
func decodeRaw(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("Raw is not a JSON object: %v\n%s", err, raw)
	}
	return m
}

// jsonStrings calls fn for every string and object key inside v.
func jsonStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			jsonStrings(e, fn)
		}
	case map[string]any:
		for k, e := range x {
			fn(k)
			jsonStrings(e, fn)
		}
	}
}

// textFields lists every text field of a ticket, for invariants.
func textFields(t Ticket) map[string]*string {
	return map[string]*string{
		"AchievementTitle": t.AchievementTitle, "AchievementDescription": t.AchievementDescription,
		"AchievementType": t.AchievementType, "BadgeName": t.BadgeName,
		"AchievementAuthor": t.AchievementAuthor, "GameTitle": t.GameTitle,
		"GameIcon": t.GameIcon, "ConsoleName": t.ConsoleName, "ReportNotes": t.ReportNotes,
		"ReportedBy": t.ReportedBy, "ResolvedBy": t.ResolvedBy, "RomHash": t.RomHash,
		"Emulator": t.Emulator, "EmulatorCore": t.EmulatorCore, "EmulatorVersion": t.EmulatorVersion,
	}
}
