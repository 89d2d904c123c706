import type { Duplex } from "node:stream";
import type { RedisOptions as IoRedisOptions, Redis } from "ioredis";
import type { Dependency, DependencyContext, DependencyHandle } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { leaseHolder, leaseMsFrom, leaseText, startHeartbeat } from "../lease/lease.js";
import type { registerKeyLease } from "../lease/redis-lease.js";
import { localEngine } from "../local/client.js";
import { redactTarget, scrub, secretsOf } from "../redact.js";
import { tracedDependency } from "../trace/dependency.js";
import { readUrlVariable } from "../variables.js";
import type { ClientScope } from "./client.js";
import type { RedisDouble } from "./double/server.js";

/** Options of the redis dependency. */
export interface RedisOptions {
  /** The variable holding the URL in cluster mode, e.g. "REDIS_URL". */
  urlEnv: string;
  /** Local mode: how long the run's redis-server may take to start (default 10 s). */
  startTimeoutMs?: number;
}

/** The client every mode hands out: ioredis, scoped to keys under the environment's own prefix. */
export type RedisClient = Redis;

const claimed = new Set<string>();

/**
 * The key prefix one dependency of one environment owns: it:<service>:<instance>:<name>: — unique in the
 * process even when a service hands one context to several redis() parts (they get ~2, ~3, ...).
 */
export function claimKeyPrefix(
  service: string,
  instanceId: string,
  name: string,
): { prefix: string; release(): void } {
  const base = `it:${service}:${instanceId}:${name}`;
  let prefix = `${base}:`;
  for (let n = 2; claimed.has(prefix); n++) prefix = `${base}~${n}:`;
  claimed.add(prefix);
  return { prefix, release: () => claimed.delete(prefix) };
}

/** The connection a redis URL describes, checked before any network use. */
export interface RedisConnectionSettings {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** Parses a redis:// or rediss:// URL; the database must be a number (it is range-checked once connected). */
export function parseRedisUrl(url: URL, variable: string): RedisConnectionSettings {
  const path = url.pathname;
  let db = 0;
  if (path !== "" && path !== "/") {
    const match = /^\/(\d{1,9})$/.exec(path);
    if (!match) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `${variable} selects the database ${JSON.stringify(decodeURIComponent(path.slice(1)))}, which is not a number. ` +
          "Put the database number after the port, e.g. redis://127.0.0.1:6379/0, or leave it out for database 0.",
      );
    }
    db = Number(match[1]);
  }
  if (url.search) {
    const names = [...url.searchParams.keys()].join(", ");
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${variable} has query parameters (${names}), which the redis dependency does not read, so they would be ignored. ` +
        "Remove them; the database goes in the path (redis://host:6379/<n>) and TLS in the scheme (rediss://).",
    );
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : 6379,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    tls: url.protocol === "rediss:",
  };
}

function ioredisOptions(settings: RedisConnectionSettings, context: DependencyContext): IoRedisOptions {
  return {
    host: settings.host,
    port: settings.port,
    db: settings.db,
    ...(settings.username ? { username: settings.username } : {}),
    ...(settings.password ? { password: settings.password } : {}),
    ...(settings.tls ? { tls: { servername: settings.host } } : {}),
    lazyConnect: true,
    // The factory enforces the connect bound; this backstop frees the socket after it gave up.
    connectTimeout: context.connectTimeoutMs + 1000,
    // While the server is down, a command waits for two reconnection attempts, then fails with the cause.
    maxRetriesPerRequest: 2,
    // Fail fast on the first connection; once up, reconnect for as long as the environment lives.
    retryStrategy: () => null,
  };
}

const reconnectForever = (times: number) => Math.min(times * 100, 1000);

async function deleteKeys(admin: Redis, written: Set<string>): Promise<void> {
  const keys = [...written];
  for (let i = 0; i < keys.length; i += 1000) {
    const chunk = keys.slice(i, i + 1000);
    await admin.del(...chunk);
    for (const key of chunk) written.delete(key);
  }
}

// Captured at load so a suite's fake timers cannot stall the in-process connection.
const defer: (fn: () => void) => void = process.nextTick.bind(process);

/** ioredis's Connector for the double: an in-memory stream instead of a socket (exported for tests). */
export function doubleConnector(double: RedisDouble) {
  return class DoubleConnector {
    connecting = false;
    stream: Duplex | undefined;
    firstError: Error | undefined;
    connect(): Promise<Duplex> {
      this.connecting = true;
      return new Promise((resolve, reject) =>
        defer(() => {
          if (!this.connecting) {
            reject(new Error("Connection is closed."));
            return;
          }
          this.stream = double.connect();
          resolve(this.stream);
        }),
      );
    }
    check(): boolean {
      return true;
    }
    disconnect(): void {
      this.connecting = false;
      this.stream?.end();
    }
  };
}

/**
 * A Redis dependency. The client is ioredis in every mode; its keys (and patterns and channels) carry a
 * prefix per dependency of the environment, reset deletes exactly the keys it wrote, and commands that
 * would reach outside the environment are refused. repo: an in-process double (ioredis-mock behind
 * test-support's fidelity layer) that answers as Redis 7 or refuses. local: a redis-server the run starts.
 * cluster: the URL in `urlEnv`.
 */
export function redis(options: RedisOptions): Dependency<RedisClient> {
  if (!options || typeof options.urlEnv !== "string" || !/^[A-Z][A-Z0-9_]*$/.test(options.urlEnv)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `redis() needs urlEnv, the name of the variable holding the URL (upper case, e.g. "REDIS_URL"); got ${JSON.stringify(options?.urlEnv)}.`,
    );
  }
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;

  /** Connects the handed-out client and an admin connection to a real server, checking the database. */
  const connectReal = async (
    context: DependencyContext,
    url: string,
    implementation: string,
    variable: string,
    onClose: () => Promise<void>,
  ): Promise<DependencyHandle<RedisClient>> => {
    const parsed = parseRedisUrl(new URL(url), variable);
    const leaseMs = leaseMsFrom(context.env);
    const target = redactTarget(url);
    const secrets = secretsOf(url);
    const base = ioredisOptions(parsed, context);
    const failure = (error: unknown, lastError: Error | undefined) =>
      new TestSupportError(
        "CONNECT_FAILED",
        `redis at ${target} could not be reached: ${scrub(errorText(lastError ?? error), secrets)}. ` +
          `Check that the server is up and that ${variable} has the right host, port and password.`,
        { cause: error },
      );
    // ioredis and the double load when a suite first builds a redis dependency, never at import.
    const [{ Redis }, { ScopedRedis }, leases] = await Promise.all([
      import("ioredis"),
      import("./client.js"),
      import("../lease/redis-lease.js"),
    ]);
    // The admin connection stays on database 0 until the number is checked, so SELECT's answer is seen.
    const admin = new Redis({ ...base, db: 0, commandTimeout: context.operationTimeoutMs });
    let adminError: Error | undefined;
    admin.on("error", (error: Error) => {
      adminError = error;
    });
    try {
      await admin.connect();
      await admin.ping();
    } catch (error) {
      admin.disconnect();
      throw failure(error, adminError);
    }
    context.connected();
    try {
      await admin.select(parsed.db);
    } catch (error) {
      let count = "";
      try {
        const reply = (await admin.call("CONFIG", "GET", "databases")) as string[];
        if (reply[1]) count = `; it has ${reply[1]} (0 to ${Number(reply[1]) - 1})`;
      } catch {
        // CONFIG may be disabled for this user; the server's own message then has to do.
      }
      admin.disconnect();
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `${variable} selects database ${parsed.db}, which the server at ${target} refuses (${scrub(errorText(error), secrets)})${count}. ` +
          "Use a database number the server has, e.g. /0.",
        { cause: error },
      );
    }
    admin.options.retryStrategy = reconnectForever;
    const { prefix, release } = claimKeyPrefix(context.service, context.instanceId, context.name);
    const scope: ClientScope = {
      settings: {
        prefix,
        db: parsed.db,
        ...(parsed.password
          ? { auth: parsed.username ? [parsed.username, parsed.password] : [parsed.password] }
          : {}),
      },
      written: new Set(),
      operationTimeoutMs: context.operationTimeoutMs,
      target,
      clients: new Set(),
      lastError: undefined,
    };
    // Registered before anything is written under the prefix, so a crash cannot leave unregistered keys.
    let lease: Awaited<ReturnType<typeof registerKeyLease>>;
    try {
      lease = await leases.registerKeyLease(admin, prefix, leaseHolder(context.runId), leaseMs);
    } catch (error) {
      admin.disconnect();
      release();
      throw failure(error, adminError);
    }
    const heartbeat = startHeartbeat(leaseMs, () => lease.renew());
    const client = new ScopedRedis(base, scope);
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      heartbeat.stop();
      await lease.release().catch(() => {});
      client.disconnect();
      admin.disconnect();
      release();
      throw failure(error, scope.lastError);
    }
    client.options.retryStrategy = reconnectForever;
    /** Deletes the written keys; while the server is down, fails with the connection's last error as the cause. */
    const deleteWritten = async () => {
      try {
        await deleteKeys(admin, scope.written);
      } catch (error) {
        if ((error as Error)?.name !== "MaxRetriesPerRequestError" && admin.status === "ready") throw error;
        throw new TestSupportError(
          "CONNECT_FAILED",
          `redis at ${target} is not answering (${scrub(errorText(adminError ?? error), secrets)}), so the ` +
            `${scope.written.size} keys this environment wrote were not deleted. The client keeps reconnecting; ` +
            "once the server is back, the next reset deletes them.",
          { cause: error },
        );
      }
    };
    return {
      client,
      implementation,
      target: `${target} (keys ${prefix}*)`,
      reset: deleteWritten,
      async close() {
        // From here the lease only runs out: if the deletion fails or stalls, a sweep finishes the job.
        heartbeat.stop();
        try {
          const count = scope.written.size;
          try {
            await deleteWritten();
          } catch (error) {
            throw new TestSupportError(
              "CLOSE_FAILED",
              `redis at ${target} did not delete the keys under ${prefix} (${count} written by this environment): ` +
                `${errorText(error)}. The prefix is registered under a lease that expires ${leaseText(leaseMs)} after ` +
                "this process stopped renewing it; then `pnpm test:integration sweep` deletes its keys.",
              { cause: error },
            );
          }
          await lease.release().catch(() => {});
        } finally {
          for (const c of scope.clients) c.disconnect();
          admin.disconnect();
          release();
          await onClose();
        }
      },
    };
  };

  return tracedDependency({
    kind: "redis",
    variables: [options.urlEnv],
    startTimeoutMs,
    describeTarget(env) {
      return redactTarget(env[options.urlEnv] ?? "");
    },
    async double(context: DependencyContext): Promise<DependencyHandle<RedisClient>> {
      const [{ RedisDouble }, { ScopedRedis }] = await Promise.all([
        import("./double/server.js"),
        import("./client.js"),
      ]);
      const double = new RedisDouble();
      const { prefix, release } = claimKeyPrefix(context.service, context.instanceId, context.name);
      const scope: ClientScope = {
        settings: { prefix, db: 0 },
        written: new Set(),
        operationTimeoutMs: context.operationTimeoutMs,
        target: "the in-process double",
        clients: new Set(),
        lastError: undefined,
      };
      const client = new ScopedRedis(
        {
          Connector: doubleConnector(double) as unknown as IoRedisOptions["Connector"],
          enableReadyCheck: false,
          disableClientInfo: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        },
        scope,
      );
      await client.connect();
      return {
        client,
        implementation: "ioredis-mock (fidelity layer)",
        target: `in-process (keys ${prefix}*)`,
        async reset() {
          // The double holds this dependency's keys only, whichever command wrote them.
          double.flush();
          scope.written.clear();
        },
        async close() {
          for (const c of scope.clients) c.disconnect();
          double.shutdown();
          double.flush();
          release();
        },
      };
    },
    async local(context: DependencyContext): Promise<DependencyHandle<RedisClient>> {
      // The run's redis-server, shared by every environment of the run; each keeps to its key prefix.
      const server = await localEngine("redis", context.env, context.signal);
      return connectReal(
        context,
        server.url,
        server.implementation,
        "the local redis-server",
        async () => {},
      );
    },
    async live(context: DependencyContext): Promise<DependencyHandle<RedisClient>> {
      const url = readUrlVariable(
        context.env,
        options.urlEnv,
        "redis",
        ["redis:", "rediss:"],
        "redis://host:6379 (or redis://:password@host:6379/0)",
      ).toString();
      return connectReal(context, url, "ioredis", options.urlEnv, async () => {});
    },
  });
}
