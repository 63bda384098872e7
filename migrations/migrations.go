// Package migrations holds the SQL schema of ratickets as goose migrations,
// embedded into the binary. The load package runs them through goose's
// Provider API; nothing else should read these files.
//
// Every table and column is documented in the README ("Schema"); keep the
// two in step in the same commit.
package migrations

import "embed"

// FS holds the *.sql migration files, numbered in the order they apply.
//
//go:embed *.sql
var FS embed.FS
