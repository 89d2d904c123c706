// Faults and bad input against a private redis-server on a free port (never the shared one): outages and
// recovery, stalls and time bounds, database numbers, and what reset costs.
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { caught, memoryTelemetry } from "../../tests/helpers.js";
import { createIntegrationEnvironment, type IntegrationEnvironment } from "../environment.js";
import { isTestSupportError } from "../errors.js";
import { freePort, type RedisServerProcess, redisServerBinary, startRedisServer } from "./local-server.js";
import { redis } from "./redis.js";

const dependencies = { cache: redis({ urlEnv: "SVC_REDIS_URL" }) };
type Env = IntegrationEnvironment<typeof dependencies>;

function open(url: string, options: { operationTimeoutMs?: number } = {}): Promise<Env> {
  return createIntegrationEnvironment({
    service: "svc",
    dependencies,
    env: { INTEGRATION_MODE: "cluster", SVC_REDIS_URL: url },
    connectTimeoutMs: 3000,
    telemetry: memoryTelemetry(),
    ...options,
  });
}

async function eventually<T>(action: () => Promise<T>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await action();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A loopback TCP proxy to `port` that can stall: it keeps connections open but stops forwarding. */
async function stallingProxy(port: number) {
  let stalled = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect({ host: "127.0.0.1", port });
    sockets.add(client).add(upstream);
    client.on("data", (data) => {
      if (!stalled) upstream.write(data);
    });
    upstream.on("data", (data) => {
      if (!stalled) client.write(data);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  const listenPort = await freePort();
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  return {
    url: `redis://127.0.0.1:${listenPort}`,
    stall: () => {
      stalled = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!redisServerBinary())("redis against a private redis-server", () => {
  let server: RedisServerProcess;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(() => server?.stop());

  describe("the database in the URL", () => {
    it("refuses a database that is not a number before connecting, naming the variable", async () => {
      // The port is closed: the error must come from reading the URL, not from a connection.
      const error = await caught(() => open("redis://127.0.0.1:1/abc"));
      expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
      expect(error.message).toContain('SVC_REDIS_URL selects the database "abc", which is not a number');
      expect(error.message).toContain("redis://127.0.0.1:6379/0");
    });

    it("refuses a database the server does not have, saying how many it has", async () => {
      const error = await caught(() => open(`${server.url}/99`));
      expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
      expect(error.message).toContain("SVC_REDIS_URL selects database 99");
      expect(error.message).toContain("DB index is out of range");
      expect(error.message).toContain("it has 16 (0 to 15)");
    });

    it("refuses query parameters it would otherwise ignore", async () => {
      const error = await caught(() => open(`${server.url}/0?db=3&password=hunter2`));
      expect(isTestSupportError(error, "INVALID_OPTIONS")).toBe(true);
      expect(error.message).toContain("query parameters (db, password)");
      expect(error.message).not.toContain("hunter2");
    });

    it("writes to the database the URL selects", async () => {
      const env = await open(`${server.url}/3`);
      try {
        await env.clients.cache.set("where", "db3");
        const raw = new Redis(`${server.url}/3`);
        const keys = await raw.keys("*where");
        raw.disconnect();
        expect(keys).toHaveLength(1);
        expect(keys[0]).toMatch(/^it:svc:[0-9a-z]+:cache:where$/);
      } finally {
        await env.close();
      }
    });
  });

  describe("an outage longer than the reconnection attempts", () => {
    let outage: RedisServerProcess | undefined;
    afterEach(() => outage?.stop());

    it("fails the commands sent while the server is down with the cause, then recovers; reset and close succeed", async () => {
      const port = await freePort();
      outage = await startRedisServer({ port });
      const env = await open(outage.url);
      const client = env.clients.cache;
      await client.set("before", "1");
      await outage.kill();
      // Longer than the ~1.5 s after which the old retry strategy gave up for good.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // The first test after the outage: its reset and its commands fail, naming the cause.
      const reset = await caught(() => env.reset());
      expect(isTestSupportError(reset, "RESET_FAILED")).toBe(true);
      expect(reset.message).toContain("is not answering (connect ECONNREFUSED");
      expect(reset.message).toContain("the next reset deletes them");
      const during = await caught(() => client.get("before"));
      expect(isTestSupportError(during, "CONNECT_FAILED")).toBe(true);
      expect(during.message).toContain("redis GET could not be sent");
      expect(during.message).toContain("ECONNREFUSED");
      outage = await startRedisServer({ port });
      // The "next test": the client has reconnected by itself.
      await eventually(() => client.ping());
      await client.set("after", "2");
      expect(await client.get("after")).toBe("2");
      await env.reset();
      expect(await client.exists("after")).toBe(0);
      await env.close();
    }, 30_000);
  });

  describe("a server that stops answering", () => {
    it("fails a command within operationTimeoutMs, naming it, and reset and close end within their bound", async () => {
      const proxy = await stallingProxy(server.port);
      const env = await open(proxy.url, { operationTimeoutMs: 400 });
      try {
        await env.clients.cache.set("k", "v");
        proxy.stall();
        const started = Date.now();
        const error = await caught(() => env.clients.cache.get("k"));
        expect(isTestSupportError(error, "OPERATION_TIMEOUT")).toBe(true);
        expect(error.message).toContain("redis GET did not answer within 400 ms");
        expect(Date.now() - started).toBeLessThan(5000);
        const reset = await caught(() => env.reset());
        expect(isTestSupportError(reset, "RESET_FAILED")).toBe(true);
      } finally {
        const closing = await caught(() => env.close()).catch(() => undefined);
        if (closing) expect(isTestSupportError(closing, "CLOSE_FAILED")).toBe(true);
        await proxy.close();
      }
    });

    it("gives a blocking command its own time-out plus the bound, not the bound alone", async () => {
      const env = await open(server.url, { operationTimeoutMs: 200 });
      try {
        // BLPOP for 0.5 s is longer than the 200 ms bound, and still answers (nil) rather than timing out.
        expect(await env.clients.cache.blpop("empty", 0.5)).toBeNull();
      } finally {
        await env.close();
      }
    });
  });

  describe("reset", () => {
    it("deletes exactly the keys the environment wrote, whichever command wrote them, and no other key", async () => {
      const foreign = new Redis(server.url);
      await foreign.set("foreign:key", "keep");
      const env = await open(server.url);
      const c = env.clients.cache;
      try {
        await c.set("s", "1");
        await c.xgroup("CREATE", "stream", "group", "$", "MKSTREAM");
        await c.eval("redis.call('SET', KEYS[1], 'x')", 1, "scripted");
        await c.multi().rpush("list", "a").sadd("set", "m").exec();
        await c.pipeline().zadd("z", 1, "m").hset("h", "f", "v").exec();
        await c.copy("s", "copied");
        await c.rename("copied", "renamed");
        const prefix = /keys (\S+)\*\)/.exec(env.targets.cache.target)?.[1] as string;
        const mine = await foreign.keys(`${prefix}*`);
        expect(mine.map((k) => k.slice(prefix.length)).sort()).toEqual(
          ["h", "list", "renamed", "s", "scripted", "set", "stream", "z"].sort(),
        );
        expect(await foreign.type(`${prefix}stream`)).toBe("stream");
        await env.reset();
        expect(await foreign.keys(`${prefix}*`)).toEqual([]);
        expect(await foreign.get("foreign:key")).toBe("keep");
      } finally {
        await env.close();
        await foreign.del("foreign:key");
        foreign.disconnect();
      }
    });
  });
});
