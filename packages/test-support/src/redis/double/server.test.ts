import { Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { caught } from "../../../tests/helpers.js";
import { createIntegrationEnvironment } from "../../environment.js";
import { isTestSupportError } from "../../errors.js";
import { doubleConnector, redis } from "../redis.js";
import { RedisDouble } from "./server.js";

/** A plain ioredis on the double, without the environment's scoping: the protocol as the double speaks it. */
function raw(double: RedisDouble): Redis {
  return new Redis({
    Connector: doubleConnector(double) as never,
    enableReadyCheck: false,
    disableClientInfo: true,
    retryStrategy: () => null,
  });
}

const opened: Redis[] = [];
function client(double: RedisDouble): Redis {
  const c = raw(double);
  opened.push(c);
  return c;
}
afterEach(() => {
  for (const c of opened.splice(0)) c.disconnect();
  vi.useRealTimers();
});

describe("the repo double's protocol", () => {
  it("answers unknown commands, unknown subcommands and wrong argument counts with Redis's errors", async () => {
    const c = client(new RedisDouble());
    await expect(c.call("NOSUCH", "a")).rejects.toThrow(
      "ERR unknown command 'NOSUCH', with args beginning with: 'a' ",
    );
    await expect(c.call("CLIENT", "NOSUCH")).rejects.toThrow(
      "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.",
    );
    await expect(c.call("GET")).rejects.toThrow("ERR wrong number of arguments for 'get' command");
    await expect(c.call("XGROUP", "CREATE", "s")).rejects.toThrow("for 'xgroup|create' command");
  });

  it("discards a transaction with a command that failed to queue (EXECABORT), and runs one with a runtime error", async () => {
    const c = client(new RedisDouble());
    expect(await c.call("MULTI")).toBe("OK");
    await expect(c.call("GET")).rejects.toThrow("wrong number of arguments");
    expect(await c.call("SET", "a", "1")).toBe("QUEUED");
    await expect(c.call("EXEC")).rejects.toThrow("EXECABORT");
    expect(await c.call("EXISTS", "a")).toBe(0);
    const results = await c.multi().set("a", "x").incr("a").set("b", "2").exec();
    expect(results?.map(([error]) => error?.message.split(" ")[0] ?? null)).toEqual([null, "ERR", null]);
  });

  it("allows only subscriber commands on a subscribed connection", async () => {
    const c = client(new RedisDouble());
    await c.subscribe("ch");
    await expect(c.call("SET", "a", "1")).rejects.toThrow(/subscriber mode|only \(P\|S\)SUBSCRIBE/);
    expect(await c.call("PING")).toEqual(["pong", ""]);
  });

  it("serves clients blocked on a key in the order they blocked, after the command that fed it", async () => {
    const double = new RedisDouble();
    const [first, second, producer] = [client(double), client(double), client(double)];
    const a = first.blpop("q", 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const b = second.blpop("q", 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await producer.rpush("q", "one", "two", "three")).toBe(3);
    expect(await a).toEqual(["q", "one"]);
    expect(await b).toEqual(["q", "two"]);
    expect(await producer.lrange("q", 0, -1)).toEqual(["three"]);
  });

  it("answers a blocking command nil after its time-out, not before, and forgets a client that disconnects", async () => {
    const double = new RedisDouble();
    const c = client(double);
    const started = Date.now();
    expect(await c.brpop("empty", 0.15)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const gone = raw(double);
    const pending = gone.blpop("q", 0).catch(() => "closed");
    await new Promise((resolve) => setTimeout(resolve, 20));
    gone.disconnect();
    expect(await pending).toBe("closed");
    await c.rpush("q", "kept");
    expect(await c.lrange("q", 0, -1)).toEqual(["kept"]);
  });

  it("keeps time by the real clock, so a suite's fake timers do not expire keys", async () => {
    const c = client(new RedisDouble());
    await c.set("k", "v", "EX", 100);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 1_000_000);
    expect(await c.get("k")).toBe("v");
    expect(await c.ttl("k")).toBe(100);
  });
});

describe("the repo double through the environment", () => {
  async function environment() {
    return createIntegrationEnvironment({
      service: "svc",
      dependencies: { cache: redis({ urlEnv: "REDIS_URL" }) },
      env: { INTEGRATION_MODE: "repo" },
      telemetry: { emit() {} },
    });
  }

  it("refuses what it cannot reproduce, naming the command and the modes that can run it", async () => {
    await using env = await environment();
    const error = await caught(() => env.clients.cache.xadd("s", "*", "f", "v"));
    expect(isTestSupportError(error, "UNSUPPORTED_BY_DOUBLE")).toBe(true);
    expect(error.message).toContain(
      "redis XADD cannot be reproduced faithfully by the repo-mode Redis double",
    );
    expect(error.message).toContain("--mode=local");
    expect(error.message).toContain("--mode=cluster");
  });

  it("fails a whole transaction or pipeline loudly when one of its commands is refused, committing nothing", async () => {
    await using env = await environment();
    const c = env.clients.cache;
    const inMulti = await caught(() => c.multi().set("a", "1").xadd("s", "*", "f", "v").exec());
    expect(isTestSupportError(inMulti, "UNSUPPORTED_BY_DOUBLE")).toBe(true);
    expect(await c.exists("a")).toBe(0);
    const inPipeline = await caught(() => c.pipeline().set("b", "1").flushdb().get("b").exec());
    expect(isTestSupportError(inPipeline, "UNSAFE_COMMAND")).toBe(true);
    // The pipeline's other replies stayed in step: the connection still answers correctly.
    expect(await c.get("b")).toBe("1");
  });

  it("refuses a script touching a key it did not declare in KEYS", async () => {
    await using env = await environment();
    const error = await caught(() => env.clients.cache.eval("return redis.call('GET', 'undeclared')", 0));
    expect(isTestSupportError(error, "UNSAFE_COMMAND")).toBe(true);
    expect(error.message).toContain('redis EVAL (GET of key "undeclared" inside a Lua script) is refused');
    expect(error.message).toContain("pass every key a script touches in KEYS");
  });

  it("gives two redis parts built from one context different prefixes", async () => {
    const context = {
      service: "svc",
      name: "threads",
      mode: "repo" as const,
      runId: "r",
      instanceId: "i1",
      workerId: "1",
      env: {},
      connectTimeoutMs: 1000,
      setupTimeoutMs: 1000,
      operationTimeoutMs: 1000,
      signal: new AbortController().signal,
      connected() {},
    };
    const a = await redis({ urlEnv: "REDIS_URL" }).double(context);
    const b = await redis({ urlEnv: "REDIS_URL" }).double(context);
    try {
      expect(a.target).toContain("keys it:svc:i1:threads:*");
      expect(b.target).toContain("keys it:svc:i1:threads~2:*");
    } finally {
      await a.close();
      await b.close();
    }
    const again = await redis({ urlEnv: "REDIS_URL" }).double(context);
    expect(again.target).toContain("keys it:svc:i1:threads:*");
    await again.close();
  });
});
