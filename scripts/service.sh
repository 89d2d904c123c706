#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Starts or stops one built reference service (services/<name>, `node dist/main.js`) on 127.0.0.1, with
# the dependencies its environment names, and waits until its /healthz answers over HTTP/2.
#
#   scripts/service.sh <name> start   needs <NAME>_PORT and the service's own variables; prints its URL
#   scripts/service.sh <name> stop
# scripts/cluster-up.sh --for @org/<name> starts a service with everything it needs; use this script
# directly only when its dependencies already run.
# SERVICE_ENTRY runs another built file than services/<name>/dist/main.js (e.g. a companion process).
set -euo pipefail

SERVICE="${1:?usage: scripts/service.sh <name> start|stop}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR_PREFIX="$(printf '%s' "$SERVICE" | tr '[:lower:]-' '[:upper:]_')"
PORT_VAR="${VAR_PREFIX}_PORT"
PORT="${!PORT_VAR:?set $PORT_VAR}"
NAME="$SERVICE"
PROCESS=node
START_TIMEOUT="${SERVICE_START_TIMEOUT:-60}"
# shellcheck source=lib/background-server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/background-server.sh"
run_files "service-$SERVICE-$PORT"

ENTRY="${SERVICE_ENTRY:-$ROOT/services/$SERVICE/dist/main.js}"
# The services speak cleartext HTTP/2; a companion process may speak HTTP/1.1.
healthy() {
  curl --silent --fail --max-time 2 --http2-prior-knowledge "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 ||
    curl --silent --fail --max-time 2 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1
}

case "${2:-}" in
start)
  [[ -f "$ENTRY" ]] || die "$ENTRY is not built (pnpm exec turbo run build --filter='./services/*')"
  start_in_background "$PORT" -- node "$ENTRY"
  printf 'http://127.0.0.1:%s\n' "$PORT"
  ;;
stop) stop_background ;;
*)
  printf 'usage: %s <name> start|stop\n' "$0" >&2
  exit 2
  ;;
esac
