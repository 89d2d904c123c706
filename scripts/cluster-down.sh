#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh started, using the ports it recorded.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${TMPDIR:-/tmp}/org-integration-cluster.env"
[[ -f "$STATE" ]] || exit 0
set -a
# shellcheck disable=SC1090
. "$STATE"
set +a
for svc in workflows threads llm platform; do bash "$ROOT/scripts/service.sh" "$svc" stop || true; done
bash "$ROOT/scripts/openfga-server.sh" stop || true
bash "$ROOT/scripts/temporal-server.sh" stop || true
rm -f "$STATE"
