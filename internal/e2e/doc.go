// Package e2e holds the end-to-end tests of the ratickets binary. It has no
// code of its own: TestMain builds the real binary once (go build
// ./cmd/ratickets), and each test runs it as a subprocess against the
// fakeapi simulator, served over loopback by httptest, and a real
// PostgreSQL (internal/pgtest). Tests assert what an operator would see:
// the exit code, the log, and the final content of the database.
//
// Together they prove the guarantees of the README's "Failure behaviour"
// section: bad records are set aside and counted, text Postgres cannot hold
// is cleaned and everything else round-trips, transient API faults are
// retried to an exact result, a failed run leaves earlier data intact and
// the next run converges, a crash (SIGKILL, a Postgres restart) or a signal
// never leaves a half-written batch or a run 'running' forever, overlapping
// runs never interleave, and the API key and database password never show
// up in output or in the database.
//
// The SIGKILL loop (TestSIGKILLAtRandomPoints) lands 20 kills in every test
// run; RATICKETS_CHAOS=1 (make test-chaos) makes it 100. RATICKETS_E2E_BIN
// tests a binary built elsewhere instead of building one.
//
// bench_test.go holds the end-to-end benchmarks of BENCHMARKS.md (make
// bench): sync and backfill rows/s, requests and the binary's peak RSS.
package e2e
