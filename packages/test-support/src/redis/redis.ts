import { Redis } from "ioredis";
import RedisMock from "ioredis-mock";
import type { Dependency, DependencyContext, DependencyHandle } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { redactTarget, scrub, secretsOf } from "../redact.js";
import { readUrlVariable } from "../variables.js";

/** Options of the redis dependency. */
export interface RedisOptions {
  /** The variable holding the URL in cluster mode, e.g. "REDIS_URL". */
  urlEnv: string;
}

/** The client every mode hands out: an ioredis client whose keys live under the environment's own prefix. */
export type RedisClient = Redis;

/** The key prefix one environment owns: it:<service>:<instance>: */
export function keyPrefixFor(service: string, instanceId: string): string {
  return `it:${service}:${instanceId}:`;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** Deletes every key under `prefix`, in batches, through a client that adds no prefix of its own. */
export async function deleteOwnedKeys(raw: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await raw.scan(cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) deleted += await raw.del(...keys);
  } while (cursor !== "0");
  return deleted;
}

/**
 * A Redis dependency. repo/local: an ioredis-mock instance of this environment's own. cluster: ioredis on
 * the URL. In both, the client's keys carry a prefix this environment owns, and reset deletes only those
 * keys (never FLUSHALL).
 */
export function redis(options: RedisOptions): Dependency<RedisClient> {
  if (!options || typeof options.urlEnv !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(options.urlEnv)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `redis() needs urlEnv, the name of the variable holding the URL (upper case, e.g. "REDIS_URL"); got ${JSON.stringify(options?.urlEnv)}.`,
    );
  }
  const handleFor = (
    client: Redis,
    admin: Redis,
    prefix: string,
    implementation: string,
    target: string,
  ) => ({
    client,
    implementation,
    target: `${target} (keys ${prefix}*)`,
    async reset() {
      await deleteOwnedKeys(admin, prefix);
    },
    async close() {
      try {
        await deleteOwnedKeys(admin, prefix);
      } finally {
        client.disconnect();
        admin.disconnect();
      }
    },
  });

  return {
    kind: "redis",
    variables: [options.urlEnv],
    describeTarget(env) {
      return redactTarget(env[options.urlEnv] ?? "");
    },
    async double(context: DependencyContext): Promise<DependencyHandle<RedisClient>> {
      // ioredis-mock shares data between instances with the same host and port; a host per environment isolates it.
      const host = `test-support-${context.instanceId}`;
      const prefix = keyPrefixFor(context.service, context.instanceId);
      const client = new RedisMock({ host, port: 6379, keyPrefix: prefix }) as unknown as Redis;
      const admin = new RedisMock({ host, port: 6379 }) as unknown as Redis;
      return handleFor(client, admin, prefix, "ioredis-mock", "in-process");
    },
    async live(context: DependencyContext): Promise<DependencyHandle<RedisClient>> {
      const url = readUrlVariable(
        context.env,
        options.urlEnv,
        "redis",
        ["redis:", "rediss:"],
        "redis://host:6379 (or redis://:password@host:6379/0)",
      ).toString();
      const target = redactTarget(url);
      const secrets = secretsOf(url);
      const prefix = keyPrefixFor(context.service, context.instanceId);
      const connect = async (keyPrefix: string | undefined): Promise<Redis> => {
        const client = new Redis(url, {
          keyPrefix,
          lazyConnect: true,
          // The factory enforces the bound; this backstop only frees the socket after it gave up.
          connectTimeout: context.connectTimeoutMs + 1000,
          maxRetriesPerRequest: 2,
          // Fail fast on the first connection instead of retrying until the bound runs out.
          retryStrategy: () => null,
        });
        let lastError: Error | undefined;
        client.on("error", (error: Error) => {
          lastError = error;
        });
        try {
          await client.connect();
          await client.ping();
          // Once up, ride out a brief blip like a service would.
          client.options.retryStrategy = (times) => (times > 5 ? null : times * 100);
        } catch (error) {
          client.disconnect();
          throw new TestSupportError(
            "CONNECT_FAILED",
            `redis at ${target} could not be reached: ${scrub(errorText(lastError ?? error), secrets)}. ` +
              `Check that the server is up and that ${options.urlEnv} has the right host, port and password.`,
            { cause: error },
          );
        }
        return client;
      };
      const client = await connect(prefix);
      context.connected();
      const admin = await connect(undefined).catch((error: unknown) => {
        client.disconnect();
        throw error;
      });
      return handleFor(client, admin, prefix, "ioredis", target);
    },
  };
}
