import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TestSupportError } from "../errors.js";
import type { TemporalClient } from "./temporal.js";

/** A bundle of workflow code, and whether it came from the cache. */
export interface WorkflowBundle {
  code: string;
  reused: boolean;
  durationMs: number;
}

const inProcess = new Map<string, Promise<WorkflowBundle>>();

/** A key that changes whenever a source file next to (or below) the workflows entry changes. */
function sourceKey(entry: string): string {
  const hash = createHash("sha256").update(entry);
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const path = join(dir, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else if (/\.(ts|js|mts|mjs|cjs|json)$/.test(name)) hash.update(`${path}:${info.size}:${info.mtimeMs}`);
    }
  };
  walk(dirname(entry));
  return hash.digest("hex").slice(0, 32);
}

/** How many bundles the cache keeps: one per workflow source version in use, and a few older ones. */
const KEPT_BUNDLES = 8;

/**
 * Where bundles are cached: INTEGRATION_CACHE_DIR/temporal-bundles, else node_modules/.cache/org-integration/
 * temporal-bundles below the working directory, so each checkout has its own and removing node_modules
 * removes it.
 */
export function temporalBundleCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const root = env.INTEGRATION_CACHE_DIR
    ? resolve(env.INTEGRATION_CACHE_DIR)
    : join(process.cwd(), "node_modules", ".cache", "org-integration");
  return join(root, "temporal-bundles");
}

/** Keeps the newest KEPT_BUNDLES bundles and removes the rest (and half-written files of dead processes). */
function pruneBundles(dir: string): void {
  const files = readdirSync(dir)
    .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of files.slice(KEPT_BUNDLES)) rmSync(path, { force: true });
}

/**
 * Bundles workflow code once per run: the first caller bundles and writes the result to a bounded cache
 * (temporalBundleCacheDir); every later worker, in this process or another, reuses it until a source changes.
 */
export function bundleWorkflows(workflowsPath: string | URL): Promise<WorkflowBundle> {
  const entry = resolve(workflowsPath instanceof URL ? fileURLToPath(workflowsPath) : workflowsPath);
  const key = sourceKey(entry);
  let pending = inProcess.get(key);
  if (!pending) {
    pending = (async () => {
      const started = performance.now();
      const dir = temporalBundleCacheDir();
      const file = join(dir, `${key}.js`);
      try {
        return { code: readFileSync(file, "utf8"), reused: true, durationMs: performance.now() - started };
      } catch {
        // not cached yet
      }
      const { bundleWorkflowCode } = await import("@temporalio/worker");
      const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: undefined });
      mkdirSync(dir, { recursive: true });
      // Write then rename, so a parallel worker never reads half a bundle.
      const partial = `${file}.${process.pid}.tmp`;
      writeFileSync(partial, code);
      renameSync(partial, file);
      try {
        pruneBundles(dir);
      } catch {
        // another process pruned at the same time; the next write prunes again
      }
      return { code, reused: false, durationMs: performance.now() - started };
    })();
    inProcess.set(key, pending);
  }
  return pending;
}

/** A running in-process worker; shut it down at the end of the suite. */
export interface RunningWorker extends AsyncDisposable {
  shutdown(): Promise<void>;
}

/**
 * Runs a real Temporal Worker in this process for the suite's workflows and activities, on the client's
 * server, namespace and task queue. In repo mode it does nothing: the programmed stub answers instead.
 */
export async function runTemporalWorker(
  client: TemporalClient,
  options: { workflowsPath: string | URL; activities?: object },
): Promise<RunningWorker> {
  // In repo mode the programmed stub plays the workflows: there is no engine to poll, so no worker runs.
  if (client.stub) {
    const idle = async () => {};
    return { shutdown: idle, [Symbol.asyncDispose]: idle };
  }
  if (!client.address) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      "runTemporalWorker needs a client from the temporal() dependency.",
    );
  }
  const { NativeConnection, Worker } = await import("@temporalio/worker");
  const bundle = await bundleWorkflows(options.workflowsPath);
  const connection = await NativeConnection.connect({ address: client.address });
  const worker = await Worker.create({
    connection,
    namespace: client.namespace,
    taskQueue: client.taskQueue,
    workflowBundle: { code: bundle.code },
    activities: options.activities ?? {},
  });
  const running = worker.run();
  const shutdown = async () => {
    if (worker.getState() === "RUNNING") worker.shutdown();
    try {
      await running;
    } finally {
      await connection.close();
    }
  };
  return { shutdown, [Symbol.asyncDispose]: shutdown };
}
