#!/usr/bin/env bash
# make bench: measures ratickets against the limits of this machine (see
# BENCHMARKS.md). Starts its own PostgreSQL (fsync stays on), then:
#   - internal/benchtool: the built binary end to end against the in-process
#     simulator, and the request figures of v2 and v1 (in process, no
#     database); one "BENCH name=… key=value …" line per figure;
#   - go test -bench: the loader figures (BenchmarkLoad in ./load: COPY
#     ceiling, merge of new and of unchanged rows) and the micro-benchmarks of
#     extract, transform and load, in benchstat format.
#
# Environment:
#   BENCH_TICKETS  tickets in the large world, also BenchmarkLoad's (default 200000)
#   BENCH_SMALL    tickets in the small world, for memory growth (default 20000)
#   BENCH_RUNS     runs per end-to-end figure, the median is printed (default 3)
#   BENCH_ONLY     comma-separated groups: sync, backfill, rss, requests (benchtool;
#                  requests alone needs no PostgreSQL and starts none);
#                  load (BenchmarkLoad; ceiling and whatif mean load too);
#                  micro (the other go benchmarks). Default: all
#   BENCH_GO       0 skips the go test -bench part
#   BENCH_COUNT    -count of go test -bench (default 6, what benchstat wants)
#   BENCH_OUT      directory to keep the raw output in (default: a temp dir, removed)
#   DEVPG_PORT     port of the throwaway PostgreSQL (default 54339)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/ratickets
[ -x "$bin" ] || { echo "bench: $bin missing: run make build (make bench does)" >&2; exit 1; }

only=, o=${BENCH_ONLY:-}
for g in ${o//,/ }; do
  case $g in ceiling|whatif) g=load ;; esac # older names
  case $g in sync|backfill|rss|requests|load|micro) only+=$g, ;; *) echo "bench: BENCH_ONLY: unknown group $g" >&2; exit 2 ;; esac
done
[ "$only" != , ] || only=,sync,backfill,rss,requests,load,micro,
want() { [[ $only == *",$1,"* ]]; }
tool=""
for g in sync backfill rss requests; do want $g && tool+=${tool:+,}$g; done
gobench=""
if [ "${BENCH_GO:-1}" != 0 ] && { want load || want micro; }; then gobench=1; fi
needpg=$gobench
for g in sync backfill rss; do want $g && needpg=1; done

work=$(mktemp -d "${TMPDIR:-/tmp}/ratickets-bench-XXXXXX")
chmod 755 "$work"
out=${BENCH_OUT:-$work/out}
mkdir -p "$out"
export DEVPG_PORT=${DEVPG_PORT:-54339}
cleanup() {
  [ -z "$needpg" ] || bash scripts/devpg.sh stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work" # BENCH_OUT, when set, is elsewhere and kept
}
trap cleanup EXIT
cpu="cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\""

# Settings: fsync, synchronous_commit and full_page_writes stay at their
# defaults (on), so the COPY ceiling is what the disk really allows. A larger
# max_wal_size keeps checkpoints out of the middle of a run (each run starts
# with an explicit CHECKPOINT instead); shared_buffers holds the 200k-ticket
# tables, as on any real server.
if [ -n "$needpg" ]; then
  export DEVPG_OPTS="${DEVPG_OPTS:--c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c max_connections=50}"
  echo "# starting PostgreSQL in $work/pg (port $DEVPG_PORT)" >&2
  DATABASE_URL=$(bash scripts/devpg.sh start "$work/pg")
  export DATABASE_URL

  psql="$(bash scripts/ensure-postgres.sh)/psql"
  q() { "$psql" "$DATABASE_URL" -XAtqc "$1"; }
  echo "BENCH name=machine nproc=$(nproc) go=$(go env GOVERSION) postgres=$(q 'SHOW server_version' | cut -d' ' -f1) fsync=$(q 'SHOW fsync') synchronous_commit=$(q 'SHOW synchronous_commit') $cpu"
else
  echo "BENCH name=machine nproc=$(nproc) go=$(go env GOVERSION) $cpu"
fi

if [ -n "$tool" ]; then
  go build -o "$work/benchtool" ./internal/benchtool
  "$work/benchtool" -bin "$bin" -only "$tool" \
    -tickets "${BENCH_TICKETS:-200000}" -small "${BENCH_SMALL:-20000}" -runs "${BENCH_RUNS:-3}" | tee "$out/figures.txt"
fi

if [ -n "$gobench" ]; then
  # Both use this same PostgreSQL (fsync on) through the test harness.
  export TEST_DATABASE_URL=$DATABASE_URL
  gobench() { go test -run '^$' -benchmem -count "${BENCH_COUNT:-6}" "$@"; }
  : >"$out/gobench.txt"
  if want load; then
    echo "# go test -bench Load ./load (loader figures, ${BENCH_TICKETS:-200000} tickets)" >&2
    RATICKETS_BENCH_TICKETS=${BENCH_TICKETS:-200000} gobench -bench '^BenchmarkLoad$' ./load \
      | tee -a "$out/gobench.txt" | grep -E '^Benchmark'
  fi
  if want micro; then
    echo "# go test -bench (decode, transform, merge)" >&2
    gobench -bench . -skip '^BenchmarkLoad$' ./extract ./transform ./load \
      | tee -a "$out/gobench.txt" | grep -E '^(Benchmark|goos|goarch|pkg|cpu)'
    if GOEXPERIMENT=jsonv2 go list encoding/json/v2 >/dev/null 2>&1 && grep -q DecodersJSONv2 transform/*_test.go 2>/dev/null; then
      echo "# encoding/json/v2 (GOEXPERIMENT=jsonv2) for comparison" >&2
      GOEXPERIMENT=jsonv2 gobench -bench 'DecodersJSONv2' ./transform | tee "$out/gobench-jsonv2.txt" | grep -E '^Benchmark'
    fi
  fi
fi
