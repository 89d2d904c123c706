import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

/**
 * Bundles workflow code once per run: the first caller bundles and writes the result to a cache under the
 * system temp folder; every later worker, in this process or another, reuses it until a source changes.
 */
export function bundleWorkflows(workflowsPath: string | URL): Promise<WorkflowBundle> {
  const entry = resolve(workflowsPath instanceof URL ? fileURLToPath(workflowsPath) : workflowsPath);
  const key = sourceKey(entry);
  let pending = inProcess.get(key);
  if (!pending) {
    pending = (async () => {
      const started = performance.now();
      const dir = join(tmpdir(), "org-integration-temporal-bundles");
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
