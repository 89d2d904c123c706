#!/usr/bin/env bash
# Lints .github/workflows with actionlint, pinned and built from its Go module into the same cache as the
# servers, with shellcheck over every `run:` block (actionlint skips that silently when shellcheck is
# missing, so its absence is an error here). .ci/run and the GitHub freshness job both call this script.
#
#   bash scripts/actionlint.sh [actionlint arguments]
set -euo pipefail
readonly ACTIONLINT_VERSION="v1.7.12"
readonly CACHE_DIR="${ACTIONLINT_CACHE_DIR:-$HOME/.cache/org-integration/go/bin}"
readonly BIN="$CACHE_DIR/actionlint"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "actionlint: shellcheck is not installed, so run: blocks would go unchecked; install it (apt-get install shellcheck, brew install shellcheck)" >&2
  exit 1
fi
if [[ ! -x "$BIN" ]] || [[ "$("$BIN" -version 2>/dev/null | head -n 1)" != "$ACTIONLINT_VERSION" ]]; then
  command -v go >/dev/null 2>&1 || {
    echo "actionlint: Go is required to build actionlint $ACTIONLINT_VERSION (none on PATH)" >&2
    exit 1
  }
  mkdir -p "$CACHE_DIR"
  echo "actionlint: building $ACTIONLINT_VERSION into $CACHE_DIR" >&2
  (cd "$CACHE_DIR" && GOBIN="$CACHE_DIR" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION") >&2
fi
exec "$BIN" -shellcheck "$(command -v shellcheck)" "$@"
