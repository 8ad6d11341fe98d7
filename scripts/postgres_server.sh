#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the production instance profile
# (deploy/postgres/dagster.yaml): a fresh cluster in a temporary directory on 127.0.0.1 and a free
# port, nothing else on the machine touched.
#
#   eval "$(scripts/postgres_server.sh start)"   prints the DAGSTER_PG_* exports (and SALES360_PG_DATA)
#   scripts/postgres_server.sh stop "$SALES360_PG_DATA"   stops it and removes the directory
#
# Installs Debian's `postgresql` package when no server binaries are found (CI: a fresh machine,
# as root). initdb refuses to run as root, so as root the cluster belongs to the `postgres` user
# the package creates. Authentication is `trust`, which is why it listens on 127.0.0.1 only.
#
# Tests skip flushing to disk (fsync=off: a throwaway cluster). SALES360_PG_FSYNC=on keeps a
# production server's durability, for benchmarks that compare it with SQLite (which flushes its
# write-ahead log at every commit).
set -euo pipefail

find_bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    # Through any symlink (/usr/local/bin/pg_ctl): createdb lives beside the real binary.
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0
  fi
  # Debian keeps the server binaries out of PATH, one folder per major version: take the newest.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_installed() {
  if [ -z "$(find_bindir)" ]; then
    echo "postgres_server: installing Debian's postgresql package" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  find_bindir
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bindir port data
  local fsync=${SALES360_PG_FSYNC:-off}
  case "$fsync" in on|off) ;; *) echo "postgres_server: SALES360_PG_FSYNC must be on or off, not '$fsync'" >&2; exit 2 ;; esac
  bindir=$(ensure_installed)
  port=$(free_port)
  data=$(mktemp -d "${TMPDIR:-/tmp}/sales360-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres: "$data"
  as_owner "$bindir/initdb" -D "$data/cluster" -U dagster -A trust -E UTF8 --no-locale >"$data/initdb.log" 2>&1 || {
    cat "$data/initdb.log" >&2; exit 1; }
  # The socket goes into the cluster's own directory, so no system socket folder is needed.
  as_owner "$bindir/pg_ctl" -D "$data/cluster" -l "$data/cluster/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $data/cluster -c fsync=$fsync" start >&2
  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U dagster dagster || { stop "$data"; exit 1; }
  cat <<VARS
export DAGSTER_PG_HOST=127.0.0.1
export DAGSTER_PG_PORT=$port
export DAGSTER_PG_USERNAME=dagster
export DAGSTER_PG_PASSWORD=
export DAGSTER_PG_DB=dagster
export SALES360_PG_DATA=$data
VARS
}

stop() {
  local data=${1:?usage: postgres_server.sh stop DATA_DIR}
  local bindir
  bindir=$(find_bindir)
  as_owner "$bindir/pg_ctl" -D "$data/cluster" -m fast -w stop >&2 || true
  rm -rf "$data"
}

case "${1:-}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  *) sed -n '2,15p' "$0"; exit 2 ;;
esac
