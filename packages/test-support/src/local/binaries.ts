// Finding the engines' binaries: a variable naming one, else the machine (redis-server on PATH), else the
// cache that scripts/*-server.sh build into from their Go modules (built on first use, with progress).
import { spawn, spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EnvironmentVariables } from "../dependency.js";
import { TestSupportError } from "../errors.js";
import { REDIS_SERVER_VARIABLE } from "../redis/local-server.js";

/** The variable naming an OpenFGA server binary for local mode; default: the cache, built on first use. */
export const OPENFGA_SERVER_VARIABLE = "OPENFGA_SERVER_PATH";
/** The variable naming a temporal CLI for local mode; default: the cache, built on first use. */
export const TEMPORAL_CLI_VARIABLE = "TEMPORAL_CLI_PATH";

/** The repository's scripts folder (this file is at packages/test-support/{src,dist}/local/). */
const SCRIPTS = fileURLToPath(new URL("../../../../scripts/", import.meta.url));

/** The Go-built engines: their build script, cache variable and binary name. */
const GO_ENGINES = {
  openfga: {
    variable: OPENFGA_SERVER_VARIABLE,
    script: "openfga-server.sh",
    cacheVariable: "OPENFGA_CACHE_DIR",
    binary: "openfga",
    what: "OpenFGA v1.18.1",
  },
  temporal: {
    variable: TEMPORAL_CLI_VARIABLE,
    script: "temporal-server.sh",
    cacheVariable: "TEMPORAL_CACHE_DIR",
    binary: "temporal",
    what: "the Temporal CLI v1.5.1",
  },
} as const;
export type GoEngine = keyof typeof GO_ENGINES;

/** The variables to look binaries up with: the process's, with what the caller passed on top. */
const withPath = (env: EnvironmentVariables) => ({ ...process.env, ...env }) as NodeJS.ProcessEnv;

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const INSTALL_REDIS =
  "Install Redis 7: `sudo apt-get install redis-server` (Debian, Ubuntu), `brew install redis` (macOS), " +
  `or point ${REDIS_SERVER_VARIABLE} at a redis-server binary; or run in repo mode.`;

/** Where a redis-server binary is, or the reason there is none (with the command that installs one). */
export function findRedisServer(env: EnvironmentVariables): { path: string } | { missing: string } {
  const given = env[REDIS_SERVER_VARIABLE];
  if (given) {
    return isExecutable(given)
      ? { path: given }
      : { missing: `${REDIS_SERVER_VARIABLE}=${given} is not an executable file. ${INSTALL_REDIS}` };
  }
  const found = spawnSync("redis-server", ["--version"], { stdio: "ignore", env: withPath(env) });
  if (!found.error && found.status === 0) return { path: "redis-server" };
  return {
    missing: `local mode runs a redis-server, and none is on PATH (nor named by ${REDIS_SERVER_VARIABLE}). ${INSTALL_REDIS}`,
  };
}

/** The cached binary of a Go-built engine (it may not exist yet). */
export function cachedBinary(kind: GoEngine, env: EnvironmentVariables): string {
  const engine = GO_ENGINES[kind];
  const dir =
    env[engine.cacheVariable] || join(env.HOME || homedir(), ".cache", "org-integration", "go", "bin");
  return join(dir, engine.binary);
}

/** Where a Go-built engine stands: named by its variable, in the cache, buildable (Go is there), or missing. */
export function goEngineStatus(
  kind: GoEngine,
  env: EnvironmentVariables,
): { state: "given" | "cached" | "buildable"; path: string } | { state: "missing"; fix: string } {
  const engine = GO_ENGINES[kind];
  const given = env[engine.variable];
  if (given) {
    return isExecutable(given)
      ? { state: "given", path: given }
      : {
          state: "missing",
          fix: `${engine.variable}=${given} is not an executable file; unset it to use the cache.`,
        };
  }
  const cached = cachedBinary(kind, env);
  if (isExecutable(cached)) return { state: "cached", path: cached };
  const go = spawnSync("go", ["version"], { stdio: "ignore", env: withPath(env) });
  if (!go.error && go.status === 0) return { state: "buildable", path: cached };
  return {
    state: "missing",
    fix:
      `${engine.what} is built from its Go module on first use, and Go is not on PATH. Install Go 1.25.7 or ` +
      `later (https://go.dev/doc/install; e.g. \`sudo apt-get install golang-go\` where that is new enough), ` +
      `or set ${engine.variable} to a ${engine.binary} binary.`,
  };
}

/**
 * Runs a command with stderr shown as it goes, and gives its exit code and all of its standard output. It
 * waits for "close", not "exit": a process can exit before its output has been read, and then the last line
 * (the binary's path, for `ensure`) was missing now and then while several engines started at once.
 */
export async function outputOf(
  command: string,
  args: readonly string[],
  env: EnvironmentVariables,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(command, args, { env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout?.on("data", (chunk) => {
    out += String(chunk);
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once("error", () => resolve(-1));
    child.once("close", (exitCode) => resolve(exitCode));
  });
  return { code, out };
}

/**
 * The binary of a Go-built engine: the variable's, else the cache's after `scripts/<engine>-server.sh ensure`
 * (which builds it the first time, printing progress on stderr, and checks the pinned version).
 */
export async function ensureGoEngine(kind: GoEngine, env: EnvironmentVariables): Promise<string> {
  const engine = GO_ENGINES[kind];
  const status = goEngineStatus(kind, env);
  if (status.state === "missing") throw new TestSupportError("CONNECT_FAILED", status.fix);
  if (status.state === "given") return status.path;
  if (status.state === "buildable")
    process.stderr.write(
      `[test-support local] building ${engine.what} into ${status.path} (first use on this machine; later runs reuse it)\n`,
    );
  const script = join(SCRIPTS, engine.script);
  const { code, out } = await outputOf("bash", [script, "ensure"], { ...process.env, ...env });
  const path = out.trim().split("\n").pop() ?? "";
  if (code !== 0 || !isExecutable(path)) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `building ${engine.what} failed (bash ${script} ensure exited with ${code}; its output is above). ` +
        `Fix what it says, or set ${engine.variable} to a ${engine.binary} binary.`,
    );
  }
  return path;
}
