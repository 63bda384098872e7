package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ratickets/ratickets/internal/fakeapi"
)

// rawTicket is a complete, valid ticket object in the API's shape, as a
// map so that a test can break one member of it.
func rawTicket(id int64, reportedAt time.Time) map[string]any {
	return map[string]any{
		"ID": id, "AchievementID": 900000 + id, "AchievementTitle": "Bad record", "AchievementDesc": "d",
		"AchievementType": nil, "Points": 5, "BadgeName": "00001", "AchievementAuthor": "dev",
		"GameID": 1, "ConsoleName": "Mega Drive", "GameTitle": "Game", "GameIcon": "/Images/000001.png",
		"ReportedAt": reportedAt.UTC().Format(time.DateTime), "ReportType": 2, "Hardcore": 1,
		"ReportNotes": "notes", "ReportedBy": "someone", "ResolvedAt": nil, "ResolvedBy": nil,
		"ReportState": 1, "ReportStateDescription": "Open", "ReportTypeDescription": "Did not trigger",
	}
}

func marshal(t testing.TB, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// badRecord is a list element transform must set aside.
type badRecord struct {
	name     string
	id       int64 // the simulator's slot (PutRaw needs one)
	at       time.Time
	raw      json.RawMessage
	ticketID *int64 // what rejected_records.ticket_id must say
	reason   string // a word the reason must contain
}

// badRecords builds one record of each kind of defect, placed in the list
// among the good ones (ats gives the positions).
func badRecords(t testing.TB, base int64, ats []time.Time) []badRecord {
	t.Helper()
	var out []badRecord
	// Each record carries the ReportedAt of its place in the list, as the
	// server's ORDER BY ReportedAt guarantees.
	next := func() (int64, time.Time) { return base + int64(len(out)), ats[len(out)%len(ats)] }
	add := func(name string, raw json.RawMessage, known bool, reason string) {
		id, at := next()
		r := badRecord{name: name, id: id, at: at, raw: raw, reason: reason}
		if known {
			r.ticketID = ptr(id)
		}
		out = append(out, r)
	}

	m := rawTicket(next())
	delete(m, "ID")
	add("missing id", marshal(t, m), false, "ID")

	m = rawTicket(next())
	m["ID"] = "12ab"
	add("non-numeric id", marshal(t, m), false, "ID")

	m = rawTicket(next())
	m["ReportedAt"] = map[string]any{"value": 5}
	add("object in the report time", marshal(t, m), true, "ReportedAt")

	m = rawTicket(next())
	m["ReportState"] = []int{1}
	add("array in the state", marshal(t, m), true, "ReportState")

	m = rawTicket(next())
	m["ReportState"] = true
	add("boolean in the state", marshal(t, m), true, "ReportState")

	add("not an object", json.RawMessage(`"just a string"`), false, "object")

	m = rawTicket(next())
	m["Extra"] = map[string]any{"n": json.Number("1e1000000")}
	add("number jsonb cannot store", marshal(t, m), true, "jsonb")
	return out
}

// TestBadRecordsAreSetAside: every defective record lands in
// rejected_records with its raw text and a reason, the run goes on and
// stores every good ticket, and the summary, the log and sync_runs count
// the rejects.
func TestBadRecordsAreSetAside(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 21, Tickets: 400})
	open := w.fake.Open()
	ats := []time.Time{open[40].ReportedAt, open[130].ReportedAt, open[200].ReportedAt}
	bad := badRecords(t, 5_000_000, ats)
	// MySQL's zero date sorts below every real date, so a record carrying it
	// sits at the end of the newest-first list.
	zero := rawTicket(5_000_100, time.Time{})
	zero["ReportedAt"] = "0000-00-00 00:00:00"
	bad = append(bad, badRecord{name: "zero date", id: 5_000_100, at: open[len(open)-1].ReportedAt.Add(-time.Hour),
		raw: marshal(t, zero), ticketID: ptr(int64(5_000_100)), reason: "ReportedAt"})
	for _, b := range bad {
		w.fake.PutRaw(b.id, b.at, b.raw)
	}

	d := newDB(t)
	c := newCLI(t, w, d)
	res := c.sync("--batch-size", "50")
	if res.code != 0 {
		t.Fatalf("the run failed over bad records:\n%s", res)
	}
	if !strings.Contains(res.stdout, " 8 rejected") {
		t.Errorf("summary does not count 8 rejected: %q", res.stdout)
	}
	if got := len(logs(res.stderr, "record set aside")); got != len(bad) {
		t.Errorf("%d 'record set aside' log lines, want %d", got, len(bad))
	}
	assertMatchesOpenList(t, d, w)
	runs := d.runs(t)
	if served := len(w.fake.Open()); len(runs) != 1 || runs[0].Status != "succeeded" ||
		runs[0].Rejected != int64(len(bad)) || runs[0].Seen != int64(served) {
		t.Errorf("sync_runs %+v, want succeeded with %d rejected of %d seen", runs, len(bad), served)
	}

	rows, err := d.pool.Query(context.Background(), `SELECT run_id, ticket_id, raw, reason FROM rejected_records ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type rej struct {
		run      int64
		ticketID *int64
		raw      string
		reason   string
	}
	byRaw := map[string]rej{}
	for rows.Next() {
		var r rej
		if err := rows.Scan(&r.run, &r.ticketID, &r.raw, &r.reason); err != nil {
			t.Fatal(err)
		}
		byRaw[r.raw] = r
	}
	rows.Close()
	if len(byRaw) != len(bad) {
		t.Errorf("%d distinct rejected records, want %d", len(byRaw), len(bad))
	}
	for _, b := range bad {
		r, ok := byRaw[string(b.raw)]
		if !ok {
			t.Errorf("%s: raw text not stored verbatim in rejected_records", b.name)
			continue
		}
		if r.run != 1 || !strings.Contains(r.reason, b.reason) {
			t.Errorf("%s: run %d, reason %q (want it to name %s)", b.name, r.run, r.reason, b.reason)
		}
		switch {
		case b.ticketID == nil && r.ticketID != nil:
			t.Errorf("%s: ticket_id %d, want NULL", b.name, *r.ticketID)
		case b.ticketID != nil && (r.ticketID == nil || *r.ticketID != *b.ticketID):
			t.Errorf("%s: ticket_id %v, want %d", b.name, r.ticketID, *b.ticketID)
		}
	}
	assertConsistent(t, d)
}

// TestBadRecordMidListLosesNothing: a record whose ReportedAt is not a real
// date, served in the middle of the list (a server that sorts it there),
// must not make the scan skip the tickets after it.
func TestBadRecordMidListLosesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 22, Tickets: 300})
	open := w.fake.Open()
	for i, s := range []string{"0000-00-00 00:00:00", "not a date", "2024-02-30 10:00:00", "9999-99-99 99:99:99"} {
		id := int64(6_000_000 + i)
		m := rawTicket(id, time.Time{})
		m["ReportedAt"] = s
		w.fake.PutRaw(id, open[30+35*i].ReportedAt, marshal(t, m))
	}
	d := newDB(t)
	res := newCLI(t, w, d).sync("--batch-size", "50")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	assertMatchesOpenList(t, d, w)
	if n := d.count(t, `SELECT count(*) FROM rejected_records`); n < 4 {
		t.Errorf("%d rejected records, want the 4 bad dates", n)
	}
}

// TestAllRejectedFails: a run in which every record is rejected is a sign
// the source changed shape; it fails, yet keeps the rejects for a look.
func TestAllRejectedFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 23, Empty: true})
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	bad := badRecords(t, 7_000_000, []time.Time{now, now.Add(-time.Hour), now.Add(-2 * time.Hour)})
	for _, b := range bad {
		w.fake.PutRaw(b.id, b.at, b.raw)
	}
	d := newDB(t)
	res := newCLI(t, w, d).sync()
	if res.code != 1 || !strings.Contains(res.stderr, "every record was rejected") {
		t.Fatalf("want exit 1 saying every record was rejected:\n%s", res)
	}
	runs := d.runs(t)
	if len(runs) != 1 || runs[0].Status != "failed" || runs[0].Error == nil ||
		!strings.Contains(*runs[0].Error, "every record was rejected") || runs[0].Rejected != int64(len(bad)) {
		t.Errorf("sync_runs %+v", runs)
	}
	if n := d.count(t, `SELECT count(*) FROM rejected_records`); n != int64(len(bad)) {
		t.Errorf("%d rejected records kept, want %d", n, len(bad))
	}
	if n := d.count(t, `SELECT count(*) FROM tickets`); n != 0 {
		t.Errorf("%d tickets", n)
	}
}

// TestHardTextRoundTrips: text Postgres cannot store (NUL) is stripped, by
// design, and never fails a batch; everything else (very long notes,
// emoji, right-to-left text, quotes, backslashes, escapes written out as
// text) comes back byte for byte, in the typed columns and in raw.
func TestHardTextRoundTrips(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fakeapi.Options{Seed: 24, Tickets: 150})
	long := strings.Repeat("Très long ✓ — 長いメモ 🎮\n", 8000) // ~250 KB
	cases := []struct {
		name, title, notes   string
		wantTitle, wantNotes string
	}{
		{name: "nul", title: "Bad\x00Title", notes: "before\x00after\x00", wantTitle: "BadTitle", wantNotes: "beforeafter"},
		{name: "long", title: "Long notes", notes: long},
		{name: "emoji", title: "🏆 Trophy 👾🧑🏽‍💻", notes: "🎮 did not trigger 🙃\nRetroAchievements Hash: 0123456789abcdef0123456789abcdef"},
		{name: "rtl", title: "إنجاز \u200fעברית\u200e mixed", notes: "השלב לא נפתח — لم يتم تفعيل الإنجاز"},
		{name: "quotes", title: `He said "it's 'fine'"`, notes: `"quoted" 'single' ` + "`back` «guillemets»"},
		{name: "backslashes", title: `C:\Games\rom.bin`, notes: `path\to\file \\ double \n written-out \u0000 \" end\`},
		{name: "markup", title: "<b>bold</b> & <br/>", notes: "line<br>line<br />line\r\nlast\tTab \u2028sep\u2029"},
		{name: "empty", title: "", notes: ""},
	}
	open := w.fake.Open()
	for i, tc := range cases {
		f, _ := w.fake.Get(open[5+8*i].ID)
		f.AchievementTitle, f.ReportNotes = tc.title, tc.notes
		w.fake.Put(f)
		if tc.name != "nul" {
			cases[i].wantTitle, cases[i].wantNotes = tc.title, tc.notes
		}
	}
	d := newDB(t)
	res := newCLI(t, w, d).sync("--batch-size", "20")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	for i, tc := range cases {
		id := open[5+8*i].ID
		var title, notes, rawTitle, rawNotes string
		err := d.pool.QueryRow(context.Background(), `SELECT achievement_title, report_notes,
			raw->>'AchievementTitle', raw->>'ReportNotes' FROM tickets WHERE id = $1`, id).
			Scan(&title, &notes, &rawTitle, &rawNotes)
		if err != nil {
			t.Errorf("%s: ticket %d: %v", tc.name, id, err)
			continue
		}
		if title != tc.wantTitle || rawTitle != tc.wantTitle {
			t.Errorf("%s: title %q, raw %q; want %q", tc.name, title, rawTitle, tc.wantTitle)
		}
		if notes != tc.wantNotes || rawNotes != tc.wantNotes {
			t.Errorf("%s: notes did not round-trip (%d and %d bytes, want %d)", tc.name, len(notes), len(rawNotes), len(tc.wantNotes))
		}
	}
	if n := d.count(t, `SELECT count(*) FROM rejected_records`); n != 0 {
		t.Errorf("%d records rejected; hard text must never be", n)
	}
	assertMatchesOpenList(t, d, w)
	assertConsistent(t, d)

	// A second run sees the same text and rewrites nothing.
	if res := newCLI(t, w, d).sync(); res.code != 0 {
		t.Fatalf("%s", res)
	}
	if runs := d.runs(t); runs[1].Updated != 0 || runs[1].Inserted != 0 {
		t.Errorf("second run changed tickets: %+v", runs[1])
	}
}
