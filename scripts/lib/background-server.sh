# shellcheck shell=bash
# Shared by scripts/*-server.sh and scripts/service.sh: run one server binary in the background on
# 127.0.0.1, tracked by a pid file keyed by its port, started once, waited for until a probe answers, and
# stopped only if it is ours. The caller sets NAME, PROCESS (the binary's process name), PORT, START_TIMEOUT
# and defines `healthy` (a probe that succeeds once the server answers); `run_files <name>-<port>` sets
# PID_FILE and LOG_FILE in the checkout's run folder.

# Pid files and logs live in the checkout that started the server (ORG_INTEGRATION_RUN_DIR, default
# <checkout>/.cluster), never in a temp folder shared by every clone on the machine.
RUN_DIR="${ORG_INTEGRATION_RUN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.cluster}"

run_files() {
  mkdir -p "$RUN_DIR/logs"
  PID_FILE="$RUN_DIR/$1.pid"
  LOG_FILE="$RUN_DIR/logs/$1.log"
}

log() { printf '%s-server: %s\n' "$NAME" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# The pid from our pid file, if that process is alive AND is our binary; a stale file may name an
# unrelated process, which must never be signalled.
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(ps -o comm= -p "$pid" 2>/dev/null || true)" == "$PROCESS"* ]] || return 1
  printf '%s\n' "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

log_tail() {
  if [[ -f "$LOG_FILE" ]]; then
    log "last lines of $LOG_FILE:"
    tail -n 40 "$LOG_FILE" >&2 || true
  fi
}

# start_in_background PORT... -- COMMAND...: refuses ports someone else holds, starts COMMAND detached
# (setsid, so a CI step killing its job group does not take it down), waits until `healthy`.
start_in_background() {
  local ports=()
  while [[ "$1" != "--" ]]; do
    ports+=("$1")
    shift
  done
  shift
  local pid
  if pid="$(our_pid)"; then
    healthy && {
      log "already running (pid $pid)"
      return 0
    }
    log "pid $pid is running but does not answer yet; waiting for it"
  else
    rm -f "$PID_FILE"
    for port in "${ports[@]}"; do
      port_in_use "$port" && die "port 127.0.0.1:$port is in use by a process this script did not start; choose other ports"
    done
    local launcher=()
    command -v setsid >/dev/null 2>&1 && launcher=(setsid)
    "${launcher[@]}" "$@" </dev/null >"$LOG_FILE" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$PID_FILE"
    log "started pid $pid, log $LOG_FILE"
  fi
  local started=$SECONDS
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log_tail
      die "$NAME exited before answering"
    fi
    if ((SECONDS - started > START_TIMEOUT)); then
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      log_tail
      die "$NAME did not answer within ${START_TIMEOUT}s"
    fi
    sleep 0.5
  done
  log "ready (pid $pid)"
}

stop_background() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    log "not running (no live pid file at $PID_FILE)"
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
  log "stopped (pid $pid); its log stays at $LOG_FILE until the next bring-up"
}
