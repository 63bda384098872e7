#!/usr/bin/env bash
# make bench: measures ratickets against the limits of this machine (see
# BENCHMARKS.md). Starts its own PostgreSQL (fsync stays on) and runs the
# simulator in-process; prints one "BENCH name=… key=value …" line per
# figure, then the Go micro-benchmarks (benchstat format).
#
# Environment:
#   BENCH_TICKETS  tickets in the large world (default 200000)
#   BENCH_SMALL    tickets in the small world, for memory growth (default 20000)
#   BENCH_RUNS     runs per figure, the median is printed (default 3)
#   BENCH_ONLY     comma-separated groups: ceiling,load,sync,backfill,rss,whatif
#   BENCH_GO       0 skips the go test -bench part
#   BENCH_COUNT    -count of go test -bench (default 6, what benchstat wants)
#   BENCH_OUT      directory to keep the raw output in (default: a temp dir, removed)
#   DEVPG_PORT     port of the throwaway PostgreSQL (default 54339)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/ratickets
[ -x "$bin" ] || { echo "bench: $bin missing: run make build (make bench does)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ratickets-bench-XXXXXX")
chmod 755 "$work"
out=${BENCH_OUT:-$work/out}
mkdir -p "$out"
export DEVPG_PORT=${DEVPG_PORT:-54339}
cleanup() {
  bash scripts/devpg.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work" # BENCH_OUT, when set, is elsewhere and kept
}
trap cleanup EXIT

# Settings: fsync, synchronous_commit and full_page_writes stay at their
# defaults (on), so the COPY ceiling is what the disk really allows. A larger
# max_wal_size keeps checkpoints out of the middle of a run (each run starts
# with an explicit CHECKPOINT instead); shared_buffers holds the 200k-ticket
# tables, as on any real server.
export DEVPG_OPTS="${DEVPG_OPTS:--c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_connections=50}"
echo "# starting PostgreSQL in $work/pg (port $DEVPG_PORT)" >&2
DATABASE_URL=$(bash scripts/devpg.sh start "$work/pg")
export DATABASE_URL

psql="$(bash scripts/ensure-postgres.sh)/psql"
q() { "$psql" "$DATABASE_URL" -XAtqc "$1"; }
echo "BENCH name=machine nproc=$(nproc) go=$(go env GOVERSION) postgres=$(q 'SHOW server_version' | cut -d' ' -f1) fsync=$(q 'SHOW fsync') synchronous_commit=$(q 'SHOW synchronous_commit') cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\""

go build -o "$work/benchtool" ./internal/benchtool
"$work/benchtool" -bin "$bin" \
  -tickets "${BENCH_TICKETS:-200000}" -small "${BENCH_SMALL:-20000}" -runs "${BENCH_RUNS:-3}" \
  ${BENCH_ONLY:+-only "$BENCH_ONLY"} | tee "$out/figures.txt"

if [ "${BENCH_GO:-1}" != 0 ]; then
  echo "# go test -bench (decode, transform, merge)" >&2
  # The merge benchmark uses this same PostgreSQL (fsync on) via the test harness.
  TEST_DATABASE_URL=$DATABASE_URL go test -run '^$' -bench . -benchmem -count "${BENCH_COUNT:-6}" \
    ./extract ./transform ./load | tee "$out/gobench.txt" | grep -E '^(Benchmark|goos|goarch|pkg|cpu)'
  if GOEXPERIMENT=jsonv2 go list encoding/json/v2 >/dev/null 2>&1; then
    echo "# encoding/json/v2 (GOEXPERIMENT=jsonv2) for comparison" >&2
    GOEXPERIMENT=jsonv2 go test -run '^$' -bench 'DecodersJSONv2' -benchmem -count "${BENCH_COUNT:-6}" ./transform \
      | tee "$out/gobench-jsonv2.txt" | grep -E '^Benchmark'
  fi
fi
