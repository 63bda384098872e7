// Package jsonscan holds the small validating JSON scanner shared by the
// fast decoding paths of extract (list pages, sort keys) and transform (one
// ticket). Both fast paths must accept exactly the JSON encoding/json
// accepts and give up on anything else, so the grammar lives here once:
// a fix to string or number validation then reaches both.
//
// The Scanner only walks and validates; it never allocates. Callers keep
// what they need (spans, decoded text) and drive it member by member.
package jsonscan
