import { existsSync } from "node:fs";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type ServiceImpl,
  type Transport,
} from "@connectrpc/connect";
import type { PlatformClient } from "@org/platform/testing";
import { recordCreated, requireHealthy } from "@org/platform/testing";
import {
  type Dependency,
  type DependencyContext,
  type DependencyHandle,
  declareService,
  HandleGroup,
  postgres,
  runTemporalWorker,
  temporal,
} from "@org/test-support";
import { deleteThreads, type ThreadsClient, threadsService } from "@org/threads/testing";
import { createActivities } from "../activities.js";
import { RunState, WorkflowsService } from "../gen/workflows/v1/workflows_pb.js";
import { onboard } from "../onboarding.js";
import { createWorkflowsService, type WorkflowsDependencies } from "../service.js";

/** A typed client of the workflows service. */
export type WorkflowsClient = Client<typeof WorkflowsService>;

/** What a suite of workflows gets: workflows, and the threads and platform it works with. */
export interface WorkflowsTestClients {
  workflows: WorkflowsClient;
  threads: ThreadsClient;
  platform: PlatformClient;
}

export const workflowsMigrations = new URL("../../migrations/", import.meta.url);

/** The workflow code next to this module: the .ts source under a test runner, the built .js otherwise. */
export function onboardingWorkflowsPath(): URL {
  const source = new URL("../workflows.ts", import.meta.url);
  return existsSync(source) ? source : new URL("../workflows.js", import.meta.url);
}
export const ONBOARDING_TASK_QUEUE = "onboarding";

/** A router transport running the workflows handlers in-process, with per-method overrides. */
export function createWorkflowsTransport(
  deps: WorkflowsDependencies | undefined,
  overrides: Partial<ServiceImpl<typeof WorkflowsService>> = {},
): Transport {
  const handlers = deps ? { ...createWorkflowsService(deps), ...overrides } : overrides;
  return createRouterTransport(({ service }) => service(WorkflowsService, handlers));
}

/**
 * Deletes the given runs through the service, waiting (within `boundMs` in all) for running ones to finish so
 * the thread a finished run names is recorded for deletion too; runs already gone are fine.
 */
export async function deleteRuns(
  client: WorkflowsClient,
  runs: Map<string, string>,
  boundMs: number,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  const gone = (error: unknown) => ConnectError.from(error).code === Code.NotFound;
  for (const runId of runs.keys()) {
    for (;;) {
      // GetRun first: a finished run names its thread, which the GetRun interceptor records for deletion.
      const run = await client.getRun({ runId }).then(
        (response) => response.run,
        (error) => {
          if (gone(error)) return undefined;
          throw error;
        },
      );
      if (!run) break;
      if (run.state !== RunState.RUNNING) {
        await client.deleteRun({ runId }).catch((error) => {
          if (!gone(error)) throw error;
        });
        break;
      }
      if (Date.now() > deadline)
        throw new Error(
          `run ${runId} was still running after ${boundMs} ms; its row and thread are left behind`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  runs.clear();
}

/**
 * Workflows as a dependency. repo: its handlers in-process on doubles, Temporal's stub running the same
 * onboarding steps with the real activities; local: the same handlers on the run's engines (PostgreSQL,
 * OpenFGA, Redis, the Temporal dev server with an in-process Worker); cluster: gRPC clients on
 * WORKFLOWS_GRPC_URL, THREADS_GRPC_URL and PLATFORM_GRPC_URL.
 */
export function workflowsService(): Dependency<WorkflowsTestClients> {
  const urlEnv = "WORKFLOWS_GRPC_URL";
  const threads = threadsService();
  const database = postgres({ migrations: workflowsMigrations, urlEnv: "WORKFLOWS_DATABASE_URL" });
  const build = (context: DependencyContext) => {
    const group = new HandleGroup();
    return group.build(async () => {
      const threadsHandle = await group.part(threads, context);
      const db = await group.part(database, context);
      const activities = createActivities({ db: db.client, threads: threadsHandle.client.threads });
      const workflows = temporal({
        namespaceEnv: "TEMPORAL_NAMESPACE",
        addressEnv: "TEMPORAL_ADDRESS",
        taskQueue: ONBOARDING_TASK_QUEUE,
        stub: {
          onboarding: {
            run: (_context, runId, tenantId, userId) =>
              onboard(activities, String(runId), String(tenantId), String(userId)),
          },
        },
      });
      const engineHandle = await group.part(workflows, context);
      // The engine answers: bundling the workflow code and starting the Worker are set-up, under the set-up
      // bound, not the start bound (a cold bundle on a busy machine takes a while).
      context.connected();
      const worker = await runTemporalWorker(engineHandle.client, {
        workflowsPath: onboardingWorkflowsPath(),
        activities,
      });
      const transport = createWorkflowsTransport({
        db: db.client,
        workflow: engineHandle.client.workflow,
        // The environment's own queue in local mode, so another environment's Worker never runs its workflows.
        taskQueue: engineHandle.client.taskQueue,
      });
      return {
        client: {
          workflows: createClient(WorkflowsService, transport),
          threads: threadsHandle.client.threads,
          platform: threadsHandle.client.platform,
        },
        implementation:
          context.mode === "local" ? "router-transport+dev-server" : "router-transport+temporal-stub",
        target: "in-process",
        reset: () => group.reset(),
        close: async () => {
          await worker.shutdown();
          await group.close();
        },
      } satisfies DependencyHandle<WorkflowsTestClients>;
    });
  };
  return {
    kind: "grpc:workflows",
    variables: [urlEnv, ...threads.variables],
    startTimeoutMs: 30_000,
    describeTarget: (env) => env[urlEnv] ?? "",
    // In-process in repo and local mode alike: its parts are doubles in repo, the run's engines in local.
    double: build,
    async live(context) {
      const baseUrl = context.env[urlEnv] ?? "";
      await requireHealthy("workflows", baseUrl, urlEnv, context.connectTimeoutMs);
      const threadsHandle = await threads.live(context);
      // Onboarding creates threads inside the services; a finished run names its thread, so remember it.
      const created = new Map<string, string>();
      const track = recordCreated(
        "GetRun",
        (_request: unknown, response: { run?: { threadId: string; userId: string } }) =>
          response.run?.threadId ? [response.run.threadId, response.run.userId] : undefined,
        created,
      );
      // And every run the suite started, so its row goes too (runs → their owner, unused).
      const runs = new Map<string, string>();
      const trackRuns = recordCreated(
        "StartOnboarding",
        (_request: unknown, response: { run?: { id: string; userId: string } }) =>
          response.run ? [response.run.id, response.run.userId] : undefined,
        runs,
      );
      // The gRPC transport (Node's HTTP/2 stack) loads only when a suite reaches the running service.
      const { createGrpcTransport } = await import("@connectrpc/connect-node");
      const workflows = createClient(
        WorkflowsService,
        createGrpcTransport({ baseUrl, interceptors: [track, trackRuns] }),
      );
      const cleanUp = async () => {
        await deleteRuns(workflows, runs, context.operationTimeoutMs);
        await deleteThreads(threadsHandle.client.threads, created);
        await threadsHandle.reset();
      };
      return {
        client: {
          workflows,
          threads: threadsHandle.client.threads,
          platform: threadsHandle.client.platform,
        },
        implementation: "grpc",
        target: baseUrl,
        reset: cleanUp,
        close: cleanUp,
      };
    },
  };
}

/** What the workflows suites depend on, for doctor and the generated mode matrix. */
export const workflowsDeclaration = declareService("workflows", {
  db: postgres({ migrations: workflowsMigrations, urlEnv: "WORKFLOWS_DATABASE_URL" }),
  temporal: temporal({
    namespaceEnv: "TEMPORAL_NAMESPACE",
    addressEnv: "TEMPORAL_ADDRESS",
    taskQueue: ONBOARDING_TASK_QUEUE,
  }),
  threads: threadsService(),
  workflows: workflowsService(),
});
