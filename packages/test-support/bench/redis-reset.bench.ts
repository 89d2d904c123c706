// What a Redis reset costs with no foreign keys and with 1,000,000 of them (another suite's, another
// app's). Each runs on a private redis-server on a free port, never the shared one. Reset deletes the keys
// the environment wrote, so its cost does not depend on what else the database holds; the SCAN-based reset
// it replaced is measured on the same server for comparison.
import { Redis } from "ioredis";
import { afterAll, beforeAll, bench, describe } from "vitest";
import { createIntegrationEnvironment, type IntegrationEnvironment, redis } from "../src/index.js";
import { type RedisServerProcess, redisServerBinary, startRedisServer } from "../src/redis/local-server.js";

const FOREIGN_KEYS = 1_000_000;
const dependencies = { cache: redis({ urlEnv: "REDIS_URL" }) };
type Env = IntegrationEnvironment<typeof dependencies>;

const servers: RedisServerProcess[] = [];
let empty: Env;
let crowded: Env;
let crowdedAdmin: Redis;

async function environmentOn(url: string): Promise<Env> {
  return createIntegrationEnvironment({
    service: "redis-bench",
    dependencies,
    env: { INTEGRATION_MODE: "cluster", REDIS_URL: url },
    telemetry: { emit() {} },
  });
}

async function writeTenKeys(env: Env): Promise<void> {
  const pipeline = env.clients.cache.pipeline();
  for (let i = 0; i < 10; i++) pipeline.set(`k:${i}`, "v");
  await pipeline.exec();
}

/** The reset this package used before: SCAN the whole database for the prefix, then DEL. */
async function scanReset(admin: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== "0");
}

const available = redisServerBinary() !== undefined;

// Vitest times write + reset and reports no p95; each case also times the reset alone and prints its
// median and p95.
const durations = new Map<string, number[]>();
function timed(name: string, write: () => Promise<void>, reset: () => Promise<void>): () => Promise<void> {
  return async () => {
    await write();
    const started = performance.now();
    await reset();
    durations.set(name, [...(durations.get(name) ?? []), performance.now() - started]);
  };
}
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

beforeAll(async () => {
  if (!available) return;
  const [a, b] = await Promise.all([startRedisServer(), startRedisServer()]);
  servers.push(a, b);
  crowdedAdmin = new Redis(b.url);
  // On the private server only: 1,000,000 keys that belong to nobody here.
  for (let start = 0; start < FOREIGN_KEYS; start += 10_000) {
    const args: string[] = [];
    for (let i = start; i < start + 10_000; i++) args.push(`foreign:${i}`, "x");
    await crowdedAdmin.mset(...args);
  }
  empty = await environmentOn(a.url);
  crowded = await environmentOn(b.url);
}, 120_000);

afterAll(async () => {
  for (const [name, values] of durations) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `reset alone, ${name}: median ${quantile(sorted, 0.5).toFixed(3)} ms, p95 ${quantile(sorted, 0.95).toFixed(3)} ms (${sorted.length} runs)`,
    );
  }
  await empty?.close();
  await crowded?.close();
  crowdedAdmin?.disconnect();
  await Promise.all(servers.map((s) => s.stop()));
});

describe.skipIf(!available)("redis reset after a test wrote 10 keys (private redis-server)", () => {
  const zero = "0 foreign keys in the database";
  bench(
    zero,
    timed(
      zero,
      () => writeTenKeys(empty),
      () => empty.reset(),
    ),
  );

  const many = `${FOREIGN_KEYS.toLocaleString("en")} foreign keys in the database`;
  bench(
    many,
    timed(
      many,
      () => writeTenKeys(crowded),
      () => crowded.reset(),
    ),
  );

  const before = `SCAN-based reset (before), ${FOREIGN_KEYS.toLocaleString("en")} foreign keys`;
  bench(
    before,
    timed(
      before,
      () => writeTenKeys(crowded),
      () => scanReset(crowdedAdmin, /keys (\S+)\*\)/.exec(crowded.targets.cache.target)?.[1] as string),
    ),
    { iterations: 5, time: 0 },
  );
});
