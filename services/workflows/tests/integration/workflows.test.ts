import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Role } from "@org/platform";
import { integrationTest } from "@org/test-support/vitest";
import { describe, expect } from "vitest";
import { RunState } from "../../src/index.js";
import { type WorkflowsTestClients, workflowsService } from "../../src/testing/index.js";

// Written once: Temporal's stub runs the onboarding steps in repo mode, a dev server and a Worker in
// local mode, the running services in cluster mode.
const test = integrationTest({ service: "workflows", dependencies: { app: workflowsService() } });
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Polls GetRun until the run leaves RUNNING (bounded). */
async function settled(app: WorkflowsTestClients, runId: string) {
  for (let i = 0; i < 150; i++) {
    const { run } = await app.workflows.getRun({ runId });
    if (run && run.state !== RunState.RUNNING) return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${runId} still running after 15 s`);
}

async function failure(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}

describe("workflows service", () => {
  test("onboarding creates the tenant's first thread with a welcome message @smoke", async ({ clients }) => {
    const owner = id("ada");
    const { tenant } = await clients.app.platform.createTenant({ name: id("acme"), ownerUserId: owner });
    const { run } = await clients.app.workflows.startOnboarding({ tenantId: tenant?.id, userId: owner });
    expect(run?.state).toBe(RunState.RUNNING);
    const done = await settled(clients.app, run?.id ?? "");
    expect(done.state).toBe(RunState.COMPLETED);
    const { messages } = await clients.app.threads.listMessages({ threadId: done.threadId, userId: owner });
    expect(messages.map((m) => m.body)).toEqual(["Welcome to your new workspace."]);
  });

  test("a user who may not write to the tenant fails the run, and GetRun says why", async ({ clients }) => {
    const { tenant } = await clients.app.platform.createTenant({
      name: id("globex"),
      ownerUserId: id("ada"),
    });
    const { run } = await clients.app.workflows.startOnboarding({
      tenantId: tenant?.id,
      userId: id("mallory"),
    });
    const done = await settled(clients.app, run?.id ?? "");
    expect(done.state).toBe(RunState.FAILED);
    expect(done.error).toContain("PermissionDenied");
    expect(done.threadId).toBe("");
  });

  test("members may onboard too", async ({ clients }) => {
    const owner = id("ada");
    const member = id("grace");
    const { tenant } = await clients.app.platform.createTenant({ name: id("initech"), ownerUserId: owner });
    await clients.app.platform.addMember({ tenantId: tenant?.id, userId: member, role: Role.MEMBER });
    const { run } = await clients.app.workflows.startOnboarding({ tenantId: tenant?.id, userId: member });
    expect((await settled(clients.app, run?.id ?? "")).state).toBe(RunState.COMPLETED);
  });

  test("bad input is rejected and an unknown run is not found", async ({ clients }) => {
    expect(
      (await failure(clients.app.workflows.startOnboarding({ tenantId: "acme", userId: "ada" }))).code,
    ).toBe(Code.InvalidArgument);
    expect(
      (await failure(clients.app.workflows.startOnboarding({ tenantId: randomUUID(), userId: "" }))).code,
    ).toBe(Code.InvalidArgument);
    expect((await failure(clients.app.workflows.getRun({ runId: "nope" }))).code).toBe(Code.InvalidArgument);
    const missing = await failure(clients.app.workflows.getRun({ runId: randomUUID() }));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.rawMessage).toMatch(/^run .* not found$/);
  });

  test("a finished run can be deleted once; then it is not found", async ({ clients }) => {
    const owner = id("ada");
    const { tenant } = await clients.app.platform.createTenant({ name: id("umbrella"), ownerUserId: owner });
    const { run } = await clients.app.workflows.startOnboarding({ tenantId: tenant?.id, userId: owner });
    const done = await settled(clients.app, run?.id ?? "");
    await clients.app.workflows.deleteRun({ runId: done.id });
    expect((await failure(clients.app.workflows.getRun({ runId: done.id }))).code).toBe(Code.NotFound);
    const again = await failure(clients.app.workflows.deleteRun({ runId: done.id }));
    expect(again.code).toBe(Code.NotFound);
    expect(again.rawMessage).toBe(`run ${done.id} not found`);
    expect((await failure(clients.app.workflows.deleteRun({ runId: "nope" }))).code).toBe(
      Code.InvalidArgument,
    );
  });
});
