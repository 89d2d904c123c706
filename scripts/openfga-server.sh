#!/usr/bin/env bash
# Builds, starts and stops a real OpenFGA server (memory datastore, loopback only) for CI and laptops,
# so the conformance runner and `cluster`-mode suites have the genuine article to compare against.
#
#   scripts/openfga-server.sh ensure   build the pinned version into the cache (reused when present)
#   scripts/openfga-server.sh start    ensure, start in the background, wait for /healthz, print the URL
#   scripts/openfga-server.sh stop     stop the server this script started (via its pid file)
#   scripts/openfga-server.sh url      print the URL
#
# Environment: OPENFGA_CACHE_DIR (default ~/.cache/org-integration/go/bin), OPENFGA_HTTP_PORT
# (18080), OPENFGA_GRPC_PORT (18081), OPENFGA_START_TIMEOUT seconds (60). Only ever binds 127.0.0.1.
# Machine-readable output (the binary path, the URL) goes to stdout; progress goes to stderr.
set -euo pipefail

readonly OPENFGA_VERSION="v1.18.1"
readonly OPENFGA_MODULE="github.com/openfga/openfga"
readonly CACHE_DIR="${OPENFGA_CACHE_DIR:-$HOME/.cache/org-integration/go/bin}"
readonly BIN="$CACHE_DIR/openfga"
readonly HTTP_PORT="${OPENFGA_HTTP_PORT:-18080}"
readonly GRPC_PORT="${OPENFGA_GRPC_PORT:-18081}"
readonly START_TIMEOUT="${OPENFGA_START_TIMEOUT:-60}"
readonly HOST="127.0.0.1"
readonly URL="http://$HOST:$HTTP_PORT"
# Keyed by port so several instances (say, one per worktree) can coexist, and named so they never
# collide with another tool's generic openfga.pid.
readonly RUN_DIR="${TMPDIR:-/tmp}"
readonly PID_FILE="$RUN_DIR/org-integration-openfga-$HTTP_PORT.pid"
readonly LOG_FILE="$RUN_DIR/org-integration-openfga-$HTTP_PORT.log"

log() { printf 'openfga-server: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# `go install` leaves the version as "dev" unless it is linked in, so also accept the module version
# the Go toolchain recorded in the binary (that is how the existing cache entry was built).
binary_is_pinned() {
  [[ -x "$BIN" ]] || return 1
  if "$BIN" version 2>&1 | grep -q "${OPENFGA_VERSION#v}"; then
    return 0
  fi
  command -v go >/dev/null 2>&1 &&
    go version -m "$BIN" 2>/dev/null | grep -Eq "^[[:space:]]*mod[[:space:]]+$OPENFGA_MODULE[[:space:]]+$OPENFGA_VERSION([[:space:]]|$)"
}

cmd_ensure() {
  if binary_is_pinned; then
    printf '%s\n' "$BIN"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "Go is required to build OpenFGA $OPENFGA_VERSION (none on PATH)"
  mkdir -p "$CACHE_DIR"
  log "building OpenFGA $OPENFGA_VERSION into $CACHE_DIR (first run only; takes a few minutes)"
  # Run outside the repo so no go.mod/go.work here can interfere; GOBIN keeps the binary out of it too.
  # The -X flag is what the upstream release build sets, so `openfga version` tells the truth.
  (cd "$CACHE_DIR" && GOBIN="$CACHE_DIR" GOFLAGS="${GOFLAGS:-}" go install \
    -ldflags "-X $OPENFGA_MODULE/internal/build.Version=$OPENFGA_VERSION" \
    "$OPENFGA_MODULE/cmd/openfga@$OPENFGA_VERSION") >&2 || die "go install of OpenFGA $OPENFGA_VERSION failed"
  binary_is_pinned || die "$BIN was built but does not report $OPENFGA_VERSION"
  printf '%s\n' "$BIN"
}

# The pid from our pid file, if that process is still alive AND is an openfga process; otherwise
# nothing (a stale file after a reboot may name an unrelated process that must never be signalled).
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(ps -o comm= -p "$pid" 2>/dev/null || true)" == openfga* ]] || return 1
  printf '%s\n' "$pid"
}

healthy() {
  curl --silent --fail --max-time 2 "$URL/healthz" 2>/dev/null | grep -q SERVING
}

port_in_use() {
  # bash's /dev/tcp needs no extra tools; a successful connect means something is listening.
  (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

log_tail() {
  if [[ -f "$LOG_FILE" ]]; then
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 || true
  fi
}

cmd_start() {
  command -v curl >/dev/null 2>&1 || die "curl is required to probe $URL/healthz"
  local pid
  if pid="$(our_pid)"; then
    if healthy; then
      log "already running (pid $pid)"
      printf '%s\n' "$URL"
      return 0
    fi
    log "pid $pid is running but $URL/healthz does not answer; waiting for it"
  else
    rm -f "$PID_FILE"
    for port in "$HTTP_PORT" "$GRPC_PORT"; do
      port_in_use "$port" &&
        die "port $HOST:$port is already in use by a process this script did not start; set OPENFGA_HTTP_PORT/OPENFGA_GRPC_PORT"
    done
    cmd_ensure >/dev/null
    log "starting OpenFGA $OPENFGA_VERSION on $URL (gRPC $HOST:$GRPC_PORT), log $LOG_FILE"
    # setsid detaches the server from the caller's process group so a CI step that kills its job
    # group does not take the server down mid-run; it execs (no fork) here, so $! is the server's pid.
    local launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    "${launcher[@]}" "$BIN" run \
      --datastore-engine memory \
      --http-addr "$HOST:$HTTP_PORT" \
      --grpc-addr "$HOST:$GRPC_PORT" \
      --playground-enabled=false \
      --metrics-enabled=false \
      --log-format text \
      --log-level info \
      </dev/null >"$LOG_FILE" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
  fi

  # SECONDS ticks in whole seconds, so compare with ">" to never wait less than the timeout.
  local started=$SECONDS
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log_tail
      die "OpenFGA exited before answering $URL/healthz"
    fi
    if ((SECONDS - started > START_TIMEOUT)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      log_tail
      die "OpenFGA did not answer $URL/healthz within ${START_TIMEOUT}s"
    fi
    sleep 0.5
  done
  log "ready (pid $pid)"
  printf '%s\n' "$URL"
}

cmd_stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    log "not running on port $HTTP_PORT (no live pid file at $PID_FILE)"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 10s; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped (pid $pid)"
}

case "${1:-}" in
ensure) cmd_ensure ;;
start) cmd_start ;;
stop) cmd_stop ;;
url) printf '%s\n' "$URL" ;;
*)
  printf 'usage: %s {ensure|start|stop|url}\n' "$0" >&2
  exit 2
  ;;
esac
