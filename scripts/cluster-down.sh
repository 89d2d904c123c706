#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh started from this checkout, using the servers and ports it recorded in
# .cluster/cluster.env (or ORG_INTEGRATION_RUN_DIR). The logs stay in .cluster/logs/ until the next bring-up
# replaces them, so a failed run can still be read (and uploaded by CI).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ORG_INTEGRATION_RUN_DIR="${ORG_INTEGRATION_RUN_DIR:-$ROOT/.cluster}"
STATE="$ORG_INTEGRATION_RUN_DIR/cluster.env"
if [[ ! -f "$STATE" ]]; then
  printf 'cluster-down: nothing to stop (no %s)\n' "$STATE" >&2
  exit 0
fi
CLUSTER_SERVERS=""
set -a
# shellcheck disable=SC1090
. "$STATE"
set +a
status=0
# Services first, in the reverse of their start order, then the servers they used.
for svc in workflows threads llm platform; do
  port_var="$(printf '%s' "$svc" | tr '[:lower:]' '[:upper:]')_PORT"
  [[ -n "${!port_var:-}" ]] || continue
  bash "$ROOT/scripts/service.sh" "$svc" stop || status=1
done
if [[ -n "${TEMPORAL_PORT:-}" ]]; then bash "$ROOT/scripts/temporal-server.sh" stop || status=1; fi
if [[ -n "${OPENFGA_HTTP_PORT:-}" ]]; then bash "$ROOT/scripts/openfga-server.sh" stop || status=1; fi
rm -f "$STATE"
printf 'cluster-down: stopped %s\n' "${CLUSTER_SERVERS:-nothing}" >&2
exit "$status"
