package transform

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// v2Example is the resource of the API description, with a hash trailer.
const v2Example = `{"type":"tickets","id":"123456","attributes":{"state":"open","type":"did_not_trigger",` +
	`"body":"free text\nRetroAchievements Hash: BFF0EB90C2006EDADE14063D4A2D13CF\nEmulator: RALibRetro (snes9x)",` +
	`"hardcore":true,"reportedAt":"2026-07-01T18:22:05.000000Z","resolvedAt":null,"ticketableType":"achievement",` +
	`"ticketableId":98765,"ticketableTitle":"Boss Rush","gameId":1234,"gameTitle":"Some Game",` +
	`"gameIconUrl":"https://media.retroachievements.org/Images/012345.png","systemName":"SNES\/Super Famicom",` +
	`"reporterDisplayName":"alice","resolverDisplayName":null,"authorDisplayName":"dev1"},` +
	`"links":{"self":"https://retroachievements.org/api/v2/tickets/123456","webUrl":"https://retroachievements.org/tickets/123456"}}`

func withAttr(t *testing.T, raw, key string, value any) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	attrs := doc["attributes"].(map[string]any)
	if value == "<delete>" {
		delete(attrs, key)
	} else {
		attrs[key] = value
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func TestParseV2Achievement(t *testing.T) {
	t.Parallel()
	tk, err := ParseV2(json.RawMessage(v2Example))
	if err != nil {
		t.Fatal(err)
	}
	s := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	i := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	checks := map[string][2]any{
		"ID":             {tk.ID, int64(123456)},
		"Source":         {tk.Source, SourceV2},
		"Kind":           {tk.Kind(), TicketableAchievement},
		"State":          {tk.ReportState, StateOpen},
		"StateCode":      {tk.ReportStateCode, int16(1)},
		"Type":           {tk.ReportType, TypeDidNotTrigger},
		"TypeCode":       {tk.ReportTypeCode, int16(2)},
		"ReportedAt":     {tk.ReportedAt, time.Date(2026, 7, 1, 18, 22, 5, 0, time.UTC)},
		"ResolvedAt":     {tk.ResolvedAt == nil, true},
		"Hardcore":       {*tk.Hardcore, true},
		"AchievementID":  {i(tk.AchievementID), int64(98765)},
		"Title":          {s(tk.AchievementTitle), "Boss Rush"},
		"Author":         {s(tk.AchievementAuthor), "dev1"},
		"GameID":         {i(tk.GameID), int64(1234)},
		"GameTitle":      {s(tk.GameTitle), "Some Game"},
		"GameIcon":       {s(tk.GameIcon), "/Images/012345.png"},
		"Console":        {s(tk.ConsoleName), "SNES/Super Famicom"},
		"ReportedBy":     {s(tk.ReportedBy), "alice"},
		"ResolvedBy":     {tk.ResolvedBy == nil, true},
		"RomHash":        {s(tk.RomHash), "bff0eb90c2006edade14063d4a2d13cf"},
		"EmulatorCore":   {s(tk.EmulatorCore), "snes9x"},
		"LeaderboardID":  {tk.LeaderboardID == nil, true},
		"Description":    {tk.AchievementDescription == nil && tk.Points == nil && tk.BadgeName == nil, true},
		"Raw":            {string(tk.Raw), v2Example},
		"Lacks":          {tk.Lacks, V2Lacks},
		"CarriesCode":    {tk.Carries(FieldReportTypeCode | FieldReportStateCode), true},
		"LacksPoints":    {tk.Carries(FieldPoints) || tk.Carries(FieldAchievementDescription), false},
		"ReportedAt UTC": {tk.ReportedAt.Location(), time.UTC},
	}
	for name, c := range checks {
		if !reflect.DeepEqual(c[0], c[1]) {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	// A v1 record carries everything and is an achievement ticket.
	var v1 Ticket
	if v1.Lacks != 0 || !v1.Carries(V2Lacks|FieldReportTypeCode) || v1.Kind() != TicketableAchievement || v1.Source.String() != "v1" {
		t.Errorf("zero Ticket: lacks %v kind %v source %v", v1.Lacks, v1.Kind(), v1.Source)
	}
}

func TestParseV2Leaderboard(t *testing.T) {
	t.Parallel()
	raw := withAttr(t, withAttr(t, withAttr(t, v2Example, "ticketableType", "leaderboard"), "type", "submitted_wrong_value"),
		"resolvedAt", "2026-07-02T20:00:00+02:00")
	tk, err := ParseV2(json.RawMessage(raw))
	if err != nil {
		t.Fatal(err)
	}
	if tk.Kind() != TicketableLeaderboard || tk.LeaderboardID == nil || *tk.LeaderboardID != 98765 ||
		tk.LeaderboardTitle == nil || *tk.LeaderboardTitle != "Boss Rush" {
		t.Errorf("leaderboard fields: %v %v %v", tk.Kind(), tk.LeaderboardID, tk.LeaderboardTitle)
	}
	if tk.AchievementID != nil || tk.AchievementTitle != nil || tk.AchievementAuthor != nil {
		t.Errorf("achievement columns set on a leaderboard ticket: %v %v %v", tk.AchievementID, tk.AchievementTitle, tk.AchievementAuthor)
	}
	if tk.ReportType != TypeSubmittedWrongValue || tk.Carries(FieldReportTypeCode) {
		t.Errorf("type %q, carries a code: %v", tk.ReportType, tk.Carries(FieldReportTypeCode))
	}
	if want := time.Date(2026, 7, 2, 18, 0, 0, 0, time.UTC); tk.ResolvedAt == nil || !tk.ResolvedAt.Equal(want) || tk.ResolvedAt.Location() != time.UTC {
		t.Errorf("resolvedAt %v, want %v UTC", tk.ResolvedAt, want)
	}
}

func TestParseV2Codes(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]struct {
		state ReportState
		code  int16
	}{"closed": {StateClosed, 0}, "open": {StateOpen, 1}, "resolved": {StateResolved, 2}, "request": {StateRequest, 3},
		"quarantined": {StateQuarantined, 4}, "pending_review": {StateUnknown, -1}} {
		tk, err := ParseV2(json.RawMessage(withAttr(t, v2Example, "state", name)))
		if err != nil || tk.ReportState != want.state || tk.ReportStateCode != want.code || tk.Carries(FieldReportStateCode) != (want.code >= 0) {
			t.Errorf("state %s: %v %d lacks %v, %v", name, tk.ReportState, tk.ReportStateCode, tk.Lacks, err)
		}
	}
	for name, want := range map[string]ReportType{"triggered_at_wrong_time": TypeTriggeredAtWrongTime, "did_not_trigger": TypeDidNotTrigger,
		"did_not_start": TypeDidNotStart, "did_not_cancel": TypeDidNotCancel, "did_not_submit": TypeDidNotSubmit,
		"submitted_wrong_value": TypeSubmittedWrongValue, "new_kind": TypeUnknown} {
		tk, err := ParseV2(json.RawMessage(withAttr(t, v2Example, "type", name)))
		legacy := want == TypeTriggeredAtWrongTime || want == TypeDidNotTrigger
		if err != nil || tk.ReportType != want || tk.Carries(FieldReportTypeCode) != legacy {
			t.Errorf("type %s: %v lacks %v, %v", name, tk.ReportType, tk.Lacks, err)
		}
	}
	for v, want := range map[any]*bool{nil: nil, false: new(bool), "<delete>": nil} {
		tk, err := ParseV2(json.RawMessage(withAttr(t, v2Example, "hardcore", v)))
		if err != nil || !reflect.DeepEqual(tk.Hardcore, want) {
			t.Errorf("hardcore %v: %v %v", v, tk.Hardcore, err)
		}
	}
}

func TestParseV2Rejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, field string
	}{
		{"not an object", `[1]`, ""},
		{"invalid JSON", `{"id":`, ""},
		{"no id", `{"type":"tickets","attributes":{}}`, "id"},
		{"id not a number", `{"type":"tickets","id":"x","attributes":{}}`, "id"},
		{"id zero", `{"type":"tickets","id":"0","attributes":{}}`, "id"},
		{"other type", strings.Replace(v2Example, `"type":"tickets"`, `"type":"users"`, 1), "type"},
		{"no attributes", `{"type":"tickets","id":"5"}`, "attributes"},
		{"no state", withAttr(t, v2Example, "state", "<delete>"), "state"},
		{"null type", withAttr(t, v2Example, "type", nil), "type"},
		{"no reportedAt", withAttr(t, v2Example, "reportedAt", "<delete>"), "reportedAt"},
		{"bad reportedAt", withAttr(t, v2Example, "reportedAt", "2026-02-30T00:00:00Z"), "reportedAt"},
		{"v1 style time", withAttr(t, v2Example, "reportedAt", "2026-02-03 00:00:00"), "reportedAt"},
		{"bad resolvedAt", withAttr(t, v2Example, "resolvedAt", "soon"), "resolvedAt"},
		{"unknown ticketable", withAttr(t, v2Example, "ticketableType", "game"), "ticketableType"},
		{"hardcore text", withAttr(t, v2Example, "hardcore", "yes"), "hardcore"},
		{"gameId text", withAttr(t, v2Example, "gameId", "abc"), "gameId"},
		{"body number", withAttr(t, v2Example, "body", 5), "body"},
		{"number beyond jsonb", strings.Replace(v2Example, `"links":{`, `"links":{"n":1e1000000,`, 1), "links"},
	}
	for _, tt := range tests {
		_, err := ParseV2(json.RawMessage(tt.raw))
		var re *RecordError
		if !errors.As(err, &re) || re.Field != tt.field {
			t.Errorf("%s: %v, want a RecordError on %q", tt.name, err, tt.field)
			continue
		}
		if tt.field != "" && tt.field != "id" && (re.TicketID == nil || *re.TicketID <= 0) {
			t.Errorf("%s: error without the ticket id", tt.name)
		}
	}
}

func TestParseV2NUL(t *testing.T) {
	t.Parallel()
	raw := withAttr(t, v2Example, "body", "a\x00b")
	tk, err := ParseV2(json.RawMessage(raw))
	if err != nil || *tk.ReportNotes != "ab" || strings.Contains(string(tk.Raw), `\u0000`) {
		t.Errorf("NUL: %v %q %s", err, *tk.ReportNotes, tk.Raw)
	}
}

func FuzzParseV2(f *testing.F) {
	f.Add(v2Example)
	f.Add(`{"type":"tickets","id":5,"attributes":{"state":"open"}}`)
	f.Add(`{"id":"9","attributes":null}`)
	f.Fuzz(func(t *testing.T, raw string) {
		tk, err := ParseV2(json.RawMessage(raw))
		if err == nil && (tk.ID <= 0 || tk.Source != SourceV2 || !json.Valid(tk.Raw)) {
			t.Errorf("accepted %q as %+v", raw, tk)
		}
	})
}

// TestParseV2AgreesWithV1OnTheSimulator: for every achievement ticket of a
// simulated world, the v2 record and the v1 record map to the same values
// in every field v2 carries; leaderboard tickets parse too.
func TestParseV2AgreesWithV1OnTheSimulator(t *testing.T) {
	t.Parallel()
	srv := fakeapi.New(fakeapi.Options{Seed: 41, Tickets: 700})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	get := func(path string) []byte {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.Header.Set("X-API-Key", "fake-api-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	v2 := map[int64]Ticket{}
	leaderboards := 0
	for n := 1; ; n++ {
		var doc struct {
			Data  []json.RawMessage
			Links struct{ Next string }
		}
		if err := json.Unmarshal(get("/api/v2/tickets?filter[state]=all&sort=id&page[size]=100&page[number]="+strconv.Itoa(n)), &doc); err != nil {
			t.Fatal(err)
		}
		for _, raw := range doc.Data {
			tk, err := ParseV2(raw)
			if err != nil {
				t.Fatalf("ParseV2: %v\n%s", err, raw)
			}
			v2[tk.ID] = tk
			if tk.Kind() == TicketableLeaderboard {
				leaderboards++
			}
		}
		if doc.Links.Next == "" {
			break
		}
	}
	compared := 0
	for _, f := range srv.All() {
		b, ok := v2[f.ID]
		if !ok {
			continue
		}
		a, err := Parse(get("/API/API_GetTicketData.php?y=fake-api-key&i=" + strconv.FormatInt(f.ID, 10)))
		if err != nil {
			t.Fatal(err)
		}
		compared++
		// Blank out what v2 does not carry (and the source markers), then
		// everything else must be equal.
		if a.ReportType == TypeUnknown {
			a.ReportTypeCode, b.ReportTypeCode = 0, 0
		}
		if a.ReportState == StateUnknown {
			a.ReportStateCode, b.ReportStateCode = 0, 0
		}
		a.AchievementDescription, a.Points, a.BadgeName, a.AchievementType = nil, nil, nil, nil
		a.Raw, b.Raw, b.Source, b.Lacks, b.TicketableType = nil, nil, 0, 0, ""
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("ticket %d differs:\nv1 %+v\nv2 %+v", f.ID, a, b)
		}
	}
	if compared < 400 || leaderboards == 0 {
		t.Errorf("compared %d tickets, %d leaderboard tickets", compared, leaderboards)
	}
}
