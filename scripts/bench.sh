#!/usr/bin/env bash
# make bench: measures ratickets against the limits of this machine (see
# BENCHMARKS.md) with `go test -bench`; the output is benchstat's input
# (`benchstat old.txt new.txt`). Starts its own PostgreSQL (fsync stays on)
# unless only the requests group runs. Groups and their benchmarks:
#   sync      BenchmarkSync (./internal/e2e): bin/ratickets end to end against
#             the simulator, rows/s, requests and peak RSS (rss: older name)
#   backfill  BenchmarkBackfillGames (./internal/e2e), the same for backfill --games
#   requests  BenchmarkRequests (./extract): the request counts of v2 and v1, in
#             process, no database; run once whatever BENCH_COUNT (they are counts)
#   load      BenchmarkLoad (./load): COPY ceiling and merges (ceiling, whatif:
#             older names)
#   micro     the other benchmarks of extract, transform and load
#
# Environment:
#   BENCH_TICKETS  tickets in the world (RATICKETS_BENCH_TICKETS; default 200000)
#   BENCH_ONLY     comma-separated groups (default: all)
#   BENCH_COUNT    -count of each benchmark (default 6, what benchstat wants)
#   BENCH_OUT      directory to keep the output in, bench.txt (default: a temp dir, removed)
#   DEVPG_PORT     port of the throwaway PostgreSQL (default 54339)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/bin/ratickets
[ -x "$bin" ] || { echo "bench: $bin missing: run make build (make bench does)" >&2; exit 1; }

only=, o=${BENCH_ONLY:-}
for g in ${o//,/ }; do
  case $g in ceiling|whatif) g=load ;; rss) g=sync ;; esac # older names
  case $g in sync|backfill|requests|load|micro) only+=$g, ;; *) echo "bench: BENCH_ONLY: unknown group $g" >&2; exit 2 ;; esac
done
[ "$only" != , ] || only=,sync,backfill,requests,load,micro,
want() { [[ $only == *",$1,"* ]]; }
needpg=""
for g in sync backfill load micro; do want $g && needpg=1; done

work=$(mktemp -d "${TMPDIR:-/tmp}/ratickets-bench-XXXXXX")
chmod 755 "$work"
out=${BENCH_OUT:-$work/out}
mkdir -p "$out"
: >"$out/bench.txt"
export DEVPG_PORT=${DEVPG_PORT:-54339}
cleanup() {
  [ -z "$needpg" ] || bash scripts/devpg.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work" # BENCH_OUT, when set, is elsewhere and kept
}
trap cleanup EXIT
# Configuration lines ("key: value") head the output, as benchstat reads them.
config() { echo "$1: $2" | tee -a "$out/bench.txt"; }
config nproc "$(nproc)"
config go "$(go env GOVERSION)"

# Settings: fsync, synchronous_commit and full_page_writes stay at their
# defaults (on), so the COPY ceiling is what the disk really allows. A larger
# max_wal_size keeps checkpoints out of the middle of a run (each run starts
# with an explicit CHECKPOINT instead); shared_buffers holds the 200k-ticket
# tables, as on any real server.
if [ -n "$needpg" ]; then
  export DEVPG_OPTS="${DEVPG_OPTS:--c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_connections=50}"
  echo "# starting PostgreSQL in $work/pg (port $DEVPG_PORT)" >&2
  TEST_DATABASE_URL=$(bash scripts/devpg.sh start "$work/pg")
  export TEST_DATABASE_URL # the benchmarks' databases, through internal/pgtest
  psql="$(bash scripts/ensure-postgres.sh)/psql"
  q() { "$psql" "$TEST_DATABASE_URL" -XAtqc "$1"; }
  config postgres "$(q 'SHOW server_version' | cut -d' ' -f1)"
  config fsync "$(q 'SHOW fsync')"
  config synchronous_commit "$(q 'SHOW synchronous_commit')"
fi

export RATICKETS_BENCH_TICKETS=${BENCH_TICKETS:-200000}
export RATICKETS_E2E_BIN=$bin # the release build, as a user runs it
count=${BENCH_COUNT:-6}
bench() { # what, then go test arguments
  echo "# go test -bench: $1 ($RATICKETS_BENCH_TICKETS tickets)" >&2
  go test -run '^$' "${@:2}" | tee -a "$out/bench.txt"
}
e2e=""
want sync && e2e+="|BenchmarkSync"
want backfill && e2e+="|BenchmarkBackfillGames"
# One op is one run of the binary: -benchtime 1x, the count gives the runs.
[ -z "$e2e" ] || bench "end to end" -bench "^(${e2e#|})\$" -benchtime 1x -count "$count" ./internal/e2e
! want requests || bench requests -bench '^BenchmarkRequests$' -benchtime 1x -count 1 ./extract
! want load || bench "loader" -bench '^BenchmarkLoad$' -benchmem -count "$count" ./load
! want micro || bench "decode, transform, merge" -bench . -skip '^Benchmark(Load|Requests)$' -benchmem -count "$count" \
  ./extract ./transform ./load
