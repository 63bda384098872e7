#!/usr/bin/env bash
# A throwaway PostgreSQL for the demo and the benchmarks.
#   scripts/devpg.sh start DIR   initdb into DIR (if needed), start, print a DATABASE_URL
#   scripts/devpg.sh stop DIR    stop it
# Runs the server as the 'postgres' OS user when invoked as root (initdb
# refuses root). Listens on a unix socket in DIR only.
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?data directory}
bindir=$(bash "$(dirname "$0")/ensure-postgres.sh")
mkdir -p "$dir"; dir=$(cd "$dir" && pwd)
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
port=${DEVPG_PORT:-54329}
case "$cmd" in
start)
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; chmod 700 "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if ! as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-k $dir -p $port -c listen_addresses='' ${DEVPG_OPTS:-}" start >/dev/null \
      || { cat "$dir/postgres.log" >&2; exit 1; }
  fi
  for i in $(seq 1 50); do
    if "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -Atqc \
    "select 1 from pg_database where datname='ratickets'" | grep -q 1 \
    || "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -qc "create database ratickets" >/dev/null
  echo "postgres:///ratickets?host=$dir&port=$port&user=postgres&sslmode=disable"
  ;;
stop)
  if [ -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
