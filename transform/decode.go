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
// member into w, the others only validated. Any error means raw is not one
// valid JSON object.
func decodeWire(raw []byte, w *wire) error {
	dec := jsontext.NewDecoder(bytes.NewBuffer(raw), decodeOptions...)
	if tok, err := dec.ReadToken(); err != nil {
		return err
	} else if tok.Kind() != '{' {
		return errors.New("not a JSON object")
	}
	for dec.PeekKind() != '}' {
		name, err := dec.ReadToken()
		if err != nil {
			return err
		}
		f := fieldIndex(name.String())
		if f < 0 {
			if err := dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if err := w[f].read(dec); err != nil {
			return err
		}
	}
	if _, err := dec.ReadToken(); err != nil { // '}'
		return err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the object")
		}
		return err
	}
	return nil
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
func (v *value) read(dec *jsontext.Decoder) error {
	*v = value{}
	switch dec.PeekKind() {
	case '"':
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		v.kind, v.str = kindString, tok.String()
		return nil
	case '{', '[':
		v.kind = kindObject
		if dec.PeekKind() == '[' {
			v.kind = kindArray
		}
		return dec.SkipValue()
	}
	lit, err := dec.ReadValue()
	if err != nil {
		return err
	}
	switch lit.Kind() {
	case 'n':
		v.kind = kindNull
	case 't', 'f':
		v.kind, v.b = kindBool, lit[0] == 't'
	default:
		v.kind = kindNumber
		v.num, v.numOK = parseInteger([]byte(lit))
		if !v.numOK || !plainInteger(lit) {
			// Keep the literal for text fields and error reasons whenever
			// it is not simply the decimal form of num ("5.0", "1e3").
			v.str = string(lit)
		}
	}
	return nil
}
