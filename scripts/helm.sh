#!/usr/bin/env bash
# Builds the pinned Helm from its Go module into the same cache as the other servers, and runs it, so the
# chart's tests need no Helm installed on the machine.
#
#   scripts/helm.sh ensure      build the pinned version into the cache (reused when present); print its path
#   scripts/helm.sh <args>...   ensure, then run helm with <args>
#
# Environment: HELM_CACHE_DIR (default ~/.cache/org-integration/go/bin).
# Machine-readable output (the binary path) goes to stdout; progress goes to stderr.
set -euo pipefail

readonly HELM_VERSION="v3.22.0"
readonly HELM_MODULE="helm.sh/helm/v3"
readonly CACHE_DIR="${HELM_CACHE_DIR:-$HOME/.cache/org-integration/go/bin}"
readonly BIN="$CACHE_DIR/helm"

log() { printf 'helm: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# The version is linked in (as Helm's own release build does), so `helm version` tells the truth; the
# module version Go recorded in the binary is the check that needs no flag.
binary_is_pinned() {
  [[ -x "$BIN" ]] || return 1
  "$BIN" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"
}

cmd_ensure() {
  if binary_is_pinned; then
    printf '%s\n' "$BIN"
    return 0
  fi
  command -v go >/dev/null 2>&1 || die "Go is required to build Helm $HELM_VERSION (none on PATH)"
  mkdir -p "$CACHE_DIR"
  log "building Helm $HELM_VERSION into $CACHE_DIR (first run only; takes a few minutes)"
  # Outside the repo, so no go.mod/go.work here interferes; GOBIN keeps the binary out of the checkout.
  (cd "$CACHE_DIR" && GOBIN="$CACHE_DIR" CGO_ENABLED=0 go install \
    -ldflags "-X $HELM_MODULE/internal/version.version=$HELM_VERSION" \
    "$HELM_MODULE/cmd/helm@$HELM_VERSION") >&2 || die "go install of Helm $HELM_VERSION failed"
  binary_is_pinned || die "$BIN was built but does not report $HELM_VERSION"
  printf '%s\n' "$BIN"
}

case "${1:-}" in
ensure) cmd_ensure ;;
"" | -h | --help)
  printf 'usage: %s ensure | <helm arguments>...\n' "$0" >&2
  exit 2
  ;;
*)
  cmd_ensure >/dev/null
  exec "$BIN" "$@"
  ;;
esac
