export { declareService, implementationsOf, type ServiceDeclaration } from "./declaration.js";
export type {
  ClientOf,
  ClientsOf,
  Dependency,
  DependencyContext,
  DependencyHandle,
  DependencyMap,
  EnvironmentVariables,
} from "./dependency.js";
export {
  createIntegrationEnvironment,
  type IntegrationEnvironment,
  type IntegrationEnvironmentOptions,
} from "./environment.js";
export { isTestSupportError, TestSupportError, type TestSupportErrorCode } from "./errors.js";
export { HandleGroup } from "./handle-group.js";
export { type HttpOptions, type HttpUpstream, http } from "./http/http.js";
export {
  INTEGRATION_MODE_VARIABLE,
  INTEGRATION_MODES,
  type IntegrationMode,
  integrationModeFrom,
  parseIntegrationMode,
} from "./mode.js";
export {
  createStoreClient,
  type OpenFgaDependencyClient,
  type OpenFgaOptions,
  openfga,
} from "./openfga/openfga.js";
export { type Migration, readMigrations } from "./postgres/migrations.js";
export {
  type PostgresClient,
  type PostgresEngine,
  type PostgresOptions,
  postgres,
} from "./postgres/postgres.js";
export { looksLikeTestDatabase } from "./postgres/safety.js";
export { redactTarget } from "./redact.js";
export { type RedisClient, type RedisOptions, redis } from "./redis/redis.js";
export { resolveArtifactsDir, type TelemetryEvent, type TelemetrySink } from "./telemetry.js";
export type { StubCall, StubWorkflowBehaviour, StubWorkflowContext, TemporalStub } from "./temporal/stub.js";
export {
  TEMPORAL_CLI_VARIABLE,
  type TemporalClient,
  type TemporalOptions,
  type TemporalWorkflowClient,
  temporal,
  uniqueWorkflowId,
} from "./temporal/temporal.js";
export {
  bundleWorkflows,
  type RunningWorker,
  runTemporalWorker,
  temporalBundleCacheDir,
  type WorkflowBundle,
} from "./temporal/worker.js";
