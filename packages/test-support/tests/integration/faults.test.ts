import { Client } from "@temporalio/client";
import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, expect, it } from "vitest";
import {
  createIntegrationEnvironment,
  type Dependency,
  type IntegrationEnvironment,
  isTestSupportError,
  openfga,
  postgres,
  redis,
  type TemporalClient,
  temporal,
  uniqueWorkflowId,
} from "../../src/index.js";
import { connectTemporal } from "../../src/temporal/connection.js";
import { describeInModes } from "../../src/vitest/index.js";
import { type FaultProxy, startFaultProxy } from "../fault-proxy.js";

// Each live dependency kind behind the loopback fault proxy (tests/fault-proxy.ts): refused, stalled after
// set-up, delayed, cut mid-operation, and an outage followed by recovery. Nothing may hang: every failure
// ends within its bound and says what failed; what a failed close left is named and removed here.
const OPERATION_MS = 1000;

interface Kind {
  readonly kind: string;
  /** The variable the dependency reads and the real server's URL. */
  readonly variable: string;
  dependency(): Dependency<unknown>;
  /** One representative operation through the handed-out client. */
  operation(client: unknown): Promise<unknown>;
  /**
   * What a connection cut mid-operation does: the drivers of Postgres and OpenFGA fail the operation with
   * the cause; ioredis resends a command that got no answer once it has reconnected (as in production),
   * so it completes, once.
   */
  readonly cut: "fails" | "resent";
  /** After a resent operation: that it took effect exactly once (given its result). */
  resentOnce?(client: unknown, result: unknown): Promise<void>;
  /** The variables that point the dependency at a proxy on `port` (default: the URL variable, re-pointed). */
  via?(port: number): Record<string, string>;
  /** The real server's port (default: the URL variable's). */
  upstreamPort?(): number;
  /** Removes, straight from the server, what an environment whose close failed left (from its target). */
  cleanUp(target: string): Promise<void>;
}

const real = (variable: string) => {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is not set; the cluster lane sets it.`);
  return new URL(value);
};

const KINDS: Kind[] = [
  {
    kind: "postgres",
    variable: "TEST_SUPPORT_DATABASE_URL",
    cut: "fails",
    dependency: () =>
      postgres({
        migrations: new URL("../fixtures/migrations/", import.meta.url),
        urlEnv: "TEST_SUPPORT_DATABASE_URL",
      }),
    operation: (client) =>
      (client as pg.Pool).query("insert into accounts (email) values ($1) returning id", [
        `${Math.random()}@x.test`,
      ]),
    async cleanUp(target) {
      const schema = /schema (\S+)\)/.exec(target)?.[1];
      if (!schema) return;
      const db = new pg.Client({ connectionString: real("TEST_SUPPORT_DATABASE_URL").href });
      await db.connect();
      await db.query(`drop schema if exists "${schema}", "${schema}_ctl" cascade`);
      await db.query("delete from test_support_leases.schemas where schema_name = $1", [schema]);
      await db.end();
    },
  },
  {
    kind: "redis",
    variable: "REDIS_URL",
    cut: "resent",
    async resentOnce(client) {
      // The server never saw the first transmission (it was held by the delay), so the resend counts once.
      expect(await (client as Redis).get("counter")).toBe("2");
    },
    dependency: () => redis({ urlEnv: "REDIS_URL" }),
    operation: (client) => (client as Redis).incr("counter"),
    async cleanUp(target) {
      const prefix = /keys (\S+)\*\)/.exec(target)?.[1];
      if (!prefix) return;
      const admin = new Redis(real("REDIS_URL").href);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.hdel("it:leases", prefix);
      await admin.del(`it:lease:${prefix}`);
      admin.disconnect();
    },
  },
  {
    kind: "openfga",
    variable: "FGA_API_URL",
    cut: "fails",
    dependency: () => openfga({ model: new URL("../fixtures/authz.fga", import.meta.url) }),
    operation: (client) =>
      (client as import("@openfga/sdk").OpenFgaClient).writeTuples([
        { user: `user:${Math.random().toString(36).slice(2)}`, relation: "owner", object: "document:f" },
      ]),
    async cleanUp(target) {
      const store = /store (\S+)\)/.exec(target)?.[1];
      if (store) await fetch(`${real("FGA_API_URL").origin}/stores/${store}`, { method: "DELETE" });
    },
  },
  {
    kind: "temporal",
    variable: "TEMPORAL_ADDRESS",
    // The SDK retries an unavailable call with the same request id, so the server starts the workflow once.
    cut: "resent",
    async resentOnce(client, result) {
      const { workflowId } = result as { workflowId: string };
      const history = await (client as TemporalClient).workflow.getHandle(workflowId).fetchHistory();
      expect(history.events?.filter((e) => e.workflowExecutionStartedEventAttributes)).toHaveLength(1);
      expect((await (client as TemporalClient).workflow.getHandle(workflowId).describe()).status.name).toBe(
        "RUNNING",
      );
    },
    upstreamPort: () => Number(temporalAddress().split(":")[1]),
    via: (port) => ({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }),
    dependency: () =>
      temporal({ namespaceEnv: "TEMPORAL_NAMESPACE", addressEnv: "TEMPORAL_ADDRESS", taskQueue: "faults" }),
    // No worker polls this queue: the workflow runs until reset or close terminates it.
    operation: (client) =>
      (client as TemporalClient).workflow.start("waits", {
        workflowId: uniqueWorkflowId("faults"),
        taskQueue: "faults",
        workflowExecutionTimeout: "5 minutes",
      }),
    async cleanUp(target) {
      const leaseId = /lease (\S+)\)/.exec(target)?.[1];
      if (!leaseId) return;
      const { connection, close } = await connectTemporal({ address: temporalAddress() });
      const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE as string });
      const lease = client.workflow.getHandle(leaseId);
      for (const id of ((await lease.describe()).memo?.workflows as string[] | undefined) ?? []) {
        await client.workflow
          .getHandle(id)
          .terminate("faults test clean-up")
          .catch(() => {});
      }
      await lease.terminate("faults test clean-up").catch(() => {});
      await close();
    },
  },
];

function temporalAddress(): string {
  const value = process.env.TEMPORAL_ADDRESS;
  if (!value) throw new Error("TEMPORAL_ADDRESS is not set; the cluster lane sets it.");
  return value;
}

const proxies: FaultProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function behindProxy(kind: Kind) {
  const proxy = await startFaultProxy(kind.upstreamPort?.() ?? Number(real(kind.variable).port));
  proxies.push(proxy);
  const pointed = () => {
    if (kind.via) return kind.via(proxy.port);
    const via = new URL(real(kind.variable).href);
    via.hostname = "127.0.0.1";
    via.port = String(proxy.port);
    return { [kind.variable]: kind.kind === "openfga" ? via.origin : via.href };
  };
  const open = () =>
    createIntegrationEnvironment({
      service: "test-support",
      dependencies: { dep: kind.dependency() },
      env: { ...process.env, ...pointed() },
      connectTimeoutMs: 3000,
      operationTimeoutMs: OPERATION_MS,
      telemetry: { emit() {} },
    }) as Promise<IntegrationEnvironment<{ dep: Dependency<unknown> }>>;
  return { proxy, open };
}

const outcome = async (action: () => Promise<unknown>) => {
  const started = performance.now();
  try {
    const result = await action();
    return { error: undefined, result, ms: performance.now() - started };
  } catch (error) {
    return { error: error as Error, result: undefined, ms: performance.now() - started };
  }
};

for (const kind of KINDS) {
  describeInModes(["cluster"], `${kind.kind} behind a fault proxy`, () => {
    it("refused: set-up fails with the cause, naming the kind and the target, within the connect bound", {
      timeout: 30_000,
    }, async () => {
      const { proxy, open } = await behindProxy(kind);
      proxy.set({ kind: "refuse" });
      const { error } = await outcome(open);
      expect(isTestSupportError(error)).toBe(true);
      expect(error?.message).toContain(kind.kind);
      expect(error?.message).toContain(`127.0.0.1:${proxy.port}`);
      expect(error?.message).toMatch(/ECONNRESET|socket hang up|closed|terminated|did not answer|reset/i);
    });

    it("stalled after set-up: the operation, reset and close each end within their bound, naming the dependency and what was left", {
      timeout: 60_000,
    }, async () => {
      const { proxy, open } = await behindProxy(kind);
      const env = await open();
      const target = env.targets.dep.target;
      try {
        await kind.operation(env.clients.dep);
        proxy.set({ kind: "stall" });
        const operation = await outcome(() => kind.operation(env.clients.dep));
        expect(operation.error?.message).toMatch(/within \d+ ?ms|timeout of \d+ms exceeded/);
        expect(operation.ms).toBeLessThan(OPERATION_MS + 5000);
        const reset = await outcome(() => env.reset());
        expect(isTestSupportError(reset.error, "RESET_FAILED")).toBe(true);
        expect(reset.error?.message).toContain(`"dep"`);
        expect(reset.error?.message).toMatch(/did not finish its reset within 1000 ms|within \d+ ms/);
        const close = await outcome(() => env.close());
        expect(isTestSupportError(close.error, "CLOSE_FAILED")).toBe(true);
        expect(close.error?.message).toContain(`"dep" (${target})`);
        expect(close.error?.message).toContain("sweep");
        expect(close.ms).toBeLessThan(OPERATION_MS + 5000);
      } finally {
        proxy.cut();
        await kind.cleanUp(target);
      }
    });

    it("delayed: every operation, reset and close still succeed", { timeout: 60_000 }, async () => {
      const { proxy, open } = await behindProxy(kind);
      proxy.set({ kind: "delay", ms: 20 });
      const env = await open();
      await kind.operation(env.clients.dep);
      await env.reset();
      await kind.operation(env.clients.dep);
      await env.close();
    });

    it(`cut mid-operation: the operation ${kind.cut === "fails" ? "fails with the cause" : "is resent once reconnected"}, and the next one passes`, {
      timeout: 60_000,
    }, async () => {
      const { proxy, open } = await behindProxy(kind);
      await using env = await open();
      await kind.operation(env.clients.dep);
      proxy.set({ kind: "delay", ms: 800 });
      const pending = outcome(() => kind.operation(env.clients.dep));
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.cut();
      proxy.set({ kind: "pass" });
      const { error, result } = await pending;
      if (kind.cut === "fails") {
        expect(error?.message).toMatch(/terminated|ECONNRESET|socket hang up|connection|closed|network/i);
      } else {
        expect(error).toBeUndefined();
        await kind.resentOnce?.(env.clients.dep, result);
      }
      await env.reset();
      await kind.operation(env.clients.dep);
    });

    it("an outage, then recovery: the first operation fails with the cause, later ones pass", {
      timeout: 60_000,
    }, async () => {
      const { proxy, open } = await behindProxy(kind);
      await using env = await open();
      await kind.operation(env.clients.dep);
      proxy.set({ kind: "refuse" });
      const during = await outcome(() => kind.operation(env.clients.dep));
      expect(during.error?.message).toMatch(
        /ECONNRESET|ECONNREFUSED|socket hang up|terminated|closed|connection|network|down/i,
      );
      proxy.set({ kind: "pass" });
      // What the fixture runs before the next test: a reset, on a connection made afresh.
      await env.reset();
      await kind.operation(env.clients.dep);
      await kind.operation(env.clients.dep);
    });
  });
}

describeInModes(["cluster"], "temporal connection closed while a call waits to retry", () => {
  it("the call fails naming the close, and no retry fires on the closed channel afterwards", {
    timeout: 30_000,
  }, async () => {
    const proxy = await startFaultProxy(Number(temporalAddress().split(":")[1]));
    proxies.push(proxy);
    const uncaught: Error[] = [];
    const record = (error: Error) => uncaught.push(error);
    process.on("uncaughtException", record);
    try {
      const { connection, close } = await connectTemporal({
        address: `127.0.0.1:${proxy.port}`,
        connectTimeout: 5000,
      });
      proxy.set({ kind: "refuse" });
      proxy.cut();
      // UNAVAILABLE at once, then retried from a timer: with @temporalio/client's own interceptor a timer still
      // pending at close() fires on the closed channel and throws "Channel has been shut down", uncaught.
      const pending = connection.workflowService
        .describeNamespace({ namespace: process.env.TEMPORAL_NAMESPACE as string })
        .then(
          () => undefined,
          (error: Error) => error,
        );
      await new Promise((resolve) => setTimeout(resolve, 400));
      await close();
      // With the SDK's own interceptor the call never ends: its retry throws in the timer instead.
      const error = await Promise.race([
        pending,
        new Promise<Error>((resolve) =>
          setTimeout(() => resolve(new Error("the call had not ended 5 s after close()")), 5000),
        ),
      ]);
      expect(error?.message).toMatch(/closed while the call waited to retry|UNAVAILABLE/);
      // Longer than the SDK's largest retry delay after these attempts (under 1.5 s by its backoff).
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(uncaught.map((e) => e.message)).toEqual([]);
    } finally {
      process.off("uncaughtException", record);
    }
  });
});

describeInModes(["cluster"], "temporal long polls behind a fault proxy", () => {
  it("result() waits while the server answers, and fails within about twice the bound once it stalls", {
    timeout: 60_000,
  }, async () => {
    const kind = KINDS.find((k) => k.kind === "temporal") as Kind;
    const { proxy, open } = await behindProxy(kind);
    const env = await open();
    const target = env.targets.dep.target;
    try {
      const handle = (await kind.operation(env.clients.dep)) as { result(): Promise<unknown> };
      const waiting = outcome(() => handle.result());
      // Longer than the bound: a long poll is not cut short while the server answers.
      await new Promise((resolve) => setTimeout(resolve, OPERATION_MS * 2.5));
      proxy.set({ kind: "stall" });
      const stalledAt = performance.now();
      const { error } = await waiting;
      const waitedMs = performance.now() - stalledAt;
      expect(isTestSupportError(error, "OPERATION_TIMEOUT")).toBe(true);
      expect(error?.message).toContain(
        'dependency "dep" (temporal) stopped answering while result() of workflow',
      );
      expect(error?.message).toContain(`did not answer describe`);
      expect(waitedMs).toBeLessThan(OPERATION_MS * 2 + 1000);
    } finally {
      await env.close().catch(() => {});
      proxy.cut();
      await kind.cleanUp(target);
    }
  });
});
