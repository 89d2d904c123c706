#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds, starts and stops a Temporal dev server (`temporal server start-dev`, in memory, loopback
# only) for the local and cluster lanes.
#
#   scripts/temporal-server.sh ensure   build the pinned CLI into the cache (reused when present); print its path
#   scripts/temporal-server.sh start    ensure, start headless with the namespaces, wait until healthy, print host:port
#   scripts/temporal-server.sh stop     stop the server this script started (via its pid file)
#
# Environment: TEMPORAL_CACHE_DIR (default ~/.cache/org-integration/go/bin), TEMPORAL_PORT (17233),
# TEMPORAL_NAMESPACES (space-separated, default "integration"), TEMPORAL_START_TIMEOUT seconds (60),
# ORG_INTEGRATION_RUN_DIR (pid file and log; default <checkout>/.cluster). The dev server keeps its data in
# memory, so stopping it leaves nothing behind.
# v1.5.1 is pinned: later CLI versions carry a replace directive and cannot be `go install`ed.
set -euo pipefail

readonly CLI_VERSION="v1.5.1"
readonly CLI_MODULE="github.com/temporalio/cli"
readonly CACHE_DIR="${TEMPORAL_CACHE_DIR:-$HOME/.cache/org-integration/go/bin}"
readonly BIN="$CACHE_DIR/temporal"
PORT="${TEMPORAL_PORT:-17233}"
readonly START_TIMEOUT="${TEMPORAL_START_TIMEOUT:-60}"
NAME=temporal
PROCESS=temporal
# shellcheck source=lib/background-server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/background-server.sh"
run_files "temporal-$PORT"

# The build links the version in (as the upstream release does), so `temporal --version` tells the truth
# without Go; a binary built without it is still accepted when Go can read the module version it recorded.
binary_is_pinned() {
  [[ -x "$BIN" ]] || return 1
  if "$BIN" --version 2>/dev/null | grep -q "^temporal version ${CLI_VERSION#v} "; then
    return 0
  fi
  command -v go >/dev/null 2>&1 &&
    go version -m "$BIN" 2>/dev/null | grep -Eq "^[[:space:]]*mod[[:space:]]+${CLI_MODULE}[[:space:]]+${CLI_VERSION}([[:space:]]|$)"
}

cmd_ensure() {
  if ! binary_is_pinned; then
    command -v go >/dev/null 2>&1 || die "Go is required to build the Temporal CLI $CLI_VERSION (none on PATH)"
    mkdir -p "$CACHE_DIR"
    log "building the Temporal CLI $CLI_VERSION into $CACHE_DIR (first run only; takes a few minutes)"
    (cd "$CACHE_DIR" && GOBIN="$CACHE_DIR" go install -ldflags "-X $CLI_MODULE/temporalcli.Version=${CLI_VERSION#v}" \
      "$CLI_MODULE/cmd/temporal@$CLI_VERSION") >&2 ||
      die "go install of the Temporal CLI $CLI_VERSION failed"
    binary_is_pinned || die "$BIN was built but does not record $CLI_VERSION"
  fi
  printf '%s\n' "$BIN"
}

healthy() { "$BIN" operator cluster health --address "127.0.0.1:$PORT" 2>/dev/null | grep -q SERVING; }

cmd_start() {
  our_pid >/dev/null || cmd_ensure >/dev/null
  local namespaces=()
  for ns in ${TEMPORAL_NAMESPACES:-integration}; do namespaces+=(--namespace "$ns"); done
  start_in_background "$PORT" -- "$BIN" server start-dev --headless --ip 127.0.0.1 --port "$PORT" \
    "${namespaces[@]}" --log-level warn
  printf '127.0.0.1:%s\n' "$PORT"
}

case "${1:-}" in
ensure) cmd_ensure ;;
start) cmd_start ;;
stop) stop_background ;;
*)
  printf 'usage: %s {ensure|start|stop}\n' "$0" >&2
  exit 2
  ;;
esac
