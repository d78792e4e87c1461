#!/usr/bin/env bash
# A private, throwaway OpenStack Keystone for tests: Debian 12's `keystone` (Zed) served by uwsgi
# (`uwsgi-plugin-python3`) on 127.0.0.1:PORT, all of its state (SQLite database, fernet and credential
# keys, config, logs, pidfile) in DIR. Nothing is read from or written to /etc/keystone or /var/lib/keystone.
#
# Usage:
#   scripts/keystone.sh start DIR [PORT [NETWORK_URL]]   PORT defaults to 5000; with NETWORK_URL, registers the
#                                                        `network` service (Neutrino) in the catalog
#   scripts/keystone.sh endpoint DIR NETWORK_URL         (re)register the `network` endpoint of a running Keystone
#   scripts/keystone.sh stop DIR                         stop it (by its PID) and delete what start wrote in DIR
#
# What start creates (Default domain, region RegionOne):
#   admin   / $KEYSTONE_ADMIN_PASSWORD   (default admin-secret)   admin on project admin (keystone-manage bootstrap)
#   neutron / $KEYSTONE_SERVICE_PASSWORD (default neutron-secret) admin on project service
#   alice, bob, rita / $KEYSTONE_USER_PASSWORD (default user-secret):
#     alice member on alpha, bob member on beta, rita reader on alpha
#   roles admin, member, reader (bootstrap creates them: admin implies member implies reader)
# and writes DIR/admin-openrc (source it to use `openstack` as admin).
#
# Start is all-or-nothing: on any failure it stops what it started and removes its files (the logs are
# printed first). Test settings: bcrypt password_hash_rounds = 4, one uwsgi process with an in-memory
# cache (coherent, so a revoked token is refused at once).
# KEYSTONE_SH_KEEP=1 keeps a failed start's processes and files for a post-mortem (then run stop).
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [PORT [NETWORK_URL]] | endpoint DIR NETWORK_URL | stop DIR" >&2
  exit 2
}

CMD=${1:-}
DIR=${2:-}
[[ -n $CMD && -n $DIR ]] || usage
[[ $DIR == /* ]] || DIR="$(pwd)/$DIR"

ADMIN_PW=${KEYSTONE_ADMIN_PASSWORD:-admin-secret}
SERVICE_PW=${KEYSTONE_SERVICE_PASSWORD:-neutron-secret}
USER_PW=${KEYSTONE_USER_PASSWORD:-user-secret}
# Debian's python (keystone's); a pyenv or venv python3 earlier on PATH would do for the stdlib-only
# helper below, but there is no reason to depend on it.
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3

# Every file start writes, so stop removes exactly these.
STATE_FILES=(keystone.conf keystone.db keystone.db-journal keystone.db-wal keystone.db-shm uwsgi.ini uwsgi.pid
  uwsgi.log keystone.log manage.log admin-openrc port)
STATE_DIRS=(fernet-keys credential-keys)

# Keystone's REST API from a stdlib-only Python helper: one process for all the setup calls (the
# `openstack` CLI costs ~1.5 s of start-up per call). Reads the admin password from the environment.
api() {
  # The admin password this Keystone was started with (the endpoint subcommand runs in another shell).
  [[ ! -f $DIR/admin-openrc ]] || ADMIN_PW=$(. "$DIR/admin-openrc" && printf %s "$OS_PASSWORD")
  KS_URL="http://127.0.0.1:$(cat "$DIR/port")/v3" KS_ADMIN_PW="$ADMIN_PW" KS_SERVICE_PW="$SERVICE_PW" \
    KS_USER_PW="$USER_PW" "$PY" - "$@" <<'PY'
import json, os, sys, urllib.error, urllib.request

base = os.environ["KS_URL"]

def call(method, path, body=None, token=None, expect=(200, 201, 204), headers=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    if status not in expect:
        sys.exit(f"keystone.sh: {method} {path} -> {status}: {raw[:500]!r}")
    return headers, (json.loads(raw) if raw else None)

def admin_token():
    h, _ = call("POST", "/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": os.environ["KS_ADMIN_PW"]}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    return h["X-Subject-Token"]

def setup(tok):
    # A fresh database: bootstrap made the Default domain, project admin and roles admin, member, reader.
    _, j = call("GET", "/roles", token=tok)
    roles = {r["name"]: r["id"] for r in j["roles"]}
    missing = {"admin", "member", "reader"} - roles.keys()
    if missing:
        sys.exit(f"keystone.sh: bootstrap did not create the roles {sorted(missing)}")
    project_names = ("service", "alpha", "beta")
    user_pw = os.environ["KS_USER_PW"]
    users = {"neutron": os.environ["KS_SERVICE_PW"], "alice": user_pw, "bob": user_pw, "rita": user_pw}
    projects = {p: call("POST", "/projects", {"project": {"name": p, "domain_id": "default"}}, token=tok)[1]["project"]["id"]
                for p in project_names}
    uid = {u: call("POST", "/users", {"user": {"name": u, "domain_id": "default", "password": pw}}, token=tok)[1]["user"]["id"]
           for u, pw in users.items()}
    for u, p, r in (("neutron", "service", "admin"), ("alice", "alpha", "member"),
                    ("bob", "beta", "member"), ("rita", "alpha", "reader")):
        call("PUT", f"/projects/{projects[p]}/users/{uid[u]}/roles/{roles[r]}", token=tok)

def endpoint(tok, url):
    _, j = call("GET", "/services?type=network", token=tok)
    if j["services"]:
        sid = j["services"][0]["id"]
        _, j = call("GET", f"/endpoints?service_id={sid}", token=tok)
        for e in j["endpoints"]:
            call("DELETE", f"/endpoints/{e['id']}", token=tok)
    else:
        _, s = call("POST", "/services", {"service": {"type": "network", "name": "neutron",
                                                      "description": "OpenStack Networking (Neutrino)"}}, token=tok)
        sid = s["service"]["id"]
    for i in ("public", "internal", "admin"):
        call("POST", "/endpoints", {"endpoint": {"service_id": sid, "interface": i, "url": url, "region_id": "RegionOne"}},
             token=tok)

def warm_up(tok):
    # The worker imports much of Keystone lazily on its first token validation (seconds on a busy
    # machine): pay that here, not in the first request of a client with a short timeout.
    call("GET", "/auth/tokens", token=tok, headers={"X-Subject-Token": tok})

tok = admin_token()
if sys.argv[1] == "setup":
    setup(tok)
    warm_up(tok)
elif sys.argv[1] == "endpoint":
    endpoint(tok, sys.argv[2])
PY
}

# Answers GET /v3 within the deadline (seconds)?
wait_up() {
  "$PY" - "http://127.0.0.1:$1/v3" "$2" <<'PY'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}

alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

stop() {
  if [[ -f $DIR/uwsgi.pid ]]; then
    local master children pid
    master=$(tr -dc 0-9 <"$DIR/uwsgi.pid")
    # Only our uwsgi: the pidfile's process must be a uwsgi whose command line names our ini.
    if alive "$master" && grep -qF "$DIR/uwsgi.ini" "/proc/$master/cmdline" 2>/dev/null; then
      children=$(ps -o pid= --ppid "$master" 2>/dev/null || true)
      kill -INT "$master" 2>/dev/null || true # uwsgi master: SIGINT = immediate shutdown of master and workers
      for _ in $(seq 1 50); do alive "$master" || break; sleep 0.1; done
      alive "$master" && kill -KILL "$master" 2>/dev/null
      for pid in $children; do
        for _ in $(seq 1 20); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -KILL "$pid" 2>/dev/null
      done
    fi
  fi
  local f
  for f in "${STATE_FILES[@]}"; do rm -f "${DIR:?}/$f"; done
  for f in "${STATE_DIRS[@]}"; do rm -rf "${DIR:?}/$f"; done
  rmdir "$DIR" 2>/dev/null || true
}

start() {
  local port=${1:-5000} net_url=${2:-}
  for tool in keystone-manage uwsgi; do
    command -v "$tool" >/dev/null || {
      echo "keystone.sh: $tool is not installed (apt-get install keystone uwsgi-plugin-python3)" >&2
      exit 1
    }
  done
  if [[ -f $DIR/uwsgi.pid ]] && alive "$(tr -dc 0-9 <"$DIR/uwsgi.pid")"; then
    echo "keystone.sh: a Keystone already runs from $DIR (pid $(cat "$DIR/uwsgi.pid")); stop it first" >&2
    exit 1
  fi
  if ! "$PY" -c 'import socket, sys; socket.create_server(("127.0.0.1", int(sys.argv[1]))).close()' "$port" 2>/dev/null; then
    echo "keystone.sh: 127.0.0.1:$port is not free" >&2
    exit 1
  fi
  mkdir -p "$DIR"
  stop # leftovers of an earlier run; recreates nothing
  mkdir -p "$DIR" "$DIR/fernet-keys" "$DIR/credential-keys"
  chmod 700 "$DIR/fernet-keys" "$DIR/credential-keys"
  echo "$port" >"$DIR/port"
  trap 'rc=$?; if ((rc)); then echo "keystone.sh: start failed (exit $rc)" >&2; \
    for l in manage.log uwsgi.log keystone.log; do [[ -f $DIR/$l ]] && { echo "--- $l" >&2; tail -n 40 "$DIR/$l" >&2; }; done; \
    [[ -n ${KEYSTONE_SH_KEEP:-} ]] || stop; fi' EXIT

  cat >"$DIR/keystone.conf" <<CONF
[DEFAULT]
debug = false
log_file = $DIR/keystone.log
use_stderr = false
[database]
connection = sqlite:///$DIR/keystone.db
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = $DIR/fernet-keys
[credential]
key_repository = $DIR/credential-keys
[identity]
# tests only: cheap bcrypt (the default 12 rounds costs ~0.3 s of CPU per password check)
password_hash_rounds = 4
[cache]
# Without a cache, Keystone Zed computes a token's roles a dozen times per validation: ~500 SQL
# queries and over a second of CPU each. The in-process memory cache is coherent because a single
# uwsgi process serves everything (a revocation, an endpoint change invalidate it at once).
enabled = true
backend = dogpile.cache.memory
CONF

  local km=(keystone-manage --config-file "$DIR/keystone.conf")
  local user group
  user=$(id -un)
  group=$(id -gn)
  {
    # The key repositories do not touch the database: set them up while db_sync runs.
    "${km[@]}" fernet_setup --keystone-user "$user" --keystone-group "$group" &
    local fernet=$!
    "${km[@]}" credential_setup --keystone-user "$user" --keystone-group "$group" &
    local credential=$!
    "${km[@]}" db_sync
    # WAL (before anything else opens the database): readers never block the writer (bootstrap runs
    # while uwsgi loads), and a reader's open transaction cannot hold off another connection's commit.
    "$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0])' \
      "$DIR/keystone.db"
    wait "$fernet"
    wait "$credential"
  } >"$DIR/manage.log" 2>&1

  cat >"$DIR/uwsgi.ini" <<INI
[uwsgi]
plugins = python3
http-socket = 127.0.0.1:$port
# http-socket closes every connection after the response without saying so: clients (requests,
# keystoneauth, undici) would reuse the socket and get 'Connection reset by peer'. Tell them.
add-header = Connection: close
wsgi-file = /usr/bin/keystone-wsgi-public
env = OS_KEYSTONE_CONFIG_FILES=$DIR/keystone.conf
master = true
# One process: the memory cache above is per process. One thread: with SQLite, Keystone's connections
# (SQLAlchemy NullPool) get finalised from other threads under uwsgi threads, leaving transactions open
# and the database locked. Cached, a token validation costs ~15 ms of CPU: one worker is plenty for tests.
processes = 1
threads = 1
enable-threads = true
lazy-apps = true
buffer-size = 65535
listen = 100
die-on-term = true
no-orphans = true
chdir = $DIR
pidfile = $DIR/uwsgi.pid
disable-logging = true
INI
  # uwsgi's workers take seconds to load Keystone and touch no table until the first request:
  # bootstrap meanwhile.
  uwsgi --ini "$DIR/uwsgi.ini" --daemonize2 "$DIR/uwsgi.log" >/dev/null 2>&1
  "${km[@]}" bootstrap --bootstrap-password "$ADMIN_PW" --bootstrap-username admin \
    --bootstrap-project-name admin --bootstrap-role-name admin --bootstrap-service-name keystone \
    --bootstrap-region-id RegionOne --bootstrap-admin-url "http://127.0.0.1:$port/v3" \
    --bootstrap-internal-url "http://127.0.0.1:$port/v3" --bootstrap-public-url "http://127.0.0.1:$port/v3" \
    >>"$DIR/manage.log" 2>&1
  if ! wait_up "$port" 90 || ! alive "$(tr -dc 0-9 <"$DIR/uwsgi.pid" 2>/dev/null)"; then
    echo "keystone.sh: Keystone did not answer on http://127.0.0.1:$port/v3 within 90 s" >&2
    exit 1
  fi

  cat >"$DIR/admin-openrc" <<RC
export OS_AUTH_URL=http://127.0.0.1:$port/v3
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$(printf %q "$ADMIN_PW")
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_INTERFACE=public
RC
  api setup
  [[ -z $net_url ]] || api endpoint "$net_url"
  trap - EXIT
  echo "keystone up on http://127.0.0.1:$port/v3 (pid $(cat "$DIR/uwsgi.pid"), state in $DIR)"
}

case $CMD in
  start) start "${3:-}" "${4:-}" ;;
  endpoint)
    [[ -n ${3:-} && -f $DIR/port ]] || usage
    api endpoint "$3"
    ;;
  stop) stop ;;
  *) usage ;;
esac
