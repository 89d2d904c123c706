import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from "@temporalio/client";
import { describe, expect, it } from "vitest";
import { TemporalStub } from "./stub.js";

const stub = () =>
  new TemporalStub(
    {
      add: { run: (_context, a, b) => (a as number) + (b as number) },
      fail: {
        run: () => {
          throw new Error("payment declined");
        },
      },
      wait: { run: (context) => context.nextSignal("go").then(([value]) => value) },
    },
    "q",
  );

describe("TemporalStub", () => {
  it("executes a programmed workflow to its result", async () => {
    expect(await stub().execute("add", { workflowId: "w1", args: [2, 3] })).toBe(5);
  });

  it("reports a thrown error as a failed workflow, with the failure as its cause", async () => {
    const error = await stub()
      .execute("fail", { workflowId: "w2" })
      .then(
        () => undefined,
        (e: unknown) => e as WorkflowFailedError,
      );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error?.cause?.message).toBe("payment declined");
  });

  it("allows an id again once its workflow closed, as the server's default policy does", async () => {
    const s = stub();
    await s.execute("add", { workflowId: "same", args: [1, 1] });
    expect(await s.execute("add", { workflowId: "same", args: [2, 2] })).toBe(4);
  });

  it("refuses an id that is still running", async () => {
    const s = stub();
    await s.start("wait", { workflowId: "busy" });
    await expect(s.start("wait", { workflowId: "busy" })).rejects.toBeInstanceOf(
      WorkflowExecutionAlreadyStartedError,
    );
  });

  it("delivers a signal sent before the workflow waits for it", async () => {
    const s = stub();
    const handle = await s.start("wait", { workflowId: "early" });
    await handle.signal("go", "now");
    expect(await handle.result()).toBe("now");
  });

  it("does not know an id it never started", async () => {
    await expect(stub().getHandle("ghost").describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it("fails a query nobody programmed, by name", async () => {
    const s = stub();
    const handle = await s.start("wait", { workflowId: "q" });
    await expect(handle.query("progress")).rejects.toThrow('workflow type "wait" has no query "progress"');
  });

  it("says which handle methods it does not implement", async () => {
    const s = stub();
    await s.start("wait", { workflowId: "h" });
    await expect(s.getHandle("h").fetchHistory()).rejects.toThrow("does not implement handle.fetchHistory()");
  });

  it("needs a workflow id", async () => {
    await expect(stub().start("add", { workflowId: "" })).rejects.toThrow("needs a workflowId");
  });
});
