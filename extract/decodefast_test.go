package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// slowDecodePage is decodePage without the fast path: the reference.
func slowDecodePage(body []byte, mode string, offset int) (*Page, error) {
	var pb pageBody
	if err := json.Unmarshal(body, &pb); err != nil {
		return nil, malformed(err.Error(), body)
	}
	list := pb.RecentTickets
	if mode == ModeGame && pb.Tickets != nil {
		list = pb.Tickets
	}
	if list == nil {
		return nil, errors.New("no list")
	}
	ot := -1
	if pb.OpenTickets.ok && pb.OpenTickets.v >= 0 && pb.OpenTickets.v <= 1<<31-1 {
		ot = int(pb.OpenTickets.v)
	}
	tickets := *list
	if tickets == nil {
		tickets = []json.RawMessage{}
	}
	return &Page{Offset: offset, Tickets: tickets, OpenTickets: ot}, nil
}

// slowKeyOf is keyOf without the fast path.
func slowKeyOf(raw json.RawMessage) (sortKey, bool) {
	var v struct {
		ID         flexInt         `json:"ID"`
		ReportedAt json.RawMessage `json:"ReportedAt"`
	}
	if err := json.Unmarshal(raw, &v); err != nil || !v.ID.ok {
		return sortKey{}, false
	}
	var at string
	if err := json.Unmarshal(v.ReportedAt, &at); err != nil || at == "" {
		return sortKey{}, false
	}
	return sortKey{at: at, id: v.ID.v}, true
}

func fastDecodeSeeds() []string {
	return append(append([]string{}, fuzzSeeds...),
		listBody(100, "16000"),
		`{"RecentTickets":[{"ID":1}],"RecentTickets":[{"ID":2}]}`, // repeated list
		`{"recentTICKETS":[{"ID":1}],"OPENTICKETS":" 7 "}`,
		`{"Tickets":null,"RecentTickets":[{"ID":1}]}`,
		`{"Tickets":[{"ID":2}],"RecentTickets":null}`,
		`{"Tickets":[],"RecentTickets":[{"ID":1}]}`,
		`{"RecentTickets":{"ID":1}}`,
		`{"RecentTickets":"x"}`,
		`{"RecentTickets":[1,2,],"OpenTickets":1}`,
		`{"RecentTickets":[ 1 , "a\"b" , {"x":[]} , null , true ]}`,
		`{"RecentTickets":[],"OpenTickets":1,"OpenTickets":2}`,
		`{"RecentTickets":[],"OpenTickets":12.0}`,
		`{"RecentTickets":[],"OpenTickets":4294967296}`,
		`{"Recent\u0054ickets":[{"ID":1}]}`,
		`{"RecentTickets":[{"ID":1}]} {}`,
		`{"RecentTickets":["\u00"]}`,
		"{\"RecentTickets\":[\"a\tb\"]}",
		`{"RecentTickets":[`+strings.Repeat("[", 300)+strings.Repeat("]", 300)+`]}`,
		`{"ID":"64866","id":"5","ReportedAt":"2024-01-10 22:31:54"}`,
		`{"ID":5,"ReportedAt":"2024-01-10 22:31:54","reportedat":""}`,
		`{"ID":5,"ReportedAt":"2024\u002d01-10"}`,
		`{"ID":5,"ReportedAt":"caf`+"\xe9"+`"}`,
		`{"ID":5,"ReportedAt":true}`,
		`{"ID":null,"ReportedAt":"x"}`,
		`{"ID":1e3,"ReportedAt":"x"}`,
		`{"ıd":1,"ReportedAt":"x"}`,
	)
}

func TestFastDecodeMatchesSlow(t *testing.T) {
	t.Parallel()
	for _, s := range fastDecodeSeeds() {
		compareDecode(t, []byte(s))
	}
	// The speed-up itself: a real page takes the fast path.
	if _, ok := decodePageFast([]byte(listBody(100, "16000")), ModeList, 0); !ok {
		t.Error("fast path declined a well-formed page")
	}
	if _, _, handled := keyOfFast([]byte(`{"ID":64866,"ReportedAt":"2024-01-10 22:31:54"}`)); !handled {
		t.Error("fast path declined a well-formed ticket")
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, s := range fastDecodeSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		compareDecode(t, body)
	})
}

func compareDecode(t *testing.T, body []byte) {
	t.Helper()
	orig := bytes.Clone(body)
	for _, mode := range []string{ModeList, ModeGame} {
		fp, ok := decodePageFast(body, mode, 3)
		if !ok {
			continue
		}
		sp, err := slowDecodePage(body, mode, 3)
		if err != nil {
			t.Fatalf("%s %.200q: fast accepted, slow failed: %v", mode, body, err)
		}
		if fp.OpenTickets != sp.OpenTickets || fp.Offset != sp.Offset || len(fp.Tickets) != len(sp.Tickets) {
			t.Fatalf("%s %.200q: fast %+v, slow %+v", mode, body, fp, sp)
		}
		for i := range fp.Tickets {
			if !bytes.Equal(fp.Tickets[i], sp.Tickets[i]) || cap(fp.Tickets[i]) != len(fp.Tickets[i]) {
				t.Fatalf("%s %.200q: ticket %d fast %q, slow %q", mode, body, i, fp.Tickets[i], sp.Tickets[i])
			}
		}
	}
	if k, ok, handled := keyOfFast(body); handled {
		sk, sok := slowKeyOf(body)
		if ok != sok || !reflect.DeepEqual(k, sk) {
			t.Fatalf("keyOf %.200q: fast %+v %v, slow %+v %v", body, k, ok, sk, sok)
		}
	}
	if !bytes.Equal(body, orig) {
		t.Fatal("decoding modified its input")
	}
}

func BenchmarkKeyOf(b *testing.B) {
	raw := []byte(ticketJSON(64866, "2024-01-10 22:31:54"))
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := keyOf(raw); !ok {
			b.Fatal("no key")
		}
	}
}
