#!/usr/bin/env bash
# Makes sure PostgreSQL server binaries are installed; prints their directory.
# Installs Debian's 'postgresql' package when they are missing and we are root;
# otherwise says exactly what to install.
set -euo pipefail
find_bindir() {
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then echo "$PG_BINDIR"; return 0; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  done
  return 1
}
if dir=$(find_bindir); then echo "$dir"; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "PostgreSQL server binaries missing: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  # Debian's package may start a cluster of its own; ours are separate.
  if dir=$(find_bindir); then echo "$dir"; exit 0; fi
fi
echo "PostgreSQL server binaries not found. Install them (Debian/Ubuntu: sudo apt-get install postgresql)" >&2
echo "or point DATABASE_URL at a server you have." >&2
exit 1
