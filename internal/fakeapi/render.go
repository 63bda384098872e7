package fakeapi

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// siteURL is the origin the real server puts in its "URL" fields.
const siteURL = "https://retroachievements.org"

// timeLayout is how the server (Carbon's __toString) prints timestamps.
const timeLayout = "2006-01-02 15:04:05"

// Legacy ReportState codes, as the V1 API sends them.
const (
	StateClosed      = 0
	StateOpen        = 1
	StateResolved    = 2
	StateRequest     = 3
	StateQuarantined = 4
)

// Legacy ReportType codes.
const (
	TypeTriggeredAtWrongTime = 1
	TypeDidNotTrigger        = 2
)

// stateDescription mirrors RAWeb: TicketState::label() for the known states
// ("Pending Review" is the label of Quarantined) and the old toString default
// "Invalid state" for a code the enum does not know.
func stateDescription(state int) string {
	switch state {
	case StateClosed:
		return "Closed"
	case StateOpen:
		return "Open"
	case StateResolved:
		return "Resolved"
	case StateRequest:
		return "Request"
	case StateQuarantined:
		return "Pending Review"
	default:
		return "Invalid state"
	}
}

// typeDescription mirrors RAWeb's TicketType::toString.
func typeDescription(typ int) string {
	switch typ {
	case TypeTriggeredAtWrongTime:
		return "Triggered at the wrong time"
	case TypeDidNotTrigger:
		return "Did not trigger"
	default:
		return "Invalid ticket type"
	}
}

func isOpenState(state int) bool { return state == StateOpen || state == StateRequest }

// isResolvedState is TicketState::isResolved: only these set ResolvedAt.
func isResolvedState(state int) bool { return state == StateResolved || state == StateClosed }

// listItem is one element of RecentTickets (and of the game mode's Tickets),
// in the order RAWeb's $getTicketsInfo builds it; the ULID fields sit right
// after the user name they belong to.
type listItem struct {
	ID                     int64   `json:"ID"`
	AchievementID          int64   `json:"AchievementID"`
	AchievementTitle       string  `json:"AchievementTitle"`
	AchievementDesc        string  `json:"AchievementDesc"`
	AchievementType        *string `json:"AchievementType"`
	Points                 int     `json:"Points"`
	BadgeName              string  `json:"BadgeName"`
	AchievementAuthor      string  `json:"AchievementAuthor"`
	AchievementAuthorULID  string  `json:"AchievementAuthorULID"`
	GameID                 int64   `json:"GameID"`
	ConsoleName            string  `json:"ConsoleName"`
	GameTitle              string  `json:"GameTitle"`
	GameIcon               string  `json:"GameIcon"`
	ReportedAt             string  `json:"ReportedAt"`
	ReportType             int     `json:"ReportType"`
	ReportTypeDescription  string  `json:"ReportTypeDescription"`
	ReportNotes            string  `json:"ReportNotes"`
	ReportedBy             string  `json:"ReportedBy"`
	ReportedByULID         string  `json:"ReportedByULID"`
	ResolvedAt             *string `json:"ResolvedAt"`
	ResolvedBy             *string `json:"ResolvedBy"`
	ResolvedByULID         *string `json:"ResolvedByULID"`
	ReportState            int     `json:"ReportState"`
	ReportStateDescription string  `json:"ReportStateDescription"`
	Hardcore               *int    `json:"Hardcore"`
}

// singleItem is the i= answer: the columns of RAWeb's getTicket() query in
// their SELECT order, then the two descriptions and the URL appended by
// API_GetTicketData.php.
type singleItem struct {
	ID                     int64   `json:"ID"`
	AchievementID          int64   `json:"AchievementID"`
	AchievementTitle       string  `json:"AchievementTitle"`
	AchievementDesc        string  `json:"AchievementDesc"`
	AchievementType        *string `json:"AchievementType"`
	Points                 int     `json:"Points"`
	BadgeName              string  `json:"BadgeName"`
	AchievementAuthor      string  `json:"AchievementAuthor"`
	AchievementAuthorULID  string  `json:"AchievementAuthorULID"`
	GameID                 int64   `json:"GameID"`
	ConsoleName            string  `json:"ConsoleName"`
	GameTitle              string  `json:"GameTitle"`
	GameIcon               string  `json:"GameIcon"`
	ReportedAt             string  `json:"ReportedAt"`
	ReportType             int     `json:"ReportType"`
	ReportState            int     `json:"ReportState"`
	Hardcore               *int    `json:"Hardcore"`
	ReportNotes            string  `json:"ReportNotes"`
	ReportedBy             string  `json:"ReportedBy"`
	ReportedByULID         string  `json:"ReportedByULID"`
	ResolvedAt             *string `json:"ResolvedAt"`
	ResolvedBy             *string `json:"ResolvedBy"`
	ResolvedByULID         *string `json:"ResolvedByULID"`
	ReportStateDescription string  `json:"ReportStateDescription"`
	ReportTypeDescription  string  `json:"ReportTypeDescription"`
	URL                    string  `json:"URL"`
}

// listHead and gameHead are the top-level keys that precede the ticket array,
// in the order the PHP source assigns them.
type listHead struct {
	OpenTickets int    `json:"OpenTickets"`
	URL         string `json:"URL"`
}

type gameHead struct {
	GameID      int64  `json:"GameID"`
	GameTitle   string `json:"GameTitle"`
	ConsoleName string `json:"ConsoleName"`
	OpenTickets int    `json:"OpenTickets"`
	URL         string `json:"URL"`
}

type mostReportedGame struct {
	GameID      int64  `json:"GameID"`
	GameTitle   string `json:"GameTitle"`
	GameIcon    string `json:"GameIcon"`
	Console     string `json:"Console"`
	OpenTickets int    `json:"OpenTickets"`
}

type mostReported struct {
	MostReportedGames []mostReportedGame `json:"MostReportedGames"`
	URL               string             `json:"URL"`
}

func fmtTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(timeLayout)
	return &s
}

func renderListItem(t *Ticket) []byte {
	return phpJSON(listItem{
		ID:                     t.ID,
		AchievementID:          t.AchievementID,
		AchievementTitle:       t.AchievementTitle,
		AchievementDesc:        t.AchievementDesc,
		AchievementType:        t.AchievementType,
		Points:                 t.Points,
		BadgeName:              t.BadgeName,
		AchievementAuthor:      t.AchievementAuthor,
		AchievementAuthorULID:  t.AchievementAuthorULID,
		GameID:                 t.GameID,
		ConsoleName:            t.ConsoleName,
		GameTitle:              t.GameTitle,
		GameIcon:               t.GameIcon,
		ReportedAt:             t.ReportedAt.UTC().Format(timeLayout),
		ReportType:             t.ReportType,
		ReportTypeDescription:  typeDescription(t.ReportType),
		ReportNotes:            t.ReportNotes,
		ReportedBy:             t.ReportedBy,
		ReportedByULID:         t.ReportedByULID,
		ResolvedAt:             fmtTime(t.ResolvedAt),
		ResolvedBy:             t.ResolvedBy,
		ResolvedByULID:         t.ResolvedByULID,
		ReportState:            t.ReportState,
		ReportStateDescription: stateDescription(t.ReportState),
		Hardcore:               t.Hardcore,
	})
}

func renderSingle(t *Ticket) []byte {
	return phpJSON(singleItem{
		ID:                     t.ID,
		AchievementID:          t.AchievementID,
		AchievementTitle:       t.AchievementTitle,
		AchievementDesc:        t.AchievementDesc,
		AchievementType:        t.AchievementType,
		Points:                 t.Points,
		BadgeName:              t.BadgeName,
		AchievementAuthor:      t.AchievementAuthor,
		AchievementAuthorULID:  t.AchievementAuthorULID,
		GameID:                 t.GameID,
		ConsoleName:            t.ConsoleName,
		GameTitle:              t.GameTitle,
		GameIcon:               t.GameIcon,
		ReportedAt:             t.ReportedAt.UTC().Format(timeLayout),
		ReportType:             t.ReportType,
		ReportState:            t.ReportState,
		Hardcore:               t.Hardcore,
		ReportNotes:            t.ReportNotes,
		ReportedBy:             t.ReportedBy,
		ReportedByULID:         t.ReportedByULID,
		ResolvedAt:             fmtTime(t.ResolvedAt),
		ResolvedBy:             t.ResolvedBy,
		ResolvedByULID:         t.ResolvedByULID,
		ReportStateDescription: stateDescription(t.ReportState),
		ReportTypeDescription:  typeDescription(t.ReportType),
		URL:                    siteURL + "/ticket/" + strconv.FormatInt(t.ID, 10),
	})
}

// phpJSON marshals v with encoding/json (so the struct fixes the key order)
// and then re-escapes it the way PHP's json_encode does by default: "/" as
// "\/" and every non-ASCII character as \uXXXX (surrogate pairs above the
// BMP), HTML characters left alone. Consumers therefore see the same escape
// sequences the real site sends.
func phpJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own plain structs reach here; they always marshal.
		panic("fakeapi: marshal: " + err.Error())
	}
	return phpEscape(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}

// phpEscape rewrites Go JSON output into PHP's default escaping. It relies on
// encoding/json never emitting "\/" or raw non-ASCII outside strings, so any
// '/' or byte >= 0x80 is string content.
func phpEscape(src []byte) []byte {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, len(src)+len(src)/8)
	appendU := func(r rune) {
		out = append(out, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
	}
	for i := 0; i < len(src); {
		b := src[i]
		switch {
		case b == '/':
			out = append(out, '\\', '/')
			i++
		case b < utf8.RuneSelf:
			out = append(out, b)
			i++
		default:
			r, size := utf8.DecodeRune(src[i:])
			i += size
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				appendU(r1)
				appendU(r2)
			} else {
				appendU(r)
			}
		}
	}
	return out
}
