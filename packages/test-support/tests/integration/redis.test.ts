import { describe, expect } from "vitest";
import { createIntegrationEnvironment, isTestSupportError, redis } from "../../src/index.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";

// Runs unchanged in every mode: an ioredis-mock of its own in repo/local, a key prefix of its own on real Redis in cluster.
const cache = () => redis({ urlEnv: "REDIS_URL" });
const test = integrationTest({ service: "test-support", dependencies: { cache: cache() } });

describe("redis dependency", () => {
  test("reads what it wrote, with expiry @smoke", async ({ clients }) => {
    await clients.cache.set("greeting", "hello", "EX", 60);
    expect(await clients.cache.get("greeting")).toBe("hello");
    const ttl = await clients.cache.ttl("greeting");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await clients.cache.hset("user:1", { name: "Ada", role: "admin" });
    expect(await clients.cache.hgetall("user:1")).toEqual({ name: "Ada", role: "admin" });
  });

  test("starts each test with none of the previous test's keys", async ({ clients }) => {
    expect(await clients.cache.get("greeting")).toBeNull();
    expect(await clients.cache.exists("user:1")).toBe(0);
  });

  test("counts atomically", async ({ clients }) => {
    const results = await Promise.all(Array.from({ length: 20 }, () => clients.cache.incr("hits")));
    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  test("reset deletes only the keys this environment owns", async ({ clients, environment }) => {
    await using other = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { cache: cache() },
    });
    await clients.cache.set("shared-name", "mine");
    await other.clients.cache.set("shared-name", "theirs");
    expect(await clients.cache.get("shared-name")).toBe("mine");
    await environment.reset();
    expect(await clients.cache.get("shared-name")).toBeNull();
    expect(await other.clients.cache.get("shared-name")).toBe("theirs");
  });

  test("reset removes many keys", async ({ clients, environment }) => {
    const pipeline = clients.cache.pipeline();
    for (let i = 0; i < 1200; i++) pipeline.set(`bulk:${i}`, String(i));
    await pipeline.exec();
    expect(await clients.cache.get("bulk:1199")).toBe("1199");
    await environment.reset();
    expect(await clients.cache.get("bulk:0")).toBeNull();
    expect(await clients.cache.get("bulk:1199")).toBeNull();
  });

  test("reports what it selected", ({ environment }) => {
    expect(environment.targets.cache.implementation).toMatch(
      { repo: /^ioredis-mock \(fidelity layer\)$/, local: /^redis-server \d+\.\d+/, cluster: /^ioredis$/ }[
        environment.mode
      ],
    );
  });
});

const two = integrationTest({
  service: "test-support",
  dependencies: { first: cache(), second: cache() },
});

describe("redis scoping in every mode", () => {
  test("refuses destructive and server-wide commands with UNSAFE_COMMAND, before they reach a server", async ({
    clients,
  }) => {
    await clients.cache.set("mine", "1");
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ["FLUSHDB", () => clients.cache.flushdb()],
      ["FLUSHALL", () => clients.cache.flushall()],
      ["SELECT", () => clients.cache.select(1)],
      ["SWAPDB", () => clients.cache.swapdb(0, 1)],
      ["MOVE", () => clients.cache.move("mine", 1)],
      ["CONFIG GET", () => clients.cache.config("GET", "maxmemory")],
      ["DBSIZE", () => clients.cache.dbsize()],
      ["RANDOMKEY", () => clients.cache.randomkey()],
      ["SCRIPT FLUSH", () => clients.cache.script("FLUSH")],
      ["SHUTDOWN", () => clients.cache.call("SHUTDOWN", "NOSAVE")],
      ["DEBUG", () => clients.cache.call("DEBUG", "SLEEP", "0")],
    ];
    for (const [name, action] of refusals) {
      const error = await action().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isTestSupportError(error, "UNSAFE_COMMAND"), name).toBe(true);
      expect((error as Error).message).toContain(
        `redis ${name} is refused on the environment's client in every mode`,
      );
    }
    expect(await clients.cache.get("mine")).toBe("1");
  });

  test("KEYS and SCAN see only the environment's keys, by the names the suite used", async ({ clients }) => {
    await clients.cache.mset("user:1", "a", "user:2", "b", "other", "c");
    expect((await clients.cache.keys("*")).sort()).toEqual(["other", "user:1", "user:2"]);
    expect((await clients.cache.keys("user:*")).sort()).toEqual(["user:1", "user:2"]);
    const seen: string[] = [];
    let cursor = "0";
    do {
      const [next, page] = await clients.cache.scan(cursor, "MATCH", "user:*");
      cursor = next;
      seen.push(...page);
    } while (cursor !== "0");
    // SCAN returns every key present throughout at least once, and may return one twice (while the server
    // rehashes, which a shared server with other environments' keys does): compare the keys as a set.
    expect([...new Set(seen)].sort()).toEqual(["user:1", "user:2"]);
  });

  test("a Lua script's KEYS are the keys the client uses", async ({ clients }) => {
    const limiter = "local n = redis.call('INCR', KEYS[1]); redis.call('EXPIRE', KEYS[1], 60); return n";
    expect(await clients.cache.eval(limiter, 1, "hits:ada")).toBe(1);
    expect(await clients.cache.eval(limiter, 1, "hits:ada")).toBe(2);
    expect(await clients.cache.get("hits:ada")).toBe("2");
    expect(await clients.cache.ttl("hits:ada")).toBeGreaterThan(0);
  });

  test("defineCommand scripts (EVALSHA, then EVAL on NOSCRIPT) see the client's keys", async ({
    clients,
  }) => {
    const client = clients.cache as typeof clients.cache & {
      takeToken(key: string, limit: number): Promise<number>;
    };
    client.defineCommand("takeToken", {
      numberOfKeys: 1,
      lua: "local n = redis.call('INCR', KEYS[1]); if n > tonumber(ARGV[1]) then return 0 end; return 1",
    });
    expect(await client.takeToken("bucket", 2)).toBe(1);
    expect(await client.takeToken("bucket", 2)).toBe(1);
    expect(await client.takeToken("bucket", 2)).toBe(0);
    expect(await clients.cache.get("bucket")).toBe("3");
  });

  test("duplicate() stays in the environment: pub/sub between the client and its duplicate", async ({
    clients,
  }) => {
    const subscriber = clients.cache.duplicate();
    try {
      const received = new Promise<[string, string]>((resolve) =>
        subscriber.on("message", (channel: string, message: string) => resolve([channel, message])),
      );
      await subscriber.subscribe("events");
      expect(await clients.cache.publish("events", "hello")).toBe(1);
      expect(await received).toEqual(["events", "hello"]);
    } finally {
      subscriber.disconnect();
    }
  });

  two(
    "two redis() dependencies of one environment do not see each other's keys",
    async ({ clients, environment }) => {
      await clients.first.set("shared-name", "first");
      await clients.second.set("shared-name", "second");
      expect(await clients.first.get("shared-name")).toBe("first");
      expect(await clients.second.get("shared-name")).toBe("second");
      expect(environment.targets.first.target).not.toBe(environment.targets.second.target);
      await environment.reset();
      expect(await clients.first.exists("shared-name")).toBe(0);
      expect(await clients.second.exists("shared-name")).toBe(0);
    },
  );
});

describeInModes(["local", "cluster"], "redis keys ioredis's keyPrefix would miss", () => {
  test("XGROUP CREATE ... MKSTREAM, XINFO and OBJECT act on the environment's key, and reset deletes it", async ({
    clients,
    environment,
  }) => {
    await clients.cache.xgroup("CREATE", "jobs", "workers", "$", "MKSTREAM");
    expect(await clients.cache.type("jobs")).toBe("stream");
    const info = (await clients.cache.xinfo("STREAM", "jobs")) as unknown[];
    expect(info[info.indexOf("groups") + 1]).toBe(1);
    expect(await clients.cache.object("ENCODING", "jobs")).toBe("stream");
    await environment.reset();
    expect(await clients.cache.exists("jobs")).toBe(0);
  });
});
