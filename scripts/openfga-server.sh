#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds, starts and stops a real OpenFGA server (memory datastore, loopback only) for CI and laptops,
# so the conformance runner and `cluster`-mode suites have the genuine article to compare against.
#
#   scripts/openfga-server.sh ensure   build the pinned version into the cache (reused when present)
#   scripts/openfga-server.sh start    ensure, start in the background, wait for /healthz, print the URL
#   scripts/openfga-server.sh stop     stop the server this script started (via its pid file)
#   scripts/openfga-server.sh url      print the URL
#
# Environment: OPENFGA_CACHE_DIR (default ~/.cache/org-integration/go/bin), OPENFGA_HTTP_PORT
# (18080), OPENFGA_GRPC_PORT (18081), OPENFGA_START_TIMEOUT seconds (60), ORG_INTEGRATION_RUN_DIR (where the
# pid file and log go; default <checkout>/.cluster). Only ever binds 127.0.0.1.
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

NAME=openfga
PROCESS=openfga
# shellcheck source=lib/background-server.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/background-server.sh"
# Keyed by port so several instances can coexist in one checkout.
run_files "openfga-$HTTP_PORT"

# `go install` leaves the version as "dev" unless it is linked in, so also accept the module version
# the Go toolchain recorded in the binary (that is how the existing cache entry was built).
binary_is_pinned() {
  [[ -x "$BIN" ]] || return 1
  if "$BIN" version 2>&1 | grep -q "${OPENFGA_VERSION#v}"; then
    return 0
  fi
  command -v go >/dev/null 2>&1 &&
    go version -m "$BIN" 2>/dev/null | grep -Eq "^[[:space:]]*mod[[:space:]]+${OPENFGA_MODULE}[[:space:]]+${OPENFGA_VERSION}([[:space:]]|$)"
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

healthy() {
  curl --silent --fail --max-time 2 "$URL/healthz" 2>/dev/null | grep -q SERVING
}

cmd_start() {
  command -v curl >/dev/null 2>&1 || die "curl is required to probe $URL/healthz"
  our_pid >/dev/null || cmd_ensure >/dev/null
  start_in_background "$HTTP_PORT" "$GRPC_PORT" -- "$BIN" run \
    --datastore-engine memory \
    --http-addr "$HOST:$HTTP_PORT" \
    --grpc-addr "$HOST:$GRPC_PORT" \
    --playground-enabled=false \
    --metrics-enabled=false \
    --log-format text \
    --log-level info
  printf '%s\n' "$URL"
}

case "${1:-}" in
ensure) cmd_ensure ;;
start) cmd_start ;;
stop) stop_background ;;
url) printf '%s\n' "$URL" ;;
*)
  printf 'usage: %s {ensure|start|stop|url}\n' "$0" >&2
  exit 2
  ;;
esac
