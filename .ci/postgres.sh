#!/usr/bin/env bash
# Install (if needed) and start a throwaway PostgreSQL server for the server tests.
#
# Prints one line on stdout: a connection URL for HEADWATER_TEST_POSTGRES_URL, e.g.
#   postgresql+asyncpg://postgres@127.0.0.1:54329/headwater_test
# Everything else goes to stderr. The cluster lives in a temp dir (PGDATA, socket, log);
# stop it with: .ci/postgres.sh stop   (reads the dir from $TMPDIR/headwater-ci-postgres.dir).
# Needs root (apt-get) or an existing PostgreSQL install with pg_ctl/initdb.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${HEADWATER_CI_PG_PORT:-54329}"
DB="headwater_test"
STATE_FILE="${TMPDIR:-/tmp}/headwater-ci-postgres.dir"

find_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
}

as_pg() {
  # initdb/postgres refuse to run as root: run them as the postgres user when we are root.
  if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

if [ "${1:-}" = "stop" ]; then
  BIN="$(find_bin)"
  if [ -f "$STATE_FILE" ]; then
    dir="$(cat "$STATE_FILE")"
    as_pg "'$BIN/pg_ctl' -D '$dir/data' -m fast stop" >&2 || true
    rm -rf "$dir" "$STATE_FILE"
  fi
  exit 0
fi

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
  echo "installing postgresql (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

# Reuse a server this script started earlier, if it still answers.
if [ -f "$STATE_FILE" ] && [ -d "$(cat "$STATE_FILE")/data" ]; then
  dir="$(cat "$STATE_FILE")"
  if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "postgresql+asyncpg://postgres@127.0.0.1:${PORT}/${DB}"
    exit 0
  fi
  rm -rf "$dir"
fi

dir="$(mktemp -d /tmp/headwater-pg.XXXXXX)"
chmod 755 "$dir"
[ "$(id -u)" = "0" ] && chown postgres "$dir"
echo "$dir" > "$STATE_FILE"

as_pg "'$BIN/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --no-sync" >&2
# Tuned for throwaway test data: no durability needed.
as_pg "'$BIN/pg_ctl' -D '$dir/data' -l '$dir/log' -w -t 30 \
  -o \"-p $PORT -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off \
       -c synchronous_commit=off -c full_page_writes=off -c max_connections=200\" start" >&2
as_pg "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres $DB" >&2

echo "postgresql+asyncpg://postgres@127.0.0.1:${PORT}/${DB}"
