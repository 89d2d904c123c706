#!/usr/bin/env bash
# The runner image's entrypoint: runs `pnpm test:integration` in the mode INTEGRATION_MODE names, on the
# shard of an Indexed Job (JOB_COMPLETION_INDEX i of INTEGRATION_SHARDS n becomes --shard i+1/n), and prints
# the results at the end of the log. It refuses to start without a valid mode: the chart requires one too,
# and this is the same rule for a pod started any other way (defence in depth).
#
# Environment: INTEGRATION_MODE (required: repo, local or cluster), INTEGRATION_SHARDS (default 1),
# JOB_COMPLETION_INDEX (set by Kubernetes for an Indexed Job), INTEGRATION_RESULTS_TO_LOG (1: print the
# artifacts as a base64 tar.gz between markers; scripts/results-from-log.sh unpacks them),
# INTEGRATION_WORKDIR (the checkout, default /app), INTEGRATION_RUNNER_COMMAND (default
# "pnpm test:integration"). Arguments are passed on to the runner (the chart passes --filter per service).
set -euo pipefail

refuse() {
  printf '[integration-runner] refusing to start: %s\n' "$*" >&2
  exit 2
}

if [[ -z "${INTEGRATION_MODE+set}" ]]; then
  refuse "INTEGRATION_MODE is not set. Set it to repo, local or cluster (the chart's mode value); no mode is ever assumed."
fi
case "$INTEGRATION_MODE" in
repo | local | cluster) ;;
*) refuse "INTEGRATION_MODE=\"$INTEGRATION_MODE\" is not a mode. Allowed values are repo, local, cluster (exact, lower case)." ;;
esac

shards="${INTEGRATION_SHARDS:-1}"
if ! [[ "$shards" =~ ^[0-9]{1,2}$ ]] || ((10#$shards < 1 || 10#$shards > 64)); then
  refuse "INTEGRATION_SHARDS=\"$shards\" must be a whole number from 1 to 64."
fi
shards=$((10#$shards))
shard_args=()
label="whole"
if [[ -n "${JOB_COMPLETION_INDEX:-}" ]]; then
  if ! [[ "$JOB_COMPLETION_INDEX" =~ ^[0-9]{1,2}$ ]] || ((10#$JOB_COMPLETION_INDEX >= shards)); then
    refuse "JOB_COMPLETION_INDEX=\"$JOB_COMPLETION_INDEX\" is not an index below INTEGRATION_SHARDS=$shards."
  fi
  if ((shards > 1)); then
    index=$((10#$JOB_COMPLETION_INDEX + 1))
    shard_args=(--shard "$index/$shards")
    label="shard-$index-of-$shards"
  fi
elif ((shards > 1)); then
  refuse "INTEGRATION_SHARDS=$shards needs JOB_COMPLETION_INDEX (run it as an Indexed Job, as the chart does)."
fi

cd "${INTEGRATION_WORKDIR:-/app}"
read -r -a runner <<<"${INTEGRATION_RUNNER_COMMAND:-pnpm test:integration}"
printf '[integration-runner] %s mode, %s: %s\n' "$INTEGRATION_MODE" "$label" "${runner[*]} $* ${shard_args[*]}" >&2
status=0
"${runner[@]}" "$@" "${shard_args[@]}" || status=$?

if [[ "${INTEGRATION_RESULTS_TO_LOG:-0}" == 1 && -d artifacts ]]; then
  # The pod's log is the one place every cluster can give results back from; the markers let
  # scripts/results-from-log.sh find each shard's archive among the runner's output.
  printf '\n----- integration-results %s begin -----\n' "$label"
  tar -C artifacts -czf - . | base64 -w 76
  printf -- '----- integration-results %s end -----\n' "$label"
fi
exit "$status"
