import { describe, expect, it } from "vitest";
import { caught, fakeDependency, memoryTelemetry } from "../tests/helpers.js";
import { createIntegrationEnvironment } from "./environment.js";
import { isTestSupportError } from "./errors.js";

const clusterEnv = { INTEGRATION_MODE: "cluster", A_URL: "fake://a", B_URL: "fake://b" };

describe("createIntegrationEnvironment in cluster mode", () => {
  it("lists every missing variable of every dependency in one error, before connecting anything", async () => {
    const a = fakeDependency({ variables: ["A_URL", "A_TOKEN"] });
    const b = fakeDependency({ variables: ["B_URL"] });
    const c = fakeDependency({ variables: ["C_URL"] });
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { a: a.dependency, b: b.dependency, c: c.dependency },
        env: { INTEGRATION_MODE: "cluster", A_URL: "x", B_URL: "" },
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "MISSING_VARIABLES")).toBe(true);
    expect(error.message).toContain('A_TOKEN (dependency "a", fake)');
    expect(error.message).toContain('B_URL (dependency "b", fake)');
    expect(error.message).toContain('C_URL (dependency "c", fake)');
    expect(error.message).not.toMatch(/A_URL/);
    expect(error.message).toContain("Nothing was connected");
    // The advice fits the runner, which sets the mode itself: unsetting the variable would not change it there.
    expect(error.message).toContain("pass --mode=repo to pnpm test:integration");
    expect(error.message).toContain("bash scripts/cluster-up.sh > .env.integration");
    expect([...a.calls, ...b.calls, ...c.calls]).toEqual([]);
  });

  it("builds live clients and never a double", async () => {
    const a = fakeDependency({ variables: ["A_URL"] });
    const telemetry = memoryTelemetry();
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { a: a.dependency },
      env: clusterEnv,
      telemetry,
    });
    expect(env.mode).toBe("cluster");
    expect(env.clients.a.implementation).toBe("fake-live");
    expect(a.calls).toEqual(["live"]);
    expect(telemetry.events[0]).toMatchObject({
      mode: "cluster",
      implementation: "fake-live",
      target: "fake://live",
    });
    await env.close();
  });

  it("bounds connecting: a dependency that does not answer fails with its name and target", async () => {
    let closedLate = false;
    const slow = fakeDependency({
      variables: ["A_URL"],
      live: (context) =>
        new Promise((resolve) => {
          context.signal.addEventListener("abort", () => setTimeout(resolve, 10));
        }),
      close: async () => {
        closedLate = true;
      },
    });
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { slowdb: slow.dependency },
        env: clusterEnv,
        connectTimeoutMs: 50,
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "CONNECT_TIMEOUT")).toBe(true);
    expect(error.message).toContain('dependency "slowdb" (fake) did not answer within 50 ms at fake://live');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closedLate).toBe(true);
  });

  it("bounds set-up after connecting separately, with its own message", async () => {
    let sawAbort = false;
    const migrating = fakeDependency({
      variables: ["A_URL"],
      live: async (context) => {
        context.connected();
        // A migration that never finishes: the connect bound (50 ms) no longer applies, the set-up bound does.
        await new Promise<void>((resolve) =>
          context.signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve();
          }),
        );
      },
    });
    const started = performance.now();
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { db: migrating.dependency },
        env: clusterEnv,
        connectTimeoutMs: 50,
        setupTimeoutMs: 200,
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "SETUP_TIMEOUT")).toBe(true);
    expect(error.message).toContain(
      'dependency "db" (fake) connected to fake://live but did not finish setting up',
    );
    expect(error.message).toContain("within 200 ms");
    expect(error.message).toContain("INTEGRATION_SETUP_TIMEOUT_MS");
    expect(sawAbort).toBe(true);
    // It waited for the set-up bound, not just the connect bound.
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it("closes what it opened when another dependency fails, and names the failure", async () => {
    const good = fakeDependency({ variables: ["A_URL"] });
    const bad = fakeDependency({
      variables: ["B_URL"],
      live: async () => {
        throw new Error("ECONNREFUSED 127.0.0.1:9");
      },
    });
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "svc",
        dependencies: { good: good.dependency, bad: bad.dependency },
        env: clusterEnv,
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "CONNECT_FAILED")).toBe(true);
    expect(error.message).toContain(
      'dependency "bad" (fake) could not be set up at fake://live: ECONNREFUSED',
    );
    expect(good.calls).toEqual(["live", "close:fake-live"]);
  });

  it("refuses a second environment in another mode in the same process", async () => {
    const env = await createIntegrationEnvironment({
      service: "svc",
      dependencies: { a: fakeDependency({ variables: ["A_URL"] }).dependency },
      env: clusterEnv,
      telemetry: memoryTelemetry(),
    });
    const repo = fakeDependency();
    const error = await caught(() =>
      createIntegrationEnvironment({
        service: "other",
        dependencies: { a: repo.dependency },
        env: { INTEGRATION_MODE: "repo" },
        telemetry: memoryTelemetry(),
      }),
    );
    expect(isTestSupportError(error, "MODE_CONFLICT")).toBe(true);
    expect(error.message).toContain("already runs in cluster mode");
    expect(repo.calls).toEqual([]);
    await env.close();
  });
});
