#!/usr/bin/env bash
# Brings up what cluster mode needs on this machine, on free loopback ports, and prints every variable the
# selected suites (and doctor) read as KEY=value lines on stdout (appended to $GITHUB_ENV when set).
#
#   bash scripts/cluster-up.sh [--for <package>]... > .env.integration
#
# With --for (repeatable, e.g. --for @org/threads) it starts only what those packages' declarations need,
# plus what the started services need themselves; without it, everything. It never starts PostgreSQL or
# Redis: it checks that they answer (PG_URL, REDIS_URL; defaults below) and creates the database when it is
# missing. It starts a real OpenFGA and a Temporal dev server (built from their Go modules into
# ~/.cache/org-integration/go/bin on first use), then the built reference services and the deterministic
# chat-completions provider. If any step fails it stops what it started and exits non-zero. Its state, pid
# files and logs are in this checkout (.cluster/, or ORG_INTEGRATION_RUN_DIR); scripts/cluster-down.sh stops
# it all. Progress goes to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export ORG_INTEGRATION_RUN_DIR="${ORG_INTEGRATION_RUN_DIR:-$ROOT/.cluster}"
RUN_DIR="$ORG_INTEGRATION_RUN_DIR"
STATE="$RUN_DIR/cluster.env"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/integration_test}"
REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"
NAMESPACE=integration

say() { printf 'cluster-up: %s\n' "$*" >&2; }
usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

packages=()
while (($# > 0)); do
  case "$1" in
  --for)
    [[ $# -ge 2 && -n "$2" ]] || { say "--for needs a package name, e.g. --for @org/threads"; exit 2; }
    packages+=("$2")
    shift 2
    ;;
  --for=*)
    packages+=("${1#--for=}")
    shift
    ;;
  -h | --help) usage ;;
  *)
    say "unknown argument $1"
    usage
    ;;
  esac
done

mkdir -p "$RUN_DIR/logs"
if [[ -f "$STATE" ]]; then
  say "a bring-up of this checkout is still recorded in $STATE; stopping it first"
  bash "$ROOT/scripts/cluster-down.sh" >&2
fi
# The previous run's logs go (a server still running from this checkout keeps its own), so the folder
# holds one run's logs and never grows.
for old_log in "$RUN_DIR"/logs/*.log; do
  [[ -e "$old_log" ]] || continue
  [[ -f "$RUN_DIR/$(basename "$old_log" .log).pid" ]] || rm -f "$old_log"
done

# Stop whatever this run started if a later step fails, so a retry never finds orphans.
on_exit() {
  local status=$?
  if ((status != 0)) && [[ -f "$STATE" ]]; then
    say "bring-up failed (exit $status); stopping what it started. Logs: $RUN_DIR/logs/"
    bash "$ROOT/scripts/cluster-down.sh" >&2 || true
  fi
  exit "$status"
}
trap on_exit EXIT

for_args=()
for package in "${packages[@]+"${packages[@]}"}"; do for_args+=(--for "$package"); done

say "building the selected packages (turbo; cached when nothing changed)"
build_filters=()
if ((${#packages[@]} > 0)); then
  for package in "${packages[@]}"; do build_filters+=("--filter=$package..."); done
else
  build_filters+=("--filter=./services/*...")
fi
pnpm exec turbo run build --output-logs=errors-only "${build_filters[@]}" >&2

plan=$(node --import tsx packages/test-support/src/cli/cluster-plan.ts servers "${for_args[@]+"${for_args[@]}"}")
servers=()
variables=()
while read -r kind name; do
  case "$kind" in
  server) servers+=("$name") ;;
  variable) variables+=("$name") ;;
  esac
done <<<"$plan"
wants() { [[ " ${servers[*]} " == *" $1 "* ]]; }
say "starting: ${servers[*]}"

# Ports the OS says are free, so a server left on a usual port cannot break the run.
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
# What cluster-down.sh reads: the ports and the servers, recorded before anything starts.
record() { printf '%s\n' "$@" >>"$STATE"; }
: >"$STATE"
record "CLUSTER_SERVERS=\"${servers[*]}\""

if wants postgres; then
  node --import tsx packages/test-support/src/cli/cluster-plan.ts database "$PG_URL"
fi
if wants redis; then
  node --import tsx packages/test-support/src/cli/cluster-plan.ts redis "$REDIS"
fi

FGA_URL="" TEMPORAL_ADDR="" TEMPORAL_CLI="" PLATFORM_URL="" LLM_URL="" THREADS_URL="" WORKFLOWS_URL=""
if wants openfga; then
  export OPENFGA_HTTP_PORT="${OPENFGA_HTTP_PORT:-$(free_port)}" OPENFGA_GRPC_PORT="${OPENFGA_GRPC_PORT:-$(free_port)}"
  record "OPENFGA_HTTP_PORT=$OPENFGA_HTTP_PORT"
  FGA_URL=$(bash scripts/openfga-server.sh start)
fi
if wants temporal; then
  export TEMPORAL_PORT="${TEMPORAL_PORT:-$(free_port)}" TEMPORAL_NAMESPACES="$NAMESPACE"
  record "TEMPORAL_PORT=$TEMPORAL_PORT"
  TEMPORAL_CLI=$(bash scripts/temporal-server.sh ensure)
  TEMPORAL_ADDR=$(bash scripts/temporal-server.sh start)
fi
start_service() {
  local name=$1 port_var
  port_var="$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')_PORT"
  export "$port_var=${!port_var:-$(free_port)}"
  record "$port_var=${!port_var}"
  shift
  env "$@" bash scripts/service.sh "$name" start
}
if wants platform; then
  PLATFORM_URL=$(start_service platform PLATFORM_DATABASE_URL="$PG_URL" FGA_API_URL="$FGA_URL")
fi
if wants llm; then
  LLM_URL=$(start_service llm SERVICE_ENTRY="$ROOT/services/threads/dist/provider-main.js")
fi
if wants threads; then
  # THREADS_RATE_LIMIT matches RATE_LIMIT in services/threads/tests/integration/threads.test.ts.
  THREADS_URL=$(start_service threads THREADS_DATABASE_URL="$PG_URL" REDIS_URL="$REDIS" \
    PLATFORM_GRPC_URL="$PLATFORM_URL" LLM_BASE_URL="$LLM_URL" THREADS_RATE_LIMIT=8)
fi
if wants workflows; then
  WORKFLOWS_URL=$(start_service workflows WORKFLOWS_DATABASE_URL="$PG_URL" TEMPORAL_ADDRESS="$TEMPORAL_ADDR" \
    TEMPORAL_NAMESPACE="$NAMESPACE" THREADS_GRPC_URL="$THREADS_URL")
fi

lines=()
for variable in "${variables[@]}"; do
  case "$variable" in
  *_DATABASE_URL | DATABASE_URL) value=$PG_URL ;;
  REDIS_URL) value=$REDIS ;;
  FGA_API_URL) value=$FGA_URL ;;
  TEMPORAL_ADDRESS) value=$TEMPORAL_ADDR ;;
  TEMPORAL_NAMESPACE) value=$NAMESPACE ;;
  TEMPORAL_CLI_PATH) value=$TEMPORAL_CLI ;;
  PLATFORM_GRPC_URL) value=$PLATFORM_URL ;;
  THREADS_GRPC_URL) value=$THREADS_URL ;;
  WORKFLOWS_GRPC_URL) value=$WORKFLOWS_URL ;;
  LLM_BASE_URL) value=$LLM_URL ;;
  *)
    say "no value for $variable; packages/test-support/src/cli/cluster-plan.ts and this script disagree"
    exit 1
    ;;
  esac
  lines+=("$variable=$value")
done
printf '%s\n' "${lines[@]}"
if [[ -n "${GITHUB_ENV:-}" ]]; then printf '%s\n' "${lines[@]}" >>"$GITHUB_ENV"; fi
say "up: ${servers[*]}; stop with bash scripts/cluster-down.sh"
