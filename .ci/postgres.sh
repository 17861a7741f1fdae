#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on 127.0.0.1 for the test suite and print its URL.
# Usage: eval "$(.ci/postgres.sh)"   -> exports TEST_DATABASE_URL
#        export SPREEKUUR_PG_DB=other; eval "$(.ci/postgres.sh)"   -> a database of its own
set -euo pipefail

PGPORT="${SPREEKUUR_PG_PORT:-54329}"
PGDIR="${SPREEKUUR_PG_DIR:-/tmp/spreekuur-pg}"
# Several checkouts can share the server, each with a database of its own.
PGDB="${SPREEKUUR_PG_DB:-spreekuur_test}"

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  else
    echo "PostgreSQL server not installed (Debian: apt-get install postgresql)" >&2
    exit 1
  fi
fi

# initdb refuses to run as root: run the server as the postgres user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
  rm -rf "$PGDIR"
  mkdir -p "$PGDIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"
  as_owner "$bindir/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2
  as_owner "$bindir/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >&2
fi
"$bindir/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$PGDB'" | grep -q 1 ||
  "$bindir/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres "$PGDB" >&2
echo "export TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$PGPORT/$PGDB"
