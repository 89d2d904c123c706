import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { caught, fakeDependency, memoryTelemetry } from "../tests/helpers.js";
import { createIntegrationEnvironment } from "./environment.js";
import { isTestSupportError } from "./errors.js";

// Every environment in this file runs in repo mode, so the process never conflicts with itself.
const repoEnv = { INTEGRATION_MODE: "repo" };

describe("createIntegrationEnvironment in repo mode", () => {
  it("builds doubles, never live clients, and hands out typed clients", async () => {
    const a = fakeDependency({ variables: ["A_URL"] });
    const b = fakeDependency();
    const telemetry = memoryTelemetry();
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { a: a.dependency, b: b.dependency },
      env: repoEnv,
      telemetry,
    });
    expect(env.mode).toBe("repo");
    expect(env.clients.a.implementation).toBe("fake-double");
    expect(env.clients.b.implementation).toBe("fake-double");
    expect(a.calls).toEqual(["double"]);
    expect(b.calls).toEqual(["double"]);
    await env.close();
  });

  it("treats an unset INTEGRATION_MODE as repo and needs no variables", async () => {
    const a = fakeDependency({ variables: ["NOT_SET_ANYWHERE_URL"] });
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { a: a.dependency },
      env: {},
      telemetry: memoryTelemetry(),
    });
    expect(env.mode).toBe("repo");
    await env.close();
  });

  it("emits one selection event per dependency with service, mode, implementation and target", async () => {
    const telemetry = memoryTelemetry();
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { a: fakeDependency().dependency, b: fakeDependency().dependency },
      env: repoEnv,
      telemetry,
    });
    await env.close();
    const selected = telemetry.events.filter((e) => e.event === "dependency.selected");
    expect(selected).toHaveLength(2);
    expect(selected.map((e) => e.dependency).sort()).toEqual(["a", "b"]);
    for (const event of selected) {
      expect(event).toMatchObject({
        service: "svc",
        mode: "repo",
        kind: "fake",
        implementation: "fake-double",
        target: "in-process",
      });
      expect(event.runId).toMatch(/^[0-9a-z]{26}$/);
    }
  });

  it("writes events to artifacts/<service>/events.jsonl by default", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts-artifacts-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = await createIntegrationEnvironment({
      service: "svc-events",
      dependencies: { a: fakeDependency().dependency },
      env: { ...repoEnv, INTEGRATION_ARTIFACTS_DIR: dir },
    });
    await env.close();
    const lines = readFileSync(join(dir, "svc-events", "events.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(lines.map((line) => JSON.parse(line).event)).toEqual(["dependency.selected", "dependency.closed"]);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ event: "dependency.selected", dependency: "a" });
  });

  it("resets every dependency and reports every failure by name", async () => {
    const ok = fakeDependency();
    const bad = fakeDependency({
      reset: async () => {
        throw new Error("disk on fire");
      },
    });
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { ok: ok.dependency, bad: bad.dependency },
      env: repoEnv,
      telemetry: memoryTelemetry(),
    });
    const error = await caught(() => env.reset());
    expect(isTestSupportError(error, "RESET_FAILED")).toBe(true);
    expect(error.message).toContain('"bad": disk on fire');
    expect(ok.calls).toContain("reset:fake-double");
    await env.close();
  });

  it("closes in reverse order, once, and refuses to reset afterwards", async () => {
    const order: string[] = [];
    const first = fakeDependency({ close: async () => void order.push("first") });
    const second = fakeDependency({ close: async () => void order.push("second") });
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { first: first.dependency, second: second.dependency },
      env: repoEnv,
      telemetry: memoryTelemetry(),
    });
    await Promise.all([env.close(), env.close()]);
    expect(order).toEqual(["second", "first"]);
    expect(isTestSupportError(await caught(() => env.reset()), "CLOSED")).toBe(true);
  });

  it("supports await using", async () => {
    const a = fakeDependency();
    {
      await using env = await createIntegrationEnvironment({
        service: "svc",
        dependencies: { a: a.dependency },
        env: repoEnv,
        telemetry: memoryTelemetry(),
      });
      expect(env.clients.a.implementation).toBe("fake-double");
    }
    expect(a.calls).toEqual(["double", "close:fake-double"]);
  });

  it.each([
    [{ service: "", dependencies: {} }, /service "" is not a valid service name/],
    [{ service: "Platform", dependencies: {} }, /not a valid service name/],
    [{ service: "svc", dependencies: {} }, /declared no dependencies/],
    [{ service: "svc", dependencies: { "bad-name": fakeDependency().dependency } }, /not an identifier/],
    [{ service: "svc", dependencies: { db: { kind: "x" } } }, /"db" is not a Dependency/],
  ])("rejects bad options: %#", async (options, message) => {
    const error = await caught(() =>
      // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input.
      createIntegrationEnvironment({ ...(options as any), env: repoEnv, telemetry: memoryTelemetry() }),
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toMatch(message);
  });

  it("rejects a malformed connect timeout and run id", async () => {
    const base = {
      service: "svc",
      dependencies: { a: fakeDependency().dependency },
      telemetry: memoryTelemetry(),
    };
    const timeout = await caught(() =>
      createIntegrationEnvironment({ ...base, env: { ...repoEnv, INTEGRATION_CONNECT_TIMEOUT_MS: "5s" } }),
    );
    expect(timeout.message).toContain(
      'INTEGRATION_CONNECT_TIMEOUT_MS="5s" is not a whole number of milliseconds',
    );
    const runId = await caught(() =>
      createIntegrationEnvironment({ ...base, env: { ...repoEnv, INTEGRATION_RUN_ID: "run/1" } }),
    );
    expect(runId.message).toContain('INTEGRATION_RUN_ID="run/1"');
  });

  it.each([
    ["connectTimeoutMs", 2 ** 31],
    ["connectTimeoutMs", 0],
    ["setupTimeoutMs", -1],
    ["operationTimeoutMs", 1.5],
    ["operationTimeoutMs", Number.NaN],
  ])("rejects %s=%s, which a timer cannot hold, before building anything", async (option, value) => {
    const a = fakeDependency();
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { a: a.dependency },
        env: repoEnv,
        [option]: value,
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain(`${option}=`);
    expect(error.message).toContain("between 1 and 2147483647");
    expect(a.calls).toEqual([]);
  });

  it.each([
    ["INTEGRATION_CONNECT_TIMEOUT_MS", "2147483648"],
    ["INTEGRATION_SETUP_TIMEOUT_MS", "1e3"],
    ["INTEGRATION_OPERATION_TIMEOUT_MS", " 100"],
    ["INTEGRATION_OPERATION_TIMEOUT_MS", ""],
  ])("rejects %s=%j", async (variable, value) => {
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { a: fakeDependency().dependency },
        env: { ...repoEnv, [variable]: value },
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
    expect(error.message).toContain(`${variable}=${JSON.stringify(value)}`);
  });

  it("bounds a reset that never finishes, naming the dependency, and the next reset still runs", async () => {
    let stall = true;
    const stuck = fakeDependency({
      reset: () => (stall ? new Promise<void>(() => {}) : Promise.resolve()),
    });
    const telemetry = memoryTelemetry();
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { cache: stuck.dependency },
      env: repoEnv,
      operationTimeoutMs: 100,
      telemetry,
    });
    const error = await caught(() => env.reset());
    expect(isTestSupportError(error, "RESET_FAILED")).toBe(true);
    expect(error.message).toContain('dependency "cache" (fake) did not finish its reset within 100 ms');
    stall = false;
    await env.reset();
    await env.close();
    const resets = telemetry.events.filter((e) => e.event === "dependency.reset");
    expect(resets).toHaveLength(2);
    expect(resets[0]?.error).toContain("did not finish its reset");
    expect(resets[1]).toMatchObject({ dependency: "cache", kind: "fake", implementation: "fake-double" });
    expect(resets[1]?.error).toBeUndefined();
    expect(typeof resets[1]?.durationMs).toBe("number");
  });

  it("bounds a close that never finishes, closes the others, and names what may be left", async () => {
    const order: string[] = [];
    const stuck = fakeDependency({ close: () => new Promise<void>(() => {}) });
    const fine = fakeDependency({ close: async () => void order.push("fine") });
    const telemetry = memoryTelemetry();
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { fine: fine.dependency, stuck: stuck.dependency },
      env: repoEnv,
      operationTimeoutMs: 100,
      telemetry,
    });
    const error = await caught(() => env.close());
    expect(isTestSupportError(error, "CLOSE_FAILED")).toBe(true);
    expect(error.message).toContain(
      '"stuck" (in-process): [test-support] dependency "stuck" (fake) did not finish its close',
    );
    expect(error.message).toContain("pnpm test:integration sweep");
    expect(order).toEqual(["fine"]);
    expect(telemetry.events.filter((e) => e.event === "dependency.closed").map((e) => e.dependency)).toEqual([
      "stuck",
      "fine",
    ]);
  });

  it("rejects an invalid mode before building anything", async () => {
    const a = fakeDependency();
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { a: a.dependency },
        env: { INTEGRATION_MODE: "Cluster" },
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "INVALID_MODE")).toBe(true);
    expect(a.calls).toEqual([]);
  });
});
