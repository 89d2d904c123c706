import { ulid } from "ulid";
import type {
  ClientsOf,
  Dependency,
  DependencyContext,
  DependencyHandle,
  DependencyMap,
  EnvironmentVariables,
} from "./dependency.js";
import { errorText, isTestSupportError, TestSupportError } from "./errors.js";
import { type IntegrationMode, integrationModeFrom } from "./mode.js";
import { createDefaultTelemetry, resolveArtifactsDir, type TelemetrySink } from "./telemetry.js";
import { tracedDependency } from "./trace/dependency.js";
import { untraced } from "./trace/recorder.js";

/** Options of createIntegrationEnvironment. */
export interface IntegrationEnvironmentOptions<D extends DependencyMap> {
  /** The service whose suite this is; names its artifacts folder. Lower-case letters, digits and dashes. */
  service: string;
  /** The dependencies by the name the suite uses for their clients. */
  dependencies: D;
  /** Variables to read instead of process.env (INTEGRATION_MODE included). */
  env?: EnvironmentVariables;
  /** How long connecting may take, per dependency. Default: INTEGRATION_CONNECT_TIMEOUT_MS, else 5000. */
  connectTimeoutMs?: number;
  /** How long set-up after connecting (migrations, models) may take. Default: INTEGRATION_SETUP_TIMEOUT_MS, else 60000. */
  setupTimeoutMs?: number;
  /** How long one operation (query, command, request, reset, close) may take. Default: INTEGRATION_OPERATION_TIMEOUT_MS, else 10000. */
  operationTimeoutMs?: number;
  /** Where events go. Default: stderr and artifacts/<service>/events.jsonl. */
  telemetry?: TelemetrySink;
}

/** A set of ready clients in one mode, with per-test reset and teardown. */
export interface IntegrationEnvironment<D extends DependencyMap> extends AsyncDisposable {
  readonly service: string;
  readonly mode: IntegrationMode;
  readonly runId: string;
  readonly clients: ClientsOf<D>;
  /** Redacted target and implementation of every dependency, by name. */
  readonly targets: { readonly [K in keyof D]: { implementation: string; target: string } };
  /** Resets every dependency to its state right after set-up. */
  reset(): Promise<void>;
  /** Closes every dependency; safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_SETUP_TIMEOUT_MS = 60_000;
const DEFAULT_OPERATION_TIMEOUT_MS = 10_000;
/** setTimeout fires at once for anything larger than a signed 32-bit number of milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const DEPENDENCY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Process-wide mode state, on globalThis so two copies of this module still agree. */
interface ModeLock {
  mode: IntegrationMode | undefined;
  pending: number;
  opened: number;
}
const LOCK_KEY = Symbol.for("@org/test-support/mode-lock");
const RUN_ID_KEY = Symbol.for("@org/test-support/run-id");
const globals = globalThis as unknown as Record<symbol, unknown>;
const modeLock: ModeLock = (globals[LOCK_KEY] as ModeLock | undefined) ?? {
  mode: undefined,
  pending: 0,
  opened: 0,
};
globals[LOCK_KEY] = modeLock;

function claimMode(mode: IntegrationMode, service: string): void {
  if (modeLock.mode !== undefined && modeLock.mode !== mode) {
    throw new TestSupportError(
      "MODE_CONFLICT",
      `service "${service}" asked for a ${mode} environment, but this process already runs in ${modeLock.mode} mode. ` +
        "One process runs in one mode so a report can say what was real; run the other mode in its own process " +
        "(pnpm test:integration --mode=<mode>).",
    );
  }
  modeLock.mode = mode;
  modeLock.pending++;
}

function settleMode(opened: boolean): void {
  modeLock.pending--;
  if (opened) modeLock.opened++;
  // A process whose every attempt failed has not run anything in that mode yet.
  if (modeLock.pending === 0 && modeLock.opened === 0) modeLock.mode = undefined;
}

function runIdFrom(env: EnvironmentVariables): string {
  const given = env.INTEGRATION_RUN_ID;
  if (given !== undefined) {
    if (!/^[a-z0-9]{1,26}$/i.test(given)) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `INTEGRATION_RUN_ID=${JSON.stringify(given)} is not usable in schema and key names. Use 1 to 26 letters or digits, or unset it to get a ULID.`,
      );
    }
    return given.toLowerCase();
  }
  globals[RUN_ID_KEY] ??= ulid().toLowerCase();
  return globals[RUN_ID_KEY] as string;
}

type BoundOption = "connectTimeoutMs" | "setupTimeoutMs" | "operationTimeoutMs";
const BOUND_VARIABLES: Record<BoundOption, string> = {
  connectTimeoutMs: "INTEGRATION_CONNECT_TIMEOUT_MS",
  setupTimeoutMs: "INTEGRATION_SETUP_TIMEOUT_MS",
  operationTimeoutMs: "INTEGRATION_OPERATION_TIMEOUT_MS",
};

/** A time bound from the options, else its variable, else the default; whole milliseconds a timer can hold. */
function boundFrom(
  option: BoundOption,
  options: Partial<Record<BoundOption, number>>,
  env: EnvironmentVariables,
  fallback: number,
): number {
  const variable = BOUND_VARIABLES[option];
  const raw = options[option] ?? env[variable];
  if (raw === undefined) return fallback;
  const value = typeof raw === "number" ? raw : /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
    const source = options[option] !== undefined ? option : variable;
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${source}=${JSON.stringify(raw)} is not a whole number of milliseconds between 1 and ${MAX_TIMER_MS}; use e.g. ${fallback}.`,
    );
  }
  return value;
}

function validateOptions<D extends DependencyMap>(options: IntegrationEnvironmentOptions<D>): void {
  if (typeof options?.service !== "string" || !SERVICE_NAME.test(options.service)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `service ${JSON.stringify(options?.service)} is not a valid service name; use lower-case letters, digits and dashes, starting with a letter (e.g. "platform").`,
    );
  }
  const entries = Object.entries(options.dependencies ?? {});
  if (entries.length === 0) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `service "${options.service}" declared no dependencies; pass at least one, e.g. dependencies: { db: postgres({...}) }.`,
    );
  }
  for (const [name, dependency] of entries) {
    if (!DEPENDENCY_NAME.test(name)) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `dependency name ${JSON.stringify(name)} is not an identifier; use letters, digits and underscores so it reads as env.clients.${name.replace(/\W/g, "_")}.`,
      );
    }
    const d = dependency as Partial<Dependency<unknown>> | undefined;
    if (!d || typeof d.double !== "function" || typeof d.live !== "function" || !Array.isArray(d.variables)) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `dependency "${name}" is not a Dependency; build it with a builder such as postgres({...}) or redis({...}).`,
      );
    }
  }
}

/** Lists every required variable that is unset or empty, across all dependencies, in one error. */
function checkVariables(service: string, dependencies: DependencyMap, env: EnvironmentVariables): void {
  const missing: string[] = [];
  for (const [name, dependency] of Object.entries(dependencies)) {
    const unset = dependency.variables.filter((variable) => !env[variable]);
    if (unset.length > 0) missing.push(`  - ${unset.join(", ")} (dependency "${name}", ${dependency.kind})`);
  }
  if (missing.length > 0) {
    throw new TestSupportError(
      "MISSING_VARIABLES",
      `service "${service}" cannot run in cluster mode: these variables are not set:\n${missing.join("\n")}\n` +
        "Nothing was connected. Set them (`bash scripts/cluster-up.sh > .env.integration` starts servers on this machine and " +
        "prints them; .env.integration.example documents each), or run without live services: pass --mode=repo to " +
        "pnpm test:integration, or unset INTEGRATION_MODE when running Vitest yourself.",
    );
  }
}

/** Builds one dependency within its connect bound, then its set-up bound, naming it and its target on failure. */
async function openDependency<C>(
  declared: Dependency<C>,
  context: Omit<DependencyContext, "signal" | "connected">,
  abort: AbortController,
): Promise<DependencyHandle<C>> {
  const { mode, name } = context;
  // Every client is traced, so a test's calls can be compared across modes (the drift harness).
  const dependency = tracedDependency(declared);
  const bounded = mode !== "repo";
  const target = mode === "cluster" ? safeDescribe(dependency, context.env) : "in-process";
  const build =
    mode === "cluster"
      ? dependency.live.bind(dependency)
      : mode === "local" && dependency.local
        ? dependency.local.bind(dependency)
        : dependency.double.bind(dependency);
  let timer: NodeJS.Timeout | undefined;
  let fail: ((error: TestSupportError) => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const expire = (error: TestSupportError) => {
    abort.abort();
    fail?.(error);
  };
  // Starting a local engine is not connecting: it gets its own, longer bound (a service run in-process
  // on local engines has no `local` of its own, and still starts them).
  const connectBoundMs =
    mode === "local"
      ? Math.max(context.connectTimeoutMs, dependency.startTimeoutMs ?? 0)
      : context.connectTimeoutMs;
  let phase: "connect" | "setup" = "connect";
  const fullContext: DependencyContext = {
    ...context,
    signal: abort.signal,
    connected() {
      if (phase === "setup" || !bounded || abort.signal.aborted) return;
      phase = "setup";
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          expire(
            new TestSupportError(
              "SETUP_TIMEOUT",
              `dependency "${name}" (${dependency.kind}) connected to ${target} but did not finish setting up ` +
                `(migrations, models, schemas) within ${context.setupTimeoutMs} ms. The server answers, so look at what ` +
                "set-up runs (a slow or blocked migration, a lock held by another session), or raise the bound with " +
                "setupTimeoutMs / INTEGRATION_SETUP_TIMEOUT_MS.",
            ),
          ),
        context.setupTimeoutMs,
      );
    },
  };
  if (bounded) {
    timer = setTimeout(
      () =>
        expire(
          new TestSupportError(
            "CONNECT_TIMEOUT",
            `dependency "${name}" (${dependency.kind}) did not answer within ${connectBoundMs} ms at ${target}. ` +
              `Is the server running and reachable from here? Check ${dependency.variables.join(", ") || "its configuration"}, ` +
              "or raise the bound with connectTimeoutMs / INTEGRATION_CONNECT_TIMEOUT_MS.",
          ),
        ),
      connectBoundMs,
    );
  }
  const attempt = build(fullContext);
  try {
    return await (bounded ? Promise.race([attempt, timeout]) : attempt);
  } catch (error) {
    // A builder that finishes after the bound must not leak its connections.
    attempt.then((late) => late.close()).catch(() => {});
    throw wrapFailure(error, name, dependency.kind, target);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs one reset or close of a handle within the operation bound, naming the dependency when it stalls. */
async function withinBound<T>(
  action: () => Promise<T>,
  what: string,
  name: string,
  kind: string,
  target: string,
  boundMs: number,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TestSupportError(
            "OPERATION_TIMEOUT",
            `dependency "${name}" (${kind}) did not finish its ${what} within ${boundMs} ms at ${target}. ` +
              "The server stopped answering or something holds a lock; raise the bound with operationTimeoutMs / " +
              "INTEGRATION_OPERATION_TIMEOUT_MS only if the operation is legitimately slow.",
          ),
        ),
      boundMs,
    );
  });
  try {
    return await Promise.race([action(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function safeDescribe(dependency: Dependency<unknown>, env: EnvironmentVariables): string {
  try {
    return dependency.describeTarget(env);
  } catch {
    return `(${dependency.kind} target unreadable)`;
  }
}

function wrapFailure(error: unknown, name: string, kind: string, target: string): TestSupportError {
  if (isTestSupportError(error)) return error;
  return new TestSupportError(
    "CONNECT_FAILED",
    `dependency "${name}" (${kind}) could not be set up at ${target}: ${errorText(error)}. ` +
      "Check that the server is running and that its variables point at it.",
    { cause: error },
  );
}

/**
 * Builds every dependency of a suite in the mode INTEGRATION_MODE selects and hands back typed clients.
 * In cluster mode all variables are checked before anything connects; doubles are never built there,
 * and live clients never in repo/local.
 */
export async function createIntegrationEnvironment<D extends DependencyMap>(
  options: IntegrationEnvironmentOptions<D>,
): Promise<IntegrationEnvironment<D>> {
  validateOptions(options);
  const env = options.env ?? process.env;
  const mode = integrationModeFrom(env);
  const { service, dependencies } = options;
  if (mode === "cluster") checkVariables(service, dependencies, env);
  const connectTimeoutMs = boundFrom("connectTimeoutMs", options, env, DEFAULT_CONNECT_TIMEOUT_MS);
  const setupTimeoutMs = boundFrom("setupTimeoutMs", options, env, DEFAULT_SETUP_TIMEOUT_MS);
  const operationTimeoutMs = boundFrom("operationTimeoutMs", options, env, DEFAULT_OPERATION_TIMEOUT_MS);
  const runId = runIdFrom(env);
  const telemetry =
    options.telemetry ?? createDefaultTelemetry({ artifactsDir: resolveArtifactsDir(env), service });

  claimMode(mode, service);
  const instanceId = ulid().toLowerCase();
  const workerId = env.VITEST_POOL_ID ?? env.JEST_WORKER_ID ?? String(process.pid);
  const names = Object.keys(dependencies);
  const aborts = names.map(() => new AbortController());
  const settled = await Promise.allSettled(
    names.map((name, i) =>
      openDependency(
        dependencies[name] as Dependency<unknown>,
        {
          service,
          name,
          mode,
          runId,
          instanceId,
          workerId,
          env,
          connectTimeoutMs,
          setupTimeoutMs,
          operationTimeoutMs,
        },
        aborts[i] as AbortController,
      ),
    ),
  );
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
  if (failures.length > 0) {
    await Promise.allSettled(settled.map((s) => (s.status === "fulfilled" ? s.value.close() : undefined)));
    settleMode(false);
    for (const failure of failures) {
      telemetry.emit({
        event: "environment.failed",
        time: new Date().toISOString(),
        service,
        mode,
        runId,
        error: errorText(failure),
      });
    }
    if (failures.length === 1) throw failures[0];
    throw new TestSupportError(
      (failures[0] as TestSupportError).code,
      `service "${service}" could not set up ${failures.length} dependencies:\n${failures.map((f) => `  - ${errorText(f)}`).join("\n")}`,
      { cause: new AggregateError(failures) },
    );
  }
  settleMode(true);

  const handles = settled.map((s) => (s as PromiseFulfilledResult<DependencyHandle<unknown>>).value);
  const clients: Record<string, unknown> = {};
  const targets: Record<string, { implementation: string; target: string }> = {};
  names.forEach((name, i) => {
    const handle = handles[i] as DependencyHandle<unknown>;
    const dependency = dependencies[name] as Dependency<unknown>;
    clients[name] = handle.client;
    targets[name] = { implementation: handle.implementation, target: handle.target };
    telemetry.emit({
      event: "dependency.selected",
      time: new Date().toISOString(),
      service,
      mode,
      runId,
      dependency: name,
      kind: dependency.kind,
      implementation: handle.implementation,
      target: handle.target,
    });
  });

  /** One bounded reset or close of handle i, reported as a dependency.reset / dependency.closed event. */
  const timed = async (i: number, what: "reset" | "close", action: () => Promise<void>) => {
    const name = names[i] as string;
    const handle = handles[i] as DependencyHandle<unknown>;
    const kind = (dependencies[name] as Dependency<unknown>).kind;
    const started = performance.now();
    let failure: unknown;
    try {
      await withinBound(action, what, name, kind, handle.target, operationTimeoutMs);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      telemetry.emit({
        event: what === "reset" ? "dependency.reset" : "dependency.closed",
        time: new Date().toISOString(),
        service,
        mode,
        runId,
        dependency: name,
        kind,
        implementation: handle.implementation,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        ...(failure === undefined ? {} : { error: errorText(failure) }),
      });
    }
  };

  let closing: Promise<void> | undefined;
  const failWhenClosed = (action: string) => {
    if (closing) {
      throw new TestSupportError(
        "CLOSED",
        `cannot ${action} the environment of service "${service}": it was closed. Create a new one for the next suite.`,
      );
    }
  };

  const environment: IntegrationEnvironment<D> = {
    service,
    mode,
    runId,
    clients: clients as ClientsOf<D>,
    targets: targets as IntegrationEnvironment<D>["targets"],
    async reset() {
      failWhenClosed("reset");
      // The factory's own work between tests is not the test's: untraced.
      const results = await untraced(() =>
        Promise.allSettled(handles.map((h, i) => timed(i, "reset", () => h.reset()))),
      );
      const errors = results.flatMap((r, i) =>
        r.status === "rejected" ? [`  - "${names[i]}": ${errorText(r.reason)}`] : [],
      );
      if (errors.length > 0) {
        throw new TestSupportError(
          "RESET_FAILED",
          `service "${service}" could not reset:\n${errors.join("\n")}\nThe next test would see this test's data; fix the cause above.`,
          { cause: new AggregateError(results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []))) },
        );
      }
    },
    close() {
      closing ??= (async () => {
        const errors: string[] = [];
        // Reverse order: later dependencies may lean on earlier ones.
        for (let i = handles.length - 1; i >= 0; i--) {
          const handle = handles[i] as DependencyHandle<unknown>;
          try {
            await untraced(() => timed(i, "close", () => handle.close()));
          } catch (error) {
            errors.push(`  - "${names[i]}" (${handle.target}): ${errorText(error)}`);
          }
        }
        if (errors.length > 0) {
          throw new TestSupportError(
            "CLOSE_FAILED",
            `service "${service}" could not close cleanly:\n${errors.join("\n")}\n` +
              "Left behind: what each line names (the schema, key prefix or store in its target). On a live server each is " +
              "registered under a lease this process no longer renews (INTEGRATION_LEASE_MS, default 60 s); once it has " +
              "expired, `pnpm test:integration sweep` removes it (`--dry-run` lists it first).",
          );
        }
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return environment.close();
    },
  };
  return environment;
}
