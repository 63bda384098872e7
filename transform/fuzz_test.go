package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// maxFuzzSeed keeps the 1 MB case out of the fuzz corpus: the mutator would
// spend its time copying it instead of exploring.
const maxFuzzSeed = 64 << 10

func FuzzParse(f *testing.F) {
	for _, tc := range parseCases() {
		if len(tc.raw) <= maxFuzzSeed {
			f.Add([]byte(tc.raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := bytes.Clone(raw)
		got, err := Parse(raw)
		if !bytes.Equal(raw, in) {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error %T is not a *RecordError: %v", err, err)
			}
			if re.Reason == "" || !utf8.ValidString(re.Reason) || strings.ContainsRune(re.Reason, 0) {
				t.Fatalf("reason not storable: %q", re.Reason)
			}
			if re.TicketID != nil && *re.TicketID <= 0 {
				t.Fatalf("error names ticket %d", *re.TicketID)
			}
			return
		}
		if got.ID <= 0 {
			t.Fatalf("ID = %d", got.ID)
		}
		if got.ReportedAt.Location() != time.UTC || got.ReportedAt.IsZero() {
			t.Fatalf("ReportedAt = %v (%v)", got.ReportedAt, got.ReportedAt.Location())
		}
		if got.ResolvedAt != nil && got.ResolvedAt.Location() != time.UTC {
			t.Fatalf("ResolvedAt not UTC: %v", got.ResolvedAt.Location())
		}
		if got.ReportState != StateFromCode(got.ReportStateCode) || got.ReportType != TypeFromCode(got.ReportTypeCode) {
			t.Fatalf("labels %q/%q do not match codes %d/%d", got.ReportState, got.ReportType, got.ReportStateCode, got.ReportTypeCode)
		}
		checkStorableRaw(t, got.Raw)
		for _, p := range got.Problems {
			if _, modelled := reflect.TypeFor[v1Record]().FieldByName(p.Field); !modelled || p.Reason == "" || !utf8.ValidString(p.Reason) || strings.ContainsRune(p.Reason, 0) {
				t.Fatalf("problem not storable: %+v", p)
			}
		}
		for name, s := range textFields(got) {
			if s == nil {
				continue
			}
			if strings.ContainsRune(*s, 0) {
				t.Fatalf("%s holds a NUL: %q", name, *s)
			}
			if !utf8.ValidString(*s) {
				t.Fatalf("%s is not valid UTF-8: %q", name, *s)
			}
		}
		checkHash(t, got.RomHash)
	})
}

// checkStorableRaw asserts what Postgres jsonb needs, independently of the
// code under test: valid UTF-8 JSON object, no NUL in any string or key, and
// no \u0000 escape in the text.
func checkStorableRaw(t *testing.T, raw json.RawMessage) {
	t.Helper()
	if !utf8.Valid(raw) || !json.Valid(raw) {
		t.Fatalf("Raw is not valid UTF-8 JSON: %q", raw)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers beyond float64 are fine in jsonb
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("Raw does not decode: %v", err)
	}
	if _, ok := v.(map[string]any); !ok {
		t.Fatalf("Raw is not an object: %q", raw)
	}
	jsonStrings(v, func(s string) {
		if strings.ContainsRune(s, 0) {
			t.Fatalf("Raw holds a NUL in %q", s)
		}
		if strings.ContainsRune(s, utf8.RuneError) && !bytes.Contains(raw, []byte("\uFFFD")) && !bytes.Contains(raw, []byte(`\ufffd`)) && !bytes.Contains(raw, []byte(`\uFFFD`)) {
			// encoding/json decoded a replacement the text does not hold:
			// an invalid sequence or lone surrogate survived in Raw.
			t.Fatalf("Raw still holds invalid text: %q", raw)
		}
	})
	// Walk escapes: a \u0000 escape is one preceded by an even run of backslashes.
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if bytes.HasPrefix(raw[i:], []byte(`\u0000`)) {
			t.Fatalf("Raw holds a \\u0000 escape: %q", raw)
		}
		i++ // skip the escaped character
	}
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkHash(t *testing.T, h *string) {
	t.Helper()
	if h != nil && !hexHash.MatchString(*h) {
		t.Fatalf("RomHash %q is not 32 lower-case hex digits", *h)
	}
}

func FuzzParseNotes(f *testing.F) {
	for _, tc := range notesCases() {
		f.Add(tc.notes)
	}
	f.Fuzz(func(t *testing.T, notes string) {
		n := ParseNotes(notes)
		checkHash(t, n.RomHash)
		for _, s := range []*string{n.Emulator, n.EmulatorCore, n.EmulatorVersion} {
			if s == nil {
				continue
			}
			if *s == "" || strings.TrimSpace(*s) != *s {
				t.Fatalf("value %q is empty or untrimmed", *s)
			}
			if !strings.Contains(notes, *s) {
				t.Fatalf("value %q is not text from the notes", *s)
			}
		}
	})
}
