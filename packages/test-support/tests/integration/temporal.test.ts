import {
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
} from "@temporalio/client";
import { MockActivityEnvironment } from "@temporalio/testing";
import { describe, expect } from "vitest";
import {
  isTestSupportError,
  type RunningWorker,
  runTemporalWorker,
  temporal,
  uniqueWorkflowId,
} from "../../src/index.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";
import * as activities from "../fixtures/temporal/activities.js";

// One suite for every mode: the programmed stub plays `onboarding` in repo mode, a real worker runs the
// workflow code in local (dev server) and cluster mode.
const base = integrationTest({
  service: "test-support",
  dependencies: {
    temporal: temporal({
      namespaceEnv: "TEMPORAL_NAMESPACE",
      addressEnv: "TEMPORAL_ADDRESS",
      taskQueue: "test-support",
      stub: {
        onboarding: {
          async run(context, tenant) {
            context.state.status = "waiting-for-approval";
            const [by] = await context.nextSignal("approve");
            context.state.status = "done";
            return `hello ${tenant}; approved by ${by}`;
          },
          queries: { status: (context) => context.state.status ?? "greeting" },
        },
      },
    }),
  },
});
const test = base.extend<{ worker: RunningWorker }>({
  worker: [
    async ({ environment }, use) => {
      const worker = await runTemporalWorker(environment.clients.temporal, {
        workflowsPath: new URL("../fixtures/temporal/workflows.ts", import.meta.url),
        activities,
      });
      await use(worker);
      await worker.shutdown();
    },
    { scope: "file", auto: true },
  ],
});

/** Polls until `read` returns `expected` (bounded), for state a worker reaches asynchronously. */
async function eventually<T>(read: () => Promise<T>, expected: T, attempts = 100): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < attempts; i++) {
    last = await read();
    if (last === expected) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return last as T;
}

// On the client's task queue: in local mode each environment has its own, which only its Worker polls.
const start = (
  client: { workflow: { start: (...a: never[]) => unknown }; taskQueue: string },
  workflowId: string,
) =>
  (client.workflow.start as (type: string, options: object) => Promise<{ workflowId: string }>)(
    "onboarding",
    {
      workflowId,
      taskQueue: client.taskQueue,
      args: ["acme"],
    },
  );

describe("temporal dependency", () => {
  test("runs a workflow to its result through a query and a signal @smoke", async ({ clients }) => {
    const { workflow, taskQueue } = clients.temporal;
    const workflowId = uniqueWorkflowId("onboarding");
    const handle = await workflow.start("onboarding", { workflowId, taskQueue, args: ["acme"] });
    expect(await eventually(() => handle.query<string>("status"), "waiting-for-approval")).toBe(
      "waiting-for-approval",
    );
    await handle.signal("approve", "ada");
    expect(await handle.result()).toBe("hello acme; approved by ada");
    expect((await workflow.getHandle(workflowId).describe()).status.name).toBe("COMPLETED");
  });

  test("refuses a second workflow with the id of one still running", async ({ clients }) => {
    const workflowId = uniqueWorkflowId("onboarding");
    await start(clients.temporal, workflowId);
    await expect(start(clients.temporal, workflowId)).rejects.toBeInstanceOf(
      WorkflowExecutionAlreadyStartedError,
    );
  });

  test("cancel and terminate end a workflow, and describe says how", async ({ clients }) => {
    const cancelled = clients.temporal.workflow.getHandle(
      (await start(clients.temporal, uniqueWorkflowId("c"))).workflowId,
    );
    await eventually(() => cancelled.query<string>("status"), "waiting-for-approval");
    await cancelled.cancel();
    await expect(cancelled.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(await eventually(async () => (await cancelled.describe()).status.name, "CANCELLED")).toBe(
      "CANCELLED",
    );

    const terminated = clients.temporal.workflow.getHandle(
      (await start(clients.temporal, uniqueWorkflowId("t"))).workflowId,
    );
    await terminated.terminate("no longer needed");
    await expect(terminated.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await terminated.describe()).status.name).toBe("TERMINATED");
  });

  test("reset terminates what the test left running", async ({ clients, environment }) => {
    const { workflowId } = await start(clients.temporal, uniqueWorkflowId("left-running"));
    await environment.reset();
    expect((await clients.temporal.workflow.getHandle(workflowId).describe()).status.name).toBe("TERMINATED");
  });

  test("activities run in every mode with MockActivityEnvironment", async () => {
    const env = new MockActivityEnvironment();
    expect(await env.run(activities.greet, "acme")).toBe("hello acme");
    await expect(env.run(activities.greet, "")).rejects.toThrow("tenant is required");
  });
});

describeInModes(["repo"], "the Temporal stub", () => {
  test("records every call with its workflow id, task queue and arguments", async ({ clients }) => {
    const workflowId = uniqueWorkflowId("onboarding");
    const handle = await start(clients.temporal, workflowId);
    await clients.temporal.workflow.getHandle(handle.workflowId).signal("approve", "bob");
    expect(clients.temporal.stub?.calls.slice(-2)).toEqual([
      { kind: "start", workflowType: "onboarding", workflowId, taskQueue: "test-support", args: ["acme"] },
      {
        kind: "signal",
        workflowType: "onboarding",
        workflowId,
        taskQueue: "test-support",
        args: ["approve", "bob"],
      },
    ]);
  });

  test("fails loudly, by name, for a workflow type nobody programmed", async ({ clients }) => {
    const error = await clients.temporal.workflow
      .start("billing", { workflowId: uniqueWorkflowId("billing"), taskQueue: "test-support" })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error?.message).toContain('no workflow type "billing"');
    expect(error?.message).toContain("programmed types: onboarding");
  });
});

describeInModes(["local", "cluster"], "Temporal workflow logic on a real engine", () => {
  test("a durable timer fires", async ({ clients }) => {
    const result = await clients.temporal.workflow.execute("delayed", {
      workflowId: uniqueWorkflowId("delayed"),
      taskQueue: clients.temporal.taskQueue,
      args: [200],
    });
    expect(result).toBe("woke up");
  });

  test("a workflow that outlives its execution timeout fails with a timeout", async ({ clients }) => {
    const handle = await clients.temporal.workflow.start("delayed", {
      workflowId: uniqueWorkflowId("slow"),
      taskQueue: clients.temporal.taskQueue,
      args: [60_000],
      workflowExecutionTimeout: "1 second",
    });
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e as WorkflowFailedError,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error?.cause).toBeInstanceOf(TimeoutFailure);
  });

  test("a workflow type no worker knows never completes: it times out rather than succeeding", async ({
    clients,
  }) => {
    const handle = await clients.temporal.workflow.start("noSuchWorkflow", {
      workflowId: uniqueWorkflowId("unknown"),
      taskQueue: clients.temporal.taskQueue,
      workflowExecutionTimeout: "1 second",
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
  });
});
