// Leases on engine processes a run starts on this machine (local mode's redis-server, a Temporal dev
// server): a file per process whose modification time a heartbeat of the owning process renews. A run
// killed with SIGKILL cannot stop its engines; once its file is older than the lease, the sweep kills the
// engine, but only if the process with that pid is still the one that was started (its start time in
// /proc matches), so a reused pid is never hit.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText } from "../errors.js";
import { type Heartbeat, leaseMsFrom, type SweepReport, type SweptObject, startHeartbeat } from "./lease.js";

/** Where process leases live: $INTEGRATION_CACHE_DIR/leases, else ~/.cache/org-integration/leases. */
export function processLeaseDir(env: EnvironmentVariables = process.env): string {
  return join(env.INTEGRATION_CACHE_DIR || join(homedir(), ".cache", "org-integration"), "leases");
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or undefined. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

interface ProcessLeaseFile {
  pid: number;
  started: string;
  what: string;
  owner: number;
  leaseMs: number;
  /** A folder the engine used, removed with it. */
  dir?: string;
}

/** Registers a started engine process; release() when it has been stopped. Never throws: a lease is a safety net. */
export function registerProcessLease(
  pid: number | undefined,
  what: string,
  options: { dir?: string; env?: EnvironmentVariables } = {},
): { release(): void } {
  const started = pid === undefined ? undefined : startTicks(pid);
  if (pid === undefined || started === undefined) return { release() {} };
  let heartbeat: Heartbeat | undefined;
  let file: string;
  try {
    const folder = processLeaseDir(options.env);
    mkdirSync(folder, { recursive: true });
    file = join(folder, `process-${pid}-${started}.json`);
    const leaseMs = leaseMsFrom(options.env ?? process.env);
    const lease: ProcessLeaseFile = {
      pid,
      started,
      what,
      owner: process.pid,
      leaseMs,
      ...(options.dir ? { dir: options.dir } : {}),
    };
    writeFileSync(file, `${JSON.stringify(lease)}\n`);
    heartbeat = startHeartbeat(leaseMs, async () => {
      const now = new Date();
      utimesSync(file, now, now);
    });
  } catch {
    return { release() {} };
  }
  return {
    release() {
      heartbeat?.stop();
      rmSync(file, { force: true });
    },
  };
}

/** Kills the engine processes of expired leases in `folder` (or, with `dryRun`, lists them). */
export function sweepProcesses(folder: string, options: { dryRun: boolean }): SweepReport {
  const server = `engine processes on this machine (${folder})`;
  const expired: SweptObject[] = [];
  const failed: { object: string; error: string }[] = [];
  let live = 0;
  let names: string[] = [];
  try {
    names = readdirSync(folder).filter((name) => /^process-\d+-\d+\.json$/.test(name));
  } catch {
    return { server, expired, live, failed };
  }
  for (const name of names.sort()) {
    const file = join(folder, name);
    try {
      const lease = JSON.parse(readFileSync(file, "utf8")) as ProcessLeaseFile;
      if (statSync(file).mtimeMs + lease.leaseMs >= Date.now()) {
        live++;
        continue;
      }
      const running = startTicks(lease.pid) === lease.started;
      const object = `${lease.what} (pid ${lease.pid}${running ? "" : ", already gone"})`;
      expired.push({ object, holder: `pid ${lease.owner}` });
      if (options.dryRun) continue;
      if (running) process.kill(lease.pid, "SIGKILL");
      if (lease.dir) rmSync(lease.dir, { recursive: true, force: true });
      rmSync(file, { force: true });
    } catch (error) {
      failed.push({ object: name, error: errorText(error) });
    }
  }
  return { server, expired, live, failed };
}
