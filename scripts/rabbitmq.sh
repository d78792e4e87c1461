#!/usr/bin/env bash
# A private, throw-away RabbitMQ broker for the RPC tests and benchmark:
#
#   scripts/rabbitmq.sh run COMMAND [ARG…]   start a broker in a temporary directory, run COMMAND with
#                                            NEUTRINO_TEST_RABBIT_URL=rabbit://guest:guest@127.0.0.1:PORT/
#                                            (and NEUTRINO_TEST_RABBIT_DIR), then stop it and remove the
#                                            directory, whatever COMMAND did; the exit status is COMMAND's
#   scripts/rabbitmq.sh start DIR            start (or start again, on the same node name and ports) the
#                                            broker kept in DIR; prints its URL, also written to DIR/url
#   scripts/rabbitmq.sh stop DIR             stop it and its epmd, by PID (DIR is kept: `start DIR` brings
#                                            the same node back on the same ports, as a broker restart)
#
# The node gets its own name, AMQP and distribution ports on 127.0.0.1, data and log directories, Erlang
# cookie (HOME=DIR), an empty plugin list, and its own epmd on a port of its own (ERL_EPMD_PORT), started
# here and stopped by PID, so nothing is shared with a system RabbitMQ or another run. It runs as the
# calling user (root in CI), not through Debian's wrapper that switches to the rabbitmq user.
#
# Without rabbitmq-server (Debian: apt-get install rabbitmq-server) it says so and exits 0, or fails
# when CI=true. RABBITMQ_BIN overrides where its scripts are looked for.
set -euo pipefail

usage() {
  echo "usage: $0 run COMMAND [ARG…] | start DIR | stop DIR" >&2
  exit 2
}
(($# >= 2)) || usage

RABBITMQ_BIN=${RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}
if [[ ! -x $RABBITMQ_BIN/rabbitmq-server ]] || ! command -v epmd >/dev/null; then
  if [[ ${CI:-} == true ]]; then
    echo "rabbitmq: rabbitmq-server not found in $RABBITMQ_BIN (apt-get install rabbitmq-server)" >&2
    exit 1
  fi
  echo "rabbitmq: RabbitMQ not installed (apt-get install rabbitmq-server): skipping ${*:1:1} ${*:2:1}…" >&2
  exit 0
fi

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
any_alive() {
  local p
  for p; do kill -0 "$p" 2>/dev/null && return 0; done
  return 1
}

# The environment of one node, read back from DIR/env on every start and stop.
node_env() {
  local dir=$1
  # shellcheck disable=SC1091
  . "$dir/env"
  export HOME=$dir
  export RABBITMQ_NODENAME=$NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_DIST_PORT=$DIST_PORT ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_PID_FILE=$dir/rabbit.pid
  export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf RABBITMQ_CONFIG_FILE=$dir/rabbitmq
  export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand
}

init_dir() {
  local dir=$1
  mkdir -p "$dir/mnesia" "$dir/log"
  [[ -f $dir/env ]] && return
  local id
  id=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  {
    echo "NODE=neutrino-$id@localhost"
    echo "AMQP_PORT=$(free_port)"
    echo "DIST_PORT=$(free_port)"
    echo "EPMD_PORT=$(free_port)"
  } >"$dir/env"
  : >"$dir/rabbitmq-env.conf"
  echo '[].' >"$dir/enabled_plugins"
  echo '[].' >"$dir/advanced.config"
  # Quiet, small and quick: no disk-space alarm on a nearly full /tmp, logs to a file only.
  printf '%s\n' 'disk_free_limit.absolute = 1MB' 'log.console = false' 'log.file.level = warning' \
    'vm_memory_high_watermark.relative = 0.8' >"$dir/rabbitmq.conf"
}

# Succeeds once the broker answers an AMQP 0-9-1 protocol header with its connection.start frame.
amqp_ready() {
  node -e '
    const s = require("net").connect(+process.argv[1], "127.0.0.1");
    const fail = () => process.exit(1);
    s.setTimeout(1000, fail); s.on("error", fail);
    s.on("connect", () => s.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1")));
    s.on("data", (d) => process.exit(d[0] === 1 ? 0 : 1));' "$1"
}

start() {
  local dir=$1
  init_dir "$dir"
  node_env "$dir"
  if alive "$dir/server.pid"; then
    echo "rabbit://guest:guest@127.0.0.1:$AMQP_PORT/"
    return
  fi
  if ! alive "$dir/epmd.pid"; then
    epmd -port "$EPMD_PORT" -address 127.0.0.1 >>"$dir/log/epmd.log" 2>&1 &
    echo $! >"$dir/epmd.pid"
  fi
  setsid "$RABBITMQ_BIN/rabbitmq-server" >>"$dir/log/server.out" 2>&1 </dev/null &
  echo $! >"$dir/server.pid"
  local deadline=$((SECONDS + 90))
  until amqp_ready "$AMQP_PORT"; do
    if ! alive "$dir/server.pid" || ((SECONDS > deadline)); then
      echo "rabbitmq: the broker did not start; its output:" >&2
      tail -n 40 "$dir/log/server.out" >&2 || true
      stop "$dir"
      return 1
    fi
    sleep 0.1
  done
  local url="rabbit://guest:guest@127.0.0.1:$AMQP_PORT/"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop() {
  local dir=$1
  [[ -f $dir/env ]] || return 0
  node_env "$dir"
  # SIGTERM is RabbitMQ's graceful stop (about a second; `rabbitmqctl stop` takes three), sent to the
  # Erlang VM by the PID it wrote, then to the launching shell; SIGKILL for whatever outlives 15 s.
  local pids=()
  alive "$dir/rabbit.pid" && pids+=("$(cat "$dir/rabbit.pid")")
  alive "$dir/server.pid" && pids+=("$(cat "$dir/server.pid")")
  if ((${#pids[@]})); then
    kill -TERM "${pids[0]}" 2>/dev/null || true
    for _ in $(seq 1 150); do
      any_alive "${pids[@]}" || break
      sleep 0.1
    done
    kill -9 "${pids[@]}" 2>/dev/null || true
  fi
  rm -f "$dir/server.pid" "$dir/rabbit.pid"
  if alive "$dir/epmd.pid"; then kill "$(cat "$dir/epmd.pid")" 2>/dev/null || true; fi
  rm -f "$dir/epmd.pid"
}

case $1 in
start) start "$2" ;;
stop) stop "$2" ;;
run)
  shift
  DIR=$(mktemp -d /tmp/neutrino-rabbit.XXXXXX)
  cleanup() {
    local rc=$?
    stop "$DIR" || true
    rm -rf "$DIR"
    exit "$rc"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  t0=$SECONDS
  NEUTRINO_TEST_RABBIT_URL=$(start "$DIR")
  export NEUTRINO_TEST_RABBIT_URL NEUTRINO_TEST_RABBIT_DIR=$DIR
  echo "rabbitmq: RabbitMQ on $NEUTRINO_TEST_RABBIT_URL (started in $((SECONDS - t0)) s; NEUTRINO_TEST_RABBIT_URL)" >&2
  "$@"
  ;;
*) usage ;;
esac
