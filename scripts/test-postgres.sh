#!/usr/bin/env bash
# Runs a command against a private, throw-away PostgreSQL cluster:
#
#   scripts/test-postgres.sh COMMAND [ARG…]
#
# initdb's a cluster in a temporary directory (as the `postgres` user when run as root, since
# PostgreSQL refuses to run as root), starts it with pg_ctl on a free port of 127.0.0.1 and its own
# unix-socket directory, trust authentication, no fsync (test data only), then runs COMMAND with
# NEUTRINO_TEST_DB=postgresql://postgres@127.0.0.1:PORT/postgres. Each test server makes its own
# database there (test/helpers.ts). The cluster is stopped and its directory removed on exit,
# whatever COMMAND did; the exit status is COMMAND's.
#
# Without PostgreSQL's server binaries (Debian: apt-get install postgresql) it says so and exits 0,
# or fails when CI=true. PG_BIN overrides where they are looked for.
set -euo pipefail

if (($# == 0)); then
  echo "usage: $0 COMMAND [ARG…]" >&2
  exit 2
fi

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)}
if [[ -z $PG_BIN || ! -x $PG_BIN/initdb ]]; then
  if [[ ${CI:-} == true ]]; then
    echo "test-postgres: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "test-postgres: PostgreSQL not installed (apt-get install postgresql): skipping the PostgreSQL run" >&2
  exit 0
fi

as_pg=()
if ((EUID == 0)); then as_pg=(runuser -u postgres --); fi

DIR=$(mktemp -d /tmp/neutrino-pg.XXXXXX)
chmod 755 "$DIR"
if ((EUID == 0)); then chown postgres: "$DIR"; fi

cleanup() {
  local rc=$?
  if [[ -f $DIR/data/postmaster.pid ]]; then
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

"${as_pg[@]}" "$PG_BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --no-locale -E UTF8 >"$DIR/initdb.log" 2>&1 || {
  cat "$DIR/initdb.log" >&2
  exit 1
}

started=
for _ in 1 2 3 4 5; do
  PORT=$(free_port)
  if "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null; then
    started=yes
    break
  fi
done
if [[ -z $started ]]; then
  echo "test-postgres: the PostgreSQL server did not start:" >&2
  cat "$DIR/server.log" >&2 || true
  exit 1
fi

export NEUTRINO_TEST_DB="postgresql://postgres@127.0.0.1:$PORT/postgres"
echo "test-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (NEUTRINO_TEST_DB=$NEUTRINO_TEST_DB)" >&2
"$@"
