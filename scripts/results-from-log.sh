#!/usr/bin/env bash
# Unpacks the results the in-cluster runner prints at the end of its log (deploy/runner/entrypoint.sh with
# INTEGRATION_RESULTS_TO_LOG=1) into <out>/<shard>/: JUnit, summary.json and events of every shard.
#
#   kubectl logs -l job-name=<job> --tail=-1 --max-log-requests=<shards> | bash scripts/results-from-log.sh artifacts
#   bash scripts/results-from-log.sh artifacts pod-1.log pod-2.log
#
# Then `pnpm exec tsx packages/test-support/src/cli/ci-summary.ts artifacts` sums them. Exits 1 when the log
# holds no archive (the pod did not get that far, or ran without INTEGRATION_RESULTS_TO_LOG).
set -euo pipefail

out="${1:?usage: results-from-log.sh <out-dir> [log-file]...}"
shift
mkdir -p "$out"
found=0
label=""
payload=""
while IFS= read -r line || [[ -n "$line" ]]; do
  if [[ "$line" =~ ^-----\ integration-results\ ([a-z0-9-]+)\ begin\ -----$ ]]; then
    label="${BASH_REMATCH[1]}"
    payload=""
  elif [[ -n "$label" && "$line" == "----- integration-results $label end -----" ]]; then
    mkdir -p "$out/$label"
    printf '%s' "$payload" | base64 -d | tar -C "$out/$label" -xzf -
    printf 'results-from-log: %s -> %s/%s\n' "$label" "$out" "$label" >&2
    found=$((found + 1))
    label=""
  elif [[ -n "$label" ]]; then
    payload+="$line"
  fi
done < <(if (($# > 0)); then cat "$@"; else cat; fi)

if ((found == 0)); then
  printf 'results-from-log: no results archive in the log (was INTEGRATION_RESULTS_TO_LOG=1, and did the run finish?)\n' >&2
  exit 1
fi
