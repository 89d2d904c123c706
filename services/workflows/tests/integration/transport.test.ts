import { randomUUID } from "node:crypto";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { WorkflowsService } from "../../src/index.js";
import { createWorkflowsTransport } from "../../src/testing/index.js";

// A run cannot be held in RUNNING on demand in every mode, so the refusal is shown on the handlers alone,
// over a database that answers as PostgreSQL does for a running run: the guarded DELETE matches nothing.
describe("DeleteRun on a running run", () => {
  it("is refused with FAILED_PRECONDITION and says when it can be deleted", async () => {
    const runId = randomUUID();
    const statements: string[] = [];
    const db = {
      async query(sql: string) {
        statements.push(sql);
        return { rows: sql.startsWith("select state") ? [{ state: "running" }] : [] };
      },
    } as unknown as pg.Pool;
    const client = createClient(
      WorkflowsService,
      createWorkflowsTransport({ db, workflow: { start: async () => ({}) as never }, taskQueue: "q" }),
    );
    let caught: ConnectError | undefined;
    try {
      await client.deleteRun({ runId });
    } catch (error) {
      caught = ConnectError.from(error);
    }
    expect(caught?.code).toBe(Code.FailedPrecondition);
    expect(caught?.rawMessage).toBe(
      `run ${runId} is still running; delete it once it has completed or failed`,
    );
    expect(statements[0]).toContain("state <> 'running'");
  });
});
