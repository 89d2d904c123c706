import type { Connection, WorkflowClient } from "@temporalio/client";
import { ulid } from "ulid";
import type { Dependency, DependencyContext, DependencyHandle, EnvironmentVariables } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { TEMPORAL_CLI_VARIABLE } from "../local/binaries.js";
import { localEngine } from "../local/client.js";
import { tracedDependency } from "../trace/dependency.js";
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

/** Wraps the real workflow client so reset knows which workflows this environment started. */
function tracked(workflow: WorkflowClient, started: Set<string>): TemporalWorkflowClient {
  return {
    start: (async (type: never, options: { workflowId: string }) => {
      const handle = await workflow.start(type, options as never);
      started.add(options.workflowId);
      return handle;
    }) as WorkflowClient["start"],
    execute: (async (type: never, options: { workflowId: string }) => {
      started.add(options.workflowId);
      return workflow.execute(type, options as never);
    }) as WorkflowClient["execute"],
    getHandle: workflow.getHandle.bind(workflow),
  };
}

/** Terminates every workflow in `ids` that is still running; ignores ones already closed. */
async function terminateRunning(workflow: WorkflowClient, ids: Set<string>, reason: string): Promise<void> {
  await Promise.all(
    [...ids].map(async (id) => {
      const handle = workflow.getHandle(id);
      try {
        const { status } = await handle.describe();
        if (status.name === "RUNNING") await handle.terminate(reason);
      } catch (error) {
        if ((error as Error).name !== "WorkflowNotFoundError") throw error;
      }
    }),
  );
  ids.clear();
}

/** Connects a client and checks the namespace exists, so a typo fails here rather than at the first start. */
async function connect(address: string, namespace: string, timeoutMs: number, label: string) {
  // @temporalio/client loads when a suite first connects, never at import.
  const { Client, Connection } = await import("@temporalio/client");
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
  } catch (error) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `temporal at ${address} could not be reached: ${errorText(error)}. Check that the server is up and that ${label} points at its frontend (host:port).`,
      { cause: error },
    );
  }
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    await connection.close();
    throw new TestSupportError(
      "CONNECT_FAILED",
      `temporal at ${address} has no namespace "${namespace}": ${errorText(error)}. Create it (temporal operator namespace create ${namespace}) or fix the namespace variable.`,
      { cause: error },
    );
  }
  return { connection, client: new Client({ connection, namespace }) };
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
    workflow: WorkflowClient,
    namespace: string,
    address: string,
    implementation: string,
    close: () => Promise<void>,
    taskQueue = options.taskQueue,
  ): DependencyHandle<TemporalClient> => {
    const started = new Set<string>();
    return {
      client: {
        workflow: tracked(workflow, started),
        namespace,
        taskQueue,
        address,
        stub: undefined,
      },
      implementation,
      target: `${address} (namespace ${namespace})`,
      reset: () => terminateRunning(workflow, started, "test-support reset"),
      async close() {
        try {
          await terminateRunning(workflow, started, "test-support close");
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
      const { connection, client } = await connect(
        server.url,
        namespace,
        context.connectTimeoutMs + 1000,
        "the local dev server",
      );
      return handleFor(
        client.workflow,
        namespace,
        server.url,
        "temporal-dev-server",
        () => connection.close(),
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
      const { connection, client } = await connect(
        address,
        namespace,
        // The factory enforces the bound; the SDK's own timeout is a backstop that frees the channel after it.
        context.connectTimeoutMs + 1000,
        options.addressEnv,
      );
      context.connected();
      return handleFor(client.workflow, namespace, address, "temporal", () => connection.close());
    },
  });
}
