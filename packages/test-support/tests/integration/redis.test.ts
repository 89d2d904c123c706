import { describe, expect } from "vitest";
import { createIntegrationEnvironment, redis } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";

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
    expect(environment.targets.cache.implementation).toBe(
      { repo: "ioredis-mock (fidelity layer)", local: "redis-server", cluster: "ioredis" }[environment.mode],
    );
  });
});
