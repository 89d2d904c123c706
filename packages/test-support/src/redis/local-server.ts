// A redis-server started on a free loopback port: local mode's engine (one per process, shared by its
// environments, which keep apart by key prefix), and the private server of tests and benchmarks.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentVariables } from "../dependency.js";
import { TestSupportError } from "../errors.js";
import { registerProcessLease } from "../lease/process-lease.js";

/** The variable naming a redis-server binary for local mode; default: redis-server on PATH. */
export const REDIS_SERVER_VARIABLE = "REDIS_SERVER_PATH";

/** A running redis-server the caller owns. */
export interface RedisServerProcess {
  readonly port: number;
  readonly url: string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its folder. */
  stop(): Promise<void>;
  /** Kills it at once, as a crash would (for outage tests). */
  kill(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The redis-server binary to run, or undefined when there is none. */
export function redisServerBinary(env: EnvironmentVariables = process.env): string | undefined {
  const given = env[REDIS_SERVER_VARIABLE];
  if (given) return given;
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore" });
  return found.error || found.status !== 0 ? undefined : "redis-server";
}

function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

const running = new Set<ChildProcess>();
const leases = new WeakMap<ChildProcess, { release(): void }>();
process.once("exit", () => {
  for (const child of running) {
    child.kill("SIGKILL");
    leases.get(child)?.release();
  }
});

/**
 * Starts redis-server on `port` (default: a free one) on 127.0.0.1 without persistence, and waits until it
 * answers PING. Throws a TestSupportError naming the binary when it cannot.
 */
export async function startRedisServer(
  options: { port?: number; binary?: string; timeoutMs?: number; env?: EnvironmentVariables } = {},
): Promise<RedisServerProcess> {
  const binary = options.binary ?? redisServerBinary(options.env);
  if (!binary) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `local mode runs a redis-server, but none was found (not on PATH, and ${REDIS_SERVER_VARIABLE} is unset). ` +
        "Install Redis 7 (apt-get install redis-server, brew install redis) or point " +
        `${REDIS_SERVER_VARIABLE} at the binary; or run in repo mode.`,
    );
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "test-support-redis-"));
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  running.add(child);
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + String(chunk)).slice(-2000);
  });
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // If this process is killed before it stops the server, the lease runs out and a sweep stops it.
  const lease = registerProcessLease(child.pid, `redis-server on 127.0.0.1:${port}`, {
    dir,
    env: options.env,
  });
  leases.set(child, lease);
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    lease.release();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (spawnError || child.exitCode !== null) {
      await stop("SIGKILL");
      throw new TestSupportError(
        "CONNECT_FAILED",
        `redis-server (${binary}) did not start on 127.0.0.1:${port}: ${spawnError?.message ?? `exited with ${child.exitCode}`}${stderr ? `: ${stderr.trim()}` : ""}`,
      );
    }
    if (await ping(port, 500)) break;
    if (Date.now() > deadline) {
      await stop("SIGKILL");
      throw new TestSupportError(
        "CONNECT_TIMEOUT",
        `redis-server (${binary}) did not answer PING on 127.0.0.1:${port} within ${options.timeoutMs ?? 10_000} ms.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => stop("SIGTERM"),
    kill: () => stop("SIGKILL"),
  };
}

let shared: { server: Promise<RedisServerProcess>; users: number } | undefined;

/** Local mode's server: started by the first environment of the process, stopped when the last closes. */
export async function acquireLocalRedis(
  env: EnvironmentVariables,
  timeoutMs: number,
): Promise<{ url: string; release(): Promise<void> }> {
  if (!shared) {
    const server = startRedisServer({ env, timeoutMs });
    shared = { server, users: 0 };
    server.catch(() => {
      shared = undefined;
    });
  }
  const current = shared;
  current.users++;
  let server: RedisServerProcess;
  try {
    server = await current.server;
  } catch (error) {
    current.users--;
    throw error;
  }
  let released = false;
  return {
    url: server.url,
    async release() {
      if (released) return;
      released = true;
      current.users--;
      if (current.users === 0 && shared === current) {
        shared = undefined;
        await server.stop();
      }
    },
  };
}
