package transform

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// Field indexes into wire, in the API's order.
const (
	fID = iota
	fAchievementID
	fAchievementTitle
	fAchievementDesc
	fAchievementType
	fPoints
	fBadgeName
	fAchievementAuthor
	fGameID
	fConsoleName
	fGameTitle
	fGameIcon
	fReportedAt
	fReportType
	fHardcore
	fReportNotes
	fReportedBy
	fResolvedAt
	fResolvedBy
	fReportState
	numFields
)

// fieldNames are the API's member names, indexed like wire.
var fieldNames = [numFields]string{
	"ID", "AchievementID", "AchievementTitle", "AchievementDesc", "AchievementType", "Points",
	"BadgeName", "AchievementAuthor", "GameID", "ConsoleName", "GameTitle", "GameIcon",
	"ReportedAt", "ReportType", "Hardcore", "ReportNotes", "ReportedBy", "ResolvedAt",
	"ResolvedBy", "ReportState",
}

// wire holds the modelled members of one ticket object as sent. Members
// ratickets does not model (ULIDs, descriptions, future fields) are not
// decoded; they stay in Ticket.Raw.
type wire [numFields]value

// decodeOptions make the decoder accept what encoding/json accepts: a
// repeated member (the last one wins) and invalid UTF-8 in strings (it
// becomes U+FFFD, one per bad byte; lone surrogate escapes too).
var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// decodeWire reads the ticket object in raw in one pass: each modelled
// member into w, the others only validated. Every number on the way, in
// any member at any depth, is checked against what jsonb can store; the
// first that does not fit is returned with the top-level member holding it.
// An error means raw is not one valid JSON object.
func decodeWire(raw []byte, w *wire) (badMember, badNumber string, err error) {
	d := ticketDecoder{dec: jsontext.NewDecoder(bytes.NewBuffer(raw), decodeOptions...)}
	if tok, err := d.dec.ReadToken(); err != nil {
		return "", "", err
	} else if tok.Kind() != '{' {
		return "", "", errors.New("not a JSON object")
	}
	for d.dec.PeekKind() != '}' {
		name, err := d.dec.ReadToken()
		if err != nil {
			return "", "", err
		}
		d.member = name.String()
		if f := fieldIndex(d.member); f >= 0 {
			err = d.read(&w[f])
		} else {
			err = d.skip()
		}
		if err != nil {
			return "", "", err
		}
	}
	if _, err := d.dec.ReadToken(); err != nil { // '}'
		return "", "", err
	}
	if _, err := d.dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the object")
		}
		return "", "", err
	}
	return d.badMember, d.badNumber, nil
}

// ticketDecoder is the state of one decodeWire.
type ticketDecoder struct {
	dec                  *jsontext.Decoder
	member               string // the top-level member being read
	badMember, badNumber string // the first number jsonb cannot store
}

// number reads a number literal and checks it.
func (d *ticketDecoder) number() (jsontext.Value, error) {
	lit, err := d.dec.ReadValue()
	if err == nil && d.badNumber == "" && !fitsNumeric(lit) {
		d.badMember, d.badNumber = shorten(d.member), shorten(string(lit))
	}
	return lit, err
}

// skip reads past the next value, checking every number in it.
func (d *ticketDecoder) skip() error {
	depth := 0
	for {
		if d.dec.PeekKind() == '0' {
			if _, err := d.number(); err != nil {
				return err
			}
		} else {
			tok, err := d.dec.ReadToken()
			if err != nil {
				return err
			}
			switch tok.Kind() {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// fieldIndex matches a member name as encoding/json does: exactly first,
// else case-insensitively (Unicode simple folding). -1 when nothing matches.
func fieldIndex(name string) int {
	for i, n := range fieldNames {
		if name == n {
			return i
		}
	}
	for i, n := range fieldNames {
		if strings.EqualFold(name, n) {
			return i
		}
	}
	return -1
}

// read decodes the next value into v. A repeated member's last value wins,
// with nothing left over from an earlier one.
func (d *ticketDecoder) read(v *value) error {
	*v = value{}
	switch d.dec.PeekKind() {
	case '"':
		tok, err := d.dec.ReadToken()
		if err != nil {
			return err
		}
		v.kind, v.str = kindString, tok.String()
		return nil
	case '{':
		v.kind = kindObject
		return d.skip()
	case '[':
		v.kind = kindArray
		return d.skip()
	case '0':
		lit, err := d.number()
		if err != nil {
			return err
		}
		v.kind = kindNumber
		v.num, v.numOK = parseInteger([]byte(lit))
		if !v.numOK || !plainInteger(lit) {
			// Keep the literal for text fields and error reasons whenever
			// it is not simply the decimal form of num ("5.0", "1e3").
			v.str = string(lit)
		}
		return nil
	}
	lit, err := d.dec.ReadValue()
	if err != nil {
		return err
	}
	switch lit.Kind() {
	case 'n':
		v.kind = kindNull
	case 't', 'f':
		v.kind, v.b = kindBool, lit[0] == 't'
	}
	return nil
}

// jsonb stores every number as numeric, whose limits are exact: at most
// 131072 digits before the decimal point and 16383 after it, and
// PostgreSQL's numeric_in refuses an exponent of INT_MAX/2 or beyond
// outright (PostgreSQL 15's numeric.c).
const (
	numericMaxIntDigits = 131072
	numericMaxScale     = 16383
	numericMaxExponent  = 1<<31/2 - 1 // INT_MAX / 2
)

// fitsNumeric reports whether PostgreSQL can store the valid JSON number
// lit in jsonb. Its scale is the digits after the point less the exponent;
// its size is where its first non-zero digit sits (a zero has none).
func fitsNumeric(lit []byte) bool {
	mant := bytes.TrimPrefix(lit, []byte("-"))
	var exp int64
	if i := bytes.IndexAny(mant, "eE"); i >= 0 {
		e := mant[i+1:]
		mant = mant[:i]
		neg := e[0] == '-'
		if e[0] == '-' || e[0] == '+' {
			e = e[1:]
		}
		for _, c := range e {
			exp = exp*10 + int64(c-'0')
			if exp >= numericMaxExponent {
				return false
			}
		}
		if neg {
			exp = -exp
		}
	}
	intPart, frac := mant, []byte(nil)
	if i := bytes.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if int64(len(frac))-exp > numericMaxScale {
		return false
	}
	// pos is the power of ten of the first non-zero digit.
	var pos int64
	if i := firstNonZero(intPart); i >= 0 {
		pos = int64(len(intPart)-1-i) + exp
	} else if i := firstNonZero(frac); i >= 0 {
		pos = int64(-1-i) + exp
	} else {
		return true // zero
	}
	return pos < numericMaxIntDigits
}

func firstNonZero(digits []byte) int {
	for i, c := range digits {
		if c != '0' {
			return i
		}
	}
	return -1
}
