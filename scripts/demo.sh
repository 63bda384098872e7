#!/usr/bin/env bash
# make demo: the whole job end to end on the built-in simulator and a
# throwaway local PostgreSQL (or $DATABASE_URL when set). Runs `sync` twice:
# the second finds nothing to change.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/ratickets
work=$(mktemp -d "${TMPDIR:-/tmp}/ratickets-demo-XXXXXX")
chmod 755 "$work"
fake_pid=""
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  if [ -z "${DEMO_KEEP_DB:-}" ] && [ -z "${DATABASE_URL_GIVEN:-}" ]; then
    bash scripts/devpg.sh stop "$work/pg" || true
    rm -rf "$work"
  fi
}
trap cleanup EXIT

if [ -n "${DATABASE_URL:-}" ]; then
  DATABASE_URL_GIVEN=1
  echo "==> using DATABASE_URL from the environment"
else
  echo "==> starting a throwaway PostgreSQL in $work/pg"
  DATABASE_URL=$(bash scripts/devpg.sh start "$work/pg")
  export DATABASE_URL
fi
psql_cmd() { psql "$DATABASE_URL" -X -v ON_ERROR_STOP=1 "$@"; }

echo "==> starting the simulator (ratickets fakeapi)"
"$bin" fakeapi --listen 127.0.0.1:0 --tickets "${DEMO_TICKETS:-3000}" --seed 42 --start today --api-key demo-key >"$work/fakeapi.out" 2>"$work/fakeapi.err" &
fake_pid=$!
for i in $(seq 1 100); do
  url=$(grep -o 'http://[^ ]*' "$work/fakeapi.out" 2>/dev/null | head -1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "simulator did not start:"; cat "$work/fakeapi.err"; exit 1; }
echo "    $(cat "$work/fakeapi.out")"

export RA_BASE_URL="$url" RA_USERNAME=demo RA_API_KEY=demo-key RA_RPS=0
echo "==> ratickets sync (first run: everything is new)"
"$bin" sync --log-format console --log-level warn
echo "==> ratickets sync (second run: nothing changed, no row rewritten)"
"$bin" sync --log-format console --log-level warn

echo "==> ratickets backfill --all (every ticket in every state, leaderboard tickets too: v2, 100 a request)"
"$bin" backfill --all --log-format console --log-level warn

echo "==> what landed"
psql_cmd -c "SELECT ticketable_type, report_state, count(*) FROM tickets GROUP BY 1, 2 ORDER BY 1, 2"
psql_cmd -c "SELECT id, kind, api, status, tickets_seen, inserted, updated, unchanged, rejected, requests FROM sync_runs ORDER BY id"
psql_cmd -c "SELECT id, console_name, left(game_title, 30) AS game, report_type, hardcore, emulator, emulator_core, rom_hash, reported_at FROM tickets ORDER BY reported_at DESC LIMIT 5"
if "$bin" report --help >/dev/null 2>&1; then
  echo "==> ratickets report"
  "$bin" report --out report.html --log-level warn
  echo "    report written to $(pwd)/report.html"
fi
echo "==> demo done"
