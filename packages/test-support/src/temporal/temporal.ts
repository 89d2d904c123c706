import { hostname } from "node:os";
import type { Client, Connection, WorkflowClient } from "@temporalio/client";
import { ulid } from "ulid";
import type { Dependency, DependencyContext, DependencyHandle, EnvironmentVariables } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { type Heartbeat, leaseHolder, leaseMsFrom, leaseText, startHeartbeat } from "../lease/lease.js";
import {
  leaseIdentity,
  registerWorkflowLease,
  temporalLeaseId,
  type WorkflowLease,
} from "../lease/temporal-lease.js";
import { TEMPORAL_CLI_VARIABLE } from "../local/binaries.js";
import { localEngine } from "../local/client.js";
import { tracedDependency } from "../trace/dependency.js";
import { connectTemporal, type TemporalConnection } from "./connection.js";
import type { StubWorkflowBehaviour, TemporalStub } from "./stub.js";

/** The workflow API of `@temporalio/client` that suites use, in every mode. */
export type TemporalWorkflowClient = Pick<WorkflowClient, "start" | "execute" | "getHandle">;

/** What env.clients.<name> is for a temporal dependency. */
export interface TemporalClient {
  /** `client.workflow` of @temporalio/client (a typed stub in repo mode). */
  readonly workflow: TemporalWorkflowClient;
  readonly namespace: string;
  readonly taskQueue: string;
  /** host:port of the server in local and cluster mode; undefined in repo mode. */
  readonly address: string | undefined;
  /** The stub in repo mode (its recorded calls), undefined elsewhere. */
  readonly stub: TemporalStub | undefined;
}

/** Options of the temporal dependency. */
export interface TemporalOptions {
  /** The variable holding the namespace (cluster: required; local mode uses the dev server's "default"). */
  namespaceEnv: string;
  /** The variable holding host:port of the frontend (cluster: required). */
  addressEnv: string;
  /** The task queue the suite's workflows run on. */
  taskQueue: string;
  /** Repo mode: what each workflow type does. */
  stub?: Readonly<Record<string, StubWorkflowBehaviour>>;
  /** Local mode: how long the run's dev server may take to come up (default 30 s). */
  startTimeoutMs?: number;
}

/** The variable naming a `temporal` CLI binary for local mode; unset, the run builds one into the cache. */
export { TEMPORAL_CLI_VARIABLE };

/** A workflow id unique to this call, so runs and tests never collide: `<prefix>-<ulid>`. */
export function uniqueWorkflowId(prefix: string): string {
  return `${prefix}-${ulid().toLowerCase()}`;
}

/** Where the handed-out client's calls go, and how long each may take. */
interface Bounds {
  readonly connection: Connection;
  readonly workflow: WorkflowClient;
  /** The dependency's name in the environment, e.g. "temporal". */
  readonly name: string;
  readonly address: string;
  readonly ms: number;
}

/**
 * Whether the gRPC channel is failing to connect (an outage) rather than connected to a server that does not
 * answer (a stall). The SDK retries an unavailable server within the call, so the bound is what ends it and
 * the cause must come from the channel. `client` is protected in the SDK's types; on any surprise, false.
 */
function connectionDown(connection: Connection): boolean {
  try {
    const channel = (
      connection as unknown as {
        client: { getChannel(): { getConnectivityState(connect: boolean): number } };
      }
    ).client.getChannel();
    // grpc-js connectivity states: 1 CONNECTING, 3 TRANSIENT_FAILURE.
    return [1, 3].includes(channel.getConnectivityState(false));
  } catch {
    return false;
  }
}

/**
 * Runs one call of the handed-out client within the operation bound. When the bound passes, the call is
 * aborted (so its gRPC stream is freed) and the caller gets an error naming the dependency and the call.
 */
function bounded<T>(bounds: Bounds, what: string, action: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TestSupportError(
        "OPERATION_TIMEOUT",
        `dependency "${bounds.name}" (temporal) did not answer ${what} within ${bounds.ms} ms at ${bounds.address}. ` +
          (connectionDown(bounds.connection)
            ? "The connection to the server is down (the SDK kept retrying it); check the server is up."
            : "The server stopped answering; raise the bound with operationTimeoutMs / INTEGRATION_OPERATION_TIMEOUT_MS " +
              "only if the call is legitimately slow."),
      );
      reject(error);
      controller.abort(error);
    }, bounds.ms);
  });
  const call = bounds.connection.withAbortSignal(controller.signal, action);
  call.catch(() => {});
  return Promise.race([call, stalled]).finally(() => clearTimeout(timer));
}

/**
 * Runs a call that waits by design (a workflow's result, an update's outcome) with no bound on its length,
 * while a watchdog describes the workflow once per operation bound, each describe bounded. A server that
 * stops answering fails the wait within about twice the bound, naming the dependency and the call; a server
 * that answers lets it wait as long as the workflow runs (the workflow's own timeouts and the test's bound it).
 */
function watched<T>(bounds: Bounds, what: string, workflowId: string, action: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    const beat = () => {
      timer = setTimeout(async () => {
        try {
          await bounded(bounds, `describe (the check while ${what} waits)`, () =>
            bounds.workflow.getHandle(workflowId).describe(),
          );
        } catch (error) {
          if (done || (error as Error).name === "WorkflowNotFoundError") return;
          const stopped = new TestSupportError(
            "OPERATION_TIMEOUT",
            `dependency "${bounds.name}" (temporal) stopped answering while ${what} waited for workflow ${workflowId}: ${errorText(error)}`,
            { cause: error },
          );
          reject(stopped);
          controller.abort(stopped);
          return;
        }
        if (!done) beat();
      }, bounds.ms);
    };
    beat();
  });
  const call = bounds.connection.withAbortSignal(controller.signal, action);
  call.catch(() => {});
  return Promise.race([call, watchdog]).finally(() => {
    done = true;
    clearTimeout(timer);
  });
}

/** Handle methods that answer at once: each within the operation bound. */
const BOUNDED_CALLS = new Set(["describe", "signal", "query", "cancel", "terminate", "fetchHistory"]);
/** Handle methods that wait by design for the workflow (long polls): under the watchdog instead. */
const WAITING_CALLS = new Set(["result", "executeUpdate", "startUpdate"]);

/** A workflow (or update) handle whose calls are bounded or watched; other members pass through. */
function boundHandle<H extends object>(bounds: Bounds, handle: H, workflowId: string): H {
  return new Proxy(handle, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof key !== "string" || typeof value !== "function") return value;
      const call = (...args: unknown[]) => value.apply(target, args) as Promise<unknown>;
      const what = `${key}() of workflow ${workflowId}`;
      if (BOUNDED_CALLS.has(key)) return (...args: unknown[]) => bounded(bounds, what, () => call(...args));
      if (WAITING_CALLS.has(key)) {
        return (...args: unknown[]) =>
          watched(bounds, what, workflowId, () => call(...args)).then((result) =>
            key === "startUpdate" ? boundHandle(bounds, result as object, workflowId) : result,
          );
      }
      // An update handle's result() waits like the workflow's.
      if (key === "getUpdateHandle")
        return (...args: unknown[]) => boundHandle(bounds, value.apply(target, args), workflowId);
      return value;
    },
  });
}

/**
 * Wraps the real workflow client: every call is bounded (or watched, for long polls), and reset knows which
 * workflows this environment started. With a lease, a workflow's id is registered before it is started.
 */
function tracked(
  bounds: Bounds,
  started: Set<string>,
  lease: WorkflowLease | undefined,
): TemporalWorkflowClient {
  const { workflow } = bounds;
  const start = async (type: string | { name: string }, options: { workflowId: string }) => {
    const fresh = !started.has(options.workflowId);
    started.add(options.workflowId);
    try {
      await lease?.renew();
      const handle = await bounded(
        bounds,
        `workflow.start(${typeof type === "string" ? type : type.name})`,
        () => workflow.start(type as never, options as never),
      );
      return boundHandle(bounds, handle, options.workflowId);
    } catch (error) {
      if (fresh) started.delete(options.workflowId);
      throw error;
    }
  };
  return {
    start: start as unknown as WorkflowClient["start"],
    execute: (async (type: string | { name: string }, options: { workflowId: string }) =>
      (await start(type, options)).result()) as unknown as WorkflowClient["execute"],
    getHandle: ((workflowId: string, ...rest: never[]) =>
      boundHandle(
        bounds,
        workflow.getHandle(workflowId, ...rest),
        workflowId,
      )) as WorkflowClient["getHandle"],
  };
}

/** Terminates every workflow in `ids` that is still running, each call bounded; ignores ones already closed. */
async function terminateRunning(bounds: Bounds, ids: Set<string>, reason: string): Promise<void> {
  await Promise.all(
    [...ids].map(async (id) => {
      const handle = bounds.workflow.getHandle(id);
      try {
        const { status } = await bounded(bounds, `describe() of workflow ${id}`, () => handle.describe());
        if (status.name === "RUNNING") {
          await bounded(bounds, `terminate() of workflow ${id}`, () => handle.terminate(reason));
        }
      } catch (error) {
        if ((error as Error).name !== "WorkflowNotFoundError") throw error;
      }
      ids.delete(id);
    }),
  );
}

/** Connects a client and checks the namespace exists, so a typo fails here rather than at the first start. */
async function connect(
  address: string,
  namespace: string,
  timeoutMs: number,
  label: string,
  identity?: string,
): Promise<{ connection: Connection; client: Client; close: () => Promise<void> }> {
  // @temporalio/client loads when a suite first connects, never at import.
  const { Client } = await import("@temporalio/client");
  let opened: TemporalConnection;
  try {
    opened = await connectTemporal({ address, connectTimeout: timeoutMs });
  } catch (error) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `temporal at ${address} could not be reached: ${errorText(error)}. Check that the server is up and that ${label} points at its frontend (host:port).`,
      { cause: error },
    );
  }
  const { connection, close } = opened;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    await close();
    throw new TestSupportError(
      "CONNECT_FAILED",
      `temporal at ${address} has no namespace "${namespace}": ${errorText(error)}. Create it (temporal operator namespace create ${namespace}) or fix the namespace variable.`,
      { cause: error },
    );
  }
  return {
    connection,
    close,
    client: new Client({ connection, namespace, ...(identity ? { identity } : {}) }),
  };
}

/**
 * A Temporal dependency. repo: a typed stub of the workflow API, programmed by `stub`. local: the run's
 * dev server, with a task queue of the environment's own (`<taskQueue>-<instance>`) so workers of other
 * environments never take its tasks. cluster: @temporalio/client on the address and namespace variables.
 * Reset terminates every workflow the test started that still runs.
 */
export function temporal(options: TemporalOptions): Dependency<TemporalClient> {
  for (const key of ["namespaceEnv", "addressEnv"] as const) {
    if (typeof options?.[key] !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(options[key])) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `temporal() needs ${key}, an upper-case variable name (e.g. "TEMPORAL_${key === "addressEnv" ? "ADDRESS" : "NAMESPACE"}"); got ${JSON.stringify(options?.[key])}.`,
      );
    }
  }
  if (typeof options.taskQueue !== "string" || options.taskQueue.length === 0) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      'temporal() needs a taskQueue, e.g. temporal({ ..., taskQueue: "onboarding" }).',
    );
  }
  const handleFor = (
    bounds: Bounds,
    namespace: string,
    implementation: string,
    close: () => Promise<void>,
    leased?: { lease: WorkflowLease; heartbeat: Heartbeat; leaseMs: number; started: Set<string> },
    taskQueue = options.taskQueue,
  ): DependencyHandle<TemporalClient> => {
    const started = leased?.started ?? new Set<string>();
    return {
      client: {
        workflow: tracked(bounds, started, leased?.lease),
        namespace,
        taskQueue,
        address: bounds.address,
        stub: undefined,
      },
      implementation,
      // The lease names what a failed close leaves: its memo lists the workflows the sweep terminates.
      target: `${bounds.address} (namespace ${namespace}${leased ? `, lease ${leased.lease.id}` : ""})`,
      reset: () => terminateRunning(bounds, started, "test-support reset"),
      async close() {
        try {
          // From here the lease only runs out: if terminating stalls or fails, a sweep finishes the job.
          leased?.heartbeat.stop();
          try {
            await terminateRunning(bounds, started, "test-support close");
          } catch (error) {
            throw new TestSupportError(
              "CLOSE_FAILED",
              `could not terminate workflows ${[...started].join(", ")}: ${errorText(error)}.` +
                (leased
                  ? ` They are listed in lease ${leased.lease.id}, which expires ${leaseText(leased.leaseMs)} after this ` +
                    "process stopped renewing it; then `pnpm test:integration sweep` terminates them."
                  : ""),
              { cause: error },
            );
          }
          await leased?.lease.release();
        } finally {
          await close();
        }
      },
    };
  };

  return tracedDependency({
    kind: "temporal",
    variables: [options.addressEnv, options.namespaceEnv],
    startTimeoutMs: options.startTimeoutMs ?? 30_000,
    describeTarget(env: EnvironmentVariables) {
      return `${env[options.addressEnv] ?? ""} (namespace ${env[options.namespaceEnv] ?? ""})`;
    },
    async double(): Promise<DependencyHandle<TemporalClient>> {
      const { TemporalStub } = await import("./stub.js");
      const stub = new TemporalStub(options.stub ?? {}, options.taskQueue);
      const terminate = async () => {
        await Promise.all(stub.running().map((id) => stub.getHandle(id).terminate("test-support reset")));
      };
      return {
        client: {
          workflow: stub as unknown as TemporalWorkflowClient,
          namespace: "stub",
          taskQueue: options.taskQueue,
          address: undefined,
          stub,
        },
        implementation: "temporal-stub",
        target: "in-process",
        reset: terminate,
        close: terminate,
      };
    },
    async local(context: DependencyContext): Promise<DependencyHandle<TemporalClient>> {
      const server = await localEngine("temporal", context.env, context.signal);
      const namespace = "default";
      const { connection, client, close } = await connect(
        server.url,
        namespace,
        context.connectTimeoutMs + 1000,
        "the local dev server",
      );
      const bounds: Bounds = {
        connection,
        workflow: client.workflow,
        name: context.name,
        address: server.url,
        ms: context.operationTimeoutMs,
      };
      // The run's dev server dies with the run (and its process lease), so local workflows need no lease.
      return handleFor(
        bounds,
        namespace,
        "temporal-dev-server",
        close,
        undefined,
        `${options.taskQueue}-${context.instanceId}`,
      );
    },
    async live(context: DependencyContext): Promise<DependencyHandle<TemporalClient>> {
      const address = context.env[options.addressEnv] ?? "";
      if (!/^[^\s:/]+:\d+$/.test(address)) {
        throw new TestSupportError(
          "INVALID_OPTIONS",
          `${options.addressEnv}=${JSON.stringify(address)} is not host:port; set it to the Temporal frontend, e.g. 127.0.0.1:7233.`,
        );
      }
      const namespace = context.env[options.namespaceEnv] ?? "";
      const leaseId = temporalLeaseId(context.service, context.name, context.instanceId);
      const { connection, client, close } = await connect(
        address,
        namespace,
        // The factory enforces the bound; the SDK's own timeout is a backstop that frees the channel after it.
        context.connectTimeoutMs + 1000,
        options.addressEnv,
        // The server records the identity in each workflow's start event: the sweep's proof a workflow is ours.
        leaseIdentity(leaseId, `${process.pid}@${hostname()}`),
      );
      context.connected();
      const bounds: Bounds = {
        connection,
        workflow: client.workflow,
        name: context.name,
        address,
        ms: context.operationTimeoutMs,
      };
      const leaseMs = leaseMsFrom(context.env);
      const started = new Set<string>();
      let lease: WorkflowLease;
      try {
        lease = await registerWorkflowLease(
          client,
          leaseId,
          leaseHolder(context.runId),
          leaseMs,
          () => [...started],
          (what, action) => bounded(bounds, what, action),
        );
      } catch (error) {
        await close();
        throw error;
      }
      const heartbeat = startHeartbeat(leaseMs, () => lease.renew());
      return handleFor(bounds, namespace, "temporal", close, {
        lease,
        heartbeat,
        leaseMs,
        started,
      });
    },
  });
}
