// Package transform turns one raw ticket object, as received from the
// RetroAchievements API_GetTicketData endpoint (Parse) or the v2 tickets API
// (ParseV2, see v2.go), into a typed Ticket. It is pure: no I/O, no
// logging, no clock. Parse never panics. A record that
// cannot be a ticket (ID, ReportedAt or ReportState unusable, not a JSON
// object) yields a *RecordError naming the ticket (when its ID is known), the
// API field and a human-readable reason, meant for the rejected_records
// table. An optional field that holds something unusable does not lose the
// ticket: the field is nil and Ticket.Problems names it, with the reason.
//
// # Field mapping
//
//	API field          Ticket field            rule
//	ID                 ID                      required, positive integer
//	AchievementID      AchievementID           optional integer
//	AchievementTitle   AchievementTitle        optional text
//	AchievementDesc    AchievementDescription  optional text
//	AchievementType    AchievementType         optional text
//	Points             Points                  optional integer, int32 range
//	BadgeName          BadgeName               optional text
//	AchievementAuthor  AchievementAuthor       optional text
//	GameID             GameID                  optional integer
//	ConsoleName        ConsoleName             optional text
//	GameTitle          GameTitle               optional text
//	GameIcon           GameIcon                optional text
//	ReportedAt         ReportedAt              required timestamp
//	ReportType         ReportType(Code)        code, int16 range (unusable: unknown, 0)
//	Hardcore           Hardcore                optional 1/0, "1"/"0", true/false
//	ReportNotes        ReportNotes             optional text; also parsed, see below
//	ReportedBy         ReportedBy              optional text
//	ResolvedAt         ResolvedAt              optional timestamp
//	ResolvedBy         ResolvedBy              optional text
//	ReportState        ReportState(Code)       required code, int16 range
//	(whole object)     Raw                     every member, see "NUL" below
//
// Other members (ULIDs, the *Description labels, fields added later) are not
// modelled but stay in Raw. A record is unmarshalled with
// github.com/go-json-experiment/json into one jsontext.Value per modelled
// member, then walked once more with its jsontext decoder for what jsonb
// cannot store (below). Member names match as encoding/json matches them:
// exact first, else case-insensitively; a repeated member's last value wins.
//
// Integers arrive as JSON numbers or, from older servers, as strings
// ("ID":"55958"); both are accepted everywhere, surrounding spaces and an
// integral float form ("5.0") included. A missing member, null, and for
// integers and Hardcore also "" (PHP's empty value) mean absent: a nil
// pointer, or an error for a required field. Text stays text: "" is kept as
// "", a JSON number in a text field is kept as its literal. Any other JSON
// type in a field (object, array, boolean where not allowed, non-numeric
// string in a numeric field) or a value out of range rejects the record
// when the field is ID, ReportedAt or ReportState; in any other field it is
// a FieldProblem and the field is nil. ReportType cannot be nil: an
// unusable one is TypeUnknown with code 0.
//
// # Codes
//
//	ReportType   1 triggered_at_wrong_time   2 did_not_trigger
//	ReportState  0 closed  1 open  2 resolved  3 request  4 quarantined
//
// Any other code (a future one, or a negative one) maps to "unknown"; the
// numeric code is always kept in ReportTypeCode / ReportStateCode, so nothing
// is lost and no ticket is dropped for it.
//
// # Timestamps
//
// "2006-01-02 15:04:05" in UTC, or RFC 3339 with any offset (newer server
// builds); the result is always in UTC. Impossible dates (0000-00-00,
// February 30, hour 24) and dates before 1970 are errors. For ResolvedAt,
// null, missing, "" and MySQL's zero date "0000-00-00 00:00:00" mean not
// resolved (nil).
//
// # NUL and invalid text
//
// Postgres text and jsonb cannot store NUL (U+0000). Parse removes NUL from
// every text field (StripNUL) rather than rejecting the ticket: a NUL in
// user text carries no meaning. Raw gets the same treatment: when the raw
// bytes contain a \u0000 escape (an escaped backslash followed by u0000 is
// literal text and does not count), a lone UTF-16 surrogate escape (jsonb
// rejects those too) or invalid UTF-8, the object is decoded with
// UseNumber, NUL is removed from all strings and keys, invalid UTF-8 and lone
// surrogates become U+FFFD (as in the text fields), and it is re-encoded:
// members then come out in sorted key order, which jsonb does not preserve
// anyway. Otherwise Raw is an exact copy of the input bytes.
//
// # Numbers jsonb cannot store
//
// jsonb keeps every number as PostgreSQL numeric: at most 131072 digits
// before the decimal point and 16383 after, and no exponent of magnitude
// INT_MAX/2 or more. A record holding a number beyond that anywhere (say
// 1e1000000 in an unmodelled member) cannot be stored at all, so Parse (and
// ParseV2) sets it aside whole with a *RecordError naming the top-level member; it would
// otherwise fail the batch, and every following run with it.
//
// # Notes
//
// ParseNotes reads the lines clients append to ReportNotes. Lines are split on
// "\n", "\r\n", "\r", <br>, <br/>, <br /> (any case) and the two characters
// \n written out. A label counts only at the start of a line (after
// whitespace), case-insensitively, with an optional space before its colon:
//
//	RetroAchievements Hash: <32 hex>   or   MD5: <32 hex>   -> RomHash, lower-cased
//	Emulator: Name (core)   or   Emulator used: Name (core) -> Emulator, EmulatorCore
//	Emulator Version: v                                     -> EmulatorVersion
//
// The emulator name is the text before the last parenthesised group and the
// core is inside it (no group: core nil). A hash whose first word is not 32
// hex digits is ignored. Values are trimmed; empty ones are ignored. When a
// label repeats, the last usable line wins.
package transform
