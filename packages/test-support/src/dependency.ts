import type { IntegrationMode } from "./mode.js";

/** A read-only view of environment variables (process.env or a map given to the factory). */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** What the factory tells a dependency when it builds it. */
export interface DependencyContext {
  /** The service whose suite this is, e.g. "platform". */
  readonly service: string;
  /** The key of this dependency in `dependencies`, e.g. "db". */
  readonly name: string;
  readonly mode: IntegrationMode;
  /** One id per test run (INTEGRATION_RUN_ID or a ULID per process), lower case. */
  readonly runId: string;
  /** One id per environment, lower case; names what this environment owns (schemas, key prefixes). */
  readonly instanceId: string;
  /** The test worker this process is (Vitest pool id, Jest worker id, or the pid). */
  readonly workerId: string;
  readonly env: EnvironmentVariables;
  /** How long connecting may take; the factory enforces it too. */
  readonly connectTimeoutMs: number;
  /**
   * How long set-up after connecting (migrations, model writes) may take. A builder calls
   * `connected()` once it has reached its server; from then on the factory applies this bound instead.
   */
  readonly setupTimeoutMs: number;
  /**
   * How long any one operation the dependency performs or hands out may take (a query, a command, a
   * request, a reset, a close). Builders pass it to their drivers (statement_timeout, commandTimeout,
   * request timeouts); the factory enforces it on reset and close.
   */
  readonly operationTimeoutMs: number;
  /** Aborted when the connect or set-up bound has passed, so a builder can stop early. */
  readonly signal: AbortSignal;
  /** Tells the factory the server answered: the connect bound ends and the set-up bound starts. */
  connected(): void;
}

/** A built dependency: its client and its lifecycle. */
export interface DependencyHandle<TClient> {
  readonly client: TClient;
  /** What was built, e.g. "pg-mem" or "pg". */
  readonly implementation: string;
  /** Where it points, with secrets removed. */
  readonly target: string;
  /** Puts the dependency back to its state right after set-up, touching only what this run owns. */
  reset(): Promise<void>;
  /** Releases everything the handle holds and removes what the run created. */
  close(): Promise<void>;
}

/** The contract every dependency kind implements; builders such as `postgres({...})` return one. */
export interface Dependency<TClient> {
  /** The kind, e.g. "postgres". */
  readonly kind: string;
  /** The variables `cluster` mode needs; all are checked before anything connects. */
  readonly variables: readonly string[];
  /** How long `local` may take to start its engine; the factory's bound in local mode is the larger of this and connectTimeoutMs. */
  readonly startTimeoutMs?: number;
  /** The redacted target `live` would connect to, read from the variables. */
  describeTarget(env: EnvironmentVariables): string;
  /** Builds the in-process double (`repo`, and `local` unless `local` is given). */
  double(context: DependencyContext): Promise<DependencyHandle<TClient>>;
  /** Builds the `local` variant (an ephemeral local engine); defaults to the double. */
  local?(context: DependencyContext): Promise<DependencyHandle<TClient>>;
  /** Connects to the live service (`cluster`). */
  live(context: DependencyContext): Promise<DependencyHandle<TClient>>;
}

/** The client type a dependency hands out. */
export type ClientOf<D> = D extends Dependency<infer C> ? C : never;

/** A map of named dependencies, as given to createIntegrationEnvironment. */
// biome-ignore lint/suspicious/noExplicitAny: the client type varies per entry and is recovered by ClientOf.
export type DependencyMap = Record<string, Dependency<any>>;

/** The typed clients of a dependency map. */
export type ClientsOf<D extends DependencyMap> = { readonly [K in keyof D]: ClientOf<D[K]> };
