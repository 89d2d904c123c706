#!/usr/bin/env bash
# Brings up everything the cluster lane needs besides PostgreSQL and Redis, on free loopback ports: a
# real OpenFGA and a Temporal dev server (built from their Go modules into a cache outside the clone),
# then the built reference services and the deterministic provider. Prints the variables the lanes
# read as KEY=value lines (and appends them to $GITHUB_ENV when set); scripts/cluster-down.sh stops it all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE="${TMPDIR:-/tmp}/org-integration-cluster.env"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/integration_test}"
REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"

# Ports the OS says are free, so a server left on a usual port cannot break the run.
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
export OPENFGA_HTTP_PORT=${OPENFGA_HTTP_PORT:-$(free_port)} OPENFGA_GRPC_PORT=${OPENFGA_GRPC_PORT:-$(free_port)}
export TEMPORAL_PORT=${TEMPORAL_PORT:-$(free_port)} TEMPORAL_NAMESPACES="integration"
export PLATFORM_PORT=${PLATFORM_PORT:-$(free_port)} LLM_PORT=${LLM_PORT:-$(free_port)}
export THREADS_PORT=${THREADS_PORT:-$(free_port)} WORKFLOWS_PORT=${WORKFLOWS_PORT:-$(free_port)}
# The ports first, so cluster-down.sh can stop whatever started even if a later step fails.
printf '%s\n' "OPENFGA_HTTP_PORT=$OPENFGA_HTTP_PORT" "TEMPORAL_PORT=$TEMPORAL_PORT" "PLATFORM_PORT=$PLATFORM_PORT" \
  "LLM_PORT=$LLM_PORT" "THREADS_PORT=$THREADS_PORT" "WORKFLOWS_PORT=$WORKFLOWS_PORT" >"$STATE"

FGA_URL=$(bash scripts/openfga-server.sh start)
TEMPORAL_CLI=$(bash scripts/temporal-server.sh ensure)
TEMPORAL_ADDR=$(bash scripts/temporal-server.sh start)
pnpm exec turbo run build --filter='./services/*' >&2
PLATFORM_URL=$(PLATFORM_DATABASE_URL=$PG_URL FGA_API_URL=$FGA_URL bash scripts/service.sh platform start)
LLM_URL=$(SERVICE_ENTRY="$ROOT/services/threads/dist/provider-main.js" bash scripts/service.sh llm start)
THREADS_URL=$(THREADS_DATABASE_URL=$PG_URL REDIS_URL=$REDIS PLATFORM_GRPC_URL=$PLATFORM_URL \
  LLM_BASE_URL=$LLM_URL THREADS_RATE_LIMIT=8 bash scripts/service.sh threads start)
WORKFLOWS_URL=$(WORKFLOWS_DATABASE_URL=$PG_URL TEMPORAL_ADDRESS=$TEMPORAL_ADDR TEMPORAL_NAMESPACE=integration \
  THREADS_GRPC_URL=$THREADS_URL bash scripts/service.sh workflows start)

variables=(
  "TEST_SUPPORT_DATABASE_URL=$PG_URL"
  "REDIS_URL=$REDIS"
  "FGA_API_URL=$FGA_URL"
  "TEMPORAL_ADDRESS=$TEMPORAL_ADDR"
  "TEMPORAL_NAMESPACE=integration"
  "TEMPORAL_CLI_PATH=$TEMPORAL_CLI"
  "PLATFORM_GRPC_URL=$PLATFORM_URL"
  "THREADS_GRPC_URL=$THREADS_URL"
  "WORKFLOWS_GRPC_URL=$WORKFLOWS_URL"
)
printf '%s\n' "${variables[@]}"
if [[ -n "${GITHUB_ENV:-}" ]]; then printf '%s\n' "${variables[@]}" >>"$GITHUB_ENV"; fi
