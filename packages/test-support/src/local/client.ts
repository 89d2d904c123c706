// How test processes reach the run's supervisor: through LOCAL_ENGINES_VARIABLE when the runner or Vitest's
// global set-up started one, else by starting one owned by this process (stopped when this process ends).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { EnvironmentVariables } from "../dependency.js";
import { TestSupportError, type TestSupportErrorCode } from "../errors.js";
import {
  type DatabaseLease,
  type EngineInfo,
  type EngineKind,
  LOCAL_ENGINES_VARIABLE,
  type SupervisorError,
  type SupervisorStats,
  type TemplateMigration,
} from "./protocol.js";

/** A supervisor this process started. */
export interface OwnedSupervisor {
  readonly url: string;
  readonly pid: number;
  stats(): Promise<SupervisorStats>;
  /** Stops its engines and waits for it to exit. */
  stop(): Promise<SupervisorStats | undefined>;
}

/** The supervisor's entry: the built .js next to this file, or the .ts source (run through tsx). */
function entry(): { file: string; args: string[] } {
  const js = fileURLToPath(new URL("./supervisor-main.js", import.meta.url));
  if (existsSync(js)) return { file: js, args: [] };
  const ts = fileURLToPath(new URL("./supervisor-main.ts", import.meta.url));
  const tsx = createRequire(import.meta.url).resolve("tsx");
  return { file: ts, args: ["--import", pathToFileURL(tsx).href] };
}

/** Starts a supervisor tied to this process: it stops its engines when this process exits, however it exits. */
export async function startSupervisor(
  env: EnvironmentVariables = process.env,
  options: { keepAlive?: boolean } = {},
): Promise<OwnedSupervisor> {
  const { file, args } = entry();
  const child: ChildProcess = spawn(process.execPath, [...args, file], {
    env: env as NodeJS.ProcessEnv,
    // stdin is the tie: it closes when this process dies. stderr shows engine builds and sweeps as they happen.
    stdio: ["pipe", "pipe", "inherit"],
  });
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => {
      lines.close();
      resolve(line);
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the local engines' supervisor exited with ${code}`)));
  }).catch((error: unknown) => {
    throw new TestSupportError("CONNECT_FAILED", `could not start local mode's supervisor: ${String(error)}`);
  });
  const { url, pid } = JSON.parse(first) as { url: string; pid: number };
  if (!options.keepAlive) {
    // A process that only uses the supervisor must still be free to exit: then stdin closes and it stops.
    child.unref();
    (child.stdin as unknown as { unref?: () => void })?.unref?.();
    (child.stdout as unknown as { unref?: () => void })?.unref?.();
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    pid,
    stats: () => request<SupervisorStats>(url, "GET", "/stats"),
    async stop() {
      let stats: SupervisorStats | undefined;
      try {
        stats = await request<SupervisorStats>(url, "POST", "/shutdown");
      } catch {
        child.stdin?.end();
      }
      await exited;
      return stats;
    },
  };
}

let own: Promise<string> | undefined;

/** The supervisor's URL: the inherited one, else one this process starts the first time it is needed. */
export function supervisorUrl(env: EnvironmentVariables): Promise<string> {
  const given = env[LOCAL_ENGINES_VARIABLE] ?? process.env[LOCAL_ENGINES_VARIABLE];
  if (given) return Promise.resolve(given);
  own ??= startSupervisor({ ...process.env, ...env }).then((supervisor) => {
    // Child processes of this one (a worker pool, a service) share it.
    process.env[LOCAL_ENGINES_VARIABLE] = supervisor.url;
    return supervisor.url;
  });
  own.catch(() => {
    own = undefined;
  });
  return own;
}

async function request<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `local mode's supervisor at ${base} does not answer (${String((error as Error)?.message ?? error)}): the run that ` +
        `started it has ended, or ${LOCAL_ENGINES_VARIABLE} names a stale one. Unset ${LOCAL_ENGINES_VARIABLE} to let this process start its own.`,
      { cause: error },
    );
  }
  const answer = (await response.json()) as T | SupervisorError;
  if (!response.ok) {
    const failure = answer as SupervisorError;
    throw new TestSupportError(failure.code as TestSupportErrorCode, failure.message);
  }
  return answer as T;
}

/** The run's engine of `kind`, started by the supervisor the first time any process asks. */
export async function localEngine(
  kind: EngineKind,
  env: EnvironmentVariables,
  signal?: AbortSignal,
): Promise<EngineInfo> {
  return request<EngineInfo>(await supervisorUrl(env), "POST", `/engines/${kind}`, undefined, signal);
}

/** A database of the run's PostgreSQL holding `migrations` (copied from their template), named `name`. */
export async function leaseDatabase(
  migrations: readonly TemplateMigration[],
  name: string,
  env: EnvironmentVariables,
  signal?: AbortSignal,
): Promise<DatabaseLease> {
  const body = { migrations: migrations.map(({ name: n, sql }) => ({ name: n, sql })), name };
  return request<DatabaseLease>(await supervisorUrl(env), "POST", "/postgres/databases", body, signal);
}

/** Gives a leased database back; the supervisor drops it in the background. */
export async function releaseDatabase(name: string, env: EnvironmentVariables): Promise<void> {
  await request(await supervisorUrl(env), "DELETE", `/postgres/databases/${name}`);
}
