// Package pgtest gives tests a real, isolated PostgreSQL database.
//
// With TEST_DATABASE_URL set, tests use that server; otherwise the first test
// that asks starts one throwaway server per test binary (initdb into a temp
// dir, unix socket, fsync off; as the 'postgres' OS user when running as
// root). A migrated template database is built once per binary, and every
// test gets its own copy (CREATE DATABASE … TEMPLATE), dropped in t.Cleanup.
//
// Missing PostgreSQL binaries skip the tests on a developer machine but fail
// them under CI=true, so a CI run can never pass by testing nothing.
package pgtest
