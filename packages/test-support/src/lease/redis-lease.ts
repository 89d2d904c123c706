// Leases on a Redis server: a key per key prefix an environment owns (`it:lease:<prefix>`), set with an
// expiry (the server's clock) that a heartbeat pushes forward, and the prefix listed, with its holder, in the
// hash `it:leases`.
// The sweep deletes the keys under every listed prefix whose lease key has expired, and nothing else.
import { Redis } from "ioredis";
import { errorText } from "../errors.js";
import type { SweepReport, SweptObject } from "./lease.js";

/** The hash listing every prefix that has (or had) a lease on this database, with its holder. */
export const LEASE_SET = "it:leases";
const leaseKey = (prefix: string) => `it:lease:${prefix}`;
/** The only prefixes a lease may clear: an environment's, `it:<service>:<instance>:<name>[~n]:`. */
const OWNED_PREFIX = /^it:[a-z][a-z0-9-]*:[0-9a-z]{26}:[A-Za-z_][A-Za-z0-9_]*(~\d+)?:$/;

type Commands = Pick<Redis, "set" | "hset" | "hdel" | "del">;

/** A registered prefix lease: renew() pushes the expiry forward, release() removes it. */
export interface KeyLease {
  renew(): Promise<void>;
  release(): Promise<void>;
}

/** Registers `prefix` as owned by `holder` for `leaseMs`, before anything is written under it. */
export async function registerKeyLease(
  redis: Commands,
  prefix: string,
  holder: string,
  leaseMs: number,
): Promise<KeyLease> {
  const renew = async () => {
    await redis.set(leaseKey(prefix), holder, "PX", leaseMs);
    await redis.hset(LEASE_SET, prefix, holder);
  };
  await renew();
  return {
    renew,
    async release() {
      await redis.hdel(LEASE_SET, prefix);
      await redis.del(leaseKey(prefix));
    },
  };
}

/** `text` as a glob pattern that matches only itself. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/**
 * Deletes the keys under every prefix of `it:leases` whose lease key has expired (or, with `dryRun`,
 * counts them). A prefix whose lease is alive is not looked at.
 */
export async function sweepRedis(
  url: string,
  server: string,
  options: { dryRun: boolean; timeoutMs: number },
): Promise<SweepReport> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: options.timeoutMs,
    commandTimeout: options.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  await redis.connect();
  const expired: SweptObject[] = [];
  const failed: { object: string; error: string }[] = [];
  let live = 0;
  try {
    const holders = await redis.hgetall(LEASE_SET);
    for (const prefix of Object.keys(holders).sort()) {
      if ((await redis.exists(leaseKey(prefix))) === 1) {
        live++;
        continue;
      }
      if (!OWNED_PREFIX.test(prefix)) {
        failed.push({ object: `keys ${prefix}*`, error: "not an environment's key prefix; left alone" });
        continue;
      }
      try {
        let count = 0;
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${globLiteral(prefix)}*`, "COUNT", 1000);
          cursor = next;
          count += keys.length;
          if (!options.dryRun && keys.length > 0) await redis.unlink(...keys);
        } while (cursor !== "0");
        // Removed from the set only after its keys, so an interrupted sweep finds the prefix again.
        if (!options.dryRun) await redis.hdel(LEASE_SET, prefix);
        expired.push({ object: `${count} keys ${prefix}*`, holder: holders[prefix] ?? "" });
      } catch (error) {
        failed.push({ object: `keys ${prefix}*`, error: errorText(error) });
      }
    }
    return { server, expired, live, failed };
  } finally {
    redis.disconnect();
  }
}
