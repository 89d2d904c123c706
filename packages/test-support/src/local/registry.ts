// Where a supervisor keeps its engines' folders and pids, so a later run can find and stop what a run that
// was killed (and could not stop its engines) left behind.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentVariables } from "../dependency.js";

/** One process a supervisor started, as written to its run folder. */
export interface RecordedEngine {
  kind: string;
  pid: number;
  /** A word the process's command line contains, so a reused pid is never signalled. */
  command: string;
}

/** The folder holding every run's folder: INTEGRATION_LOCAL_DIR, else <tmp>/org-integration-local. */
export function runsRoot(env: EnvironmentVariables = process.env): string {
  return env.INTEGRATION_LOCAL_DIR ?? join(tmpdir(), "org-integration-local");
}

/** The command line of a live process, or undefined when there is none with that pid. */
function commandOf(pid: number): string | undefined {
  const ps = spawnSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" });
  return ps.status === 0 ? ps.stdout.trim() : undefined;
}

/** A supervisor's run folder: engines' data and engines.json; readable by the postgres user when root. */
export class RunFolder {
  readonly path: string;
  private readonly engines: RecordedEngine[] = [];

  constructor(root: string, owner: number) {
    mkdirSync(root, { recursive: true });
    // The postgres server runs as another user when we are root: it must reach its data folder.
    chmodSync(root, 0o1777);
    this.path = join(root, `run-${owner}`);
    rmSync(this.path, { recursive: true, force: true });
    mkdirSync(this.path, { mode: 0o755 });
    chmodSync(this.path, 0o755);
    this.write();
  }

  record(engine: RecordedEngine): void {
    this.engines.push(engine);
    this.write();
  }

  forget(pid: number): void {
    const at = this.engines.findIndex((e) => e.pid === pid);
    if (at >= 0) this.engines.splice(at, 1);
    this.write();
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }

  private write(): void {
    writeFileSync(join(this.path, "engines.json"), `${JSON.stringify(this.engines)}\n`);
  }
}

/**
 * Stops the engines of every run whose supervisor is gone and removes its folder. Returns one line per
 * dead run that left something, for the run to say so.
 */
export function sweepDeadRuns(root: string, self: number): string[] {
  if (!existsSync(root)) return [];
  const report: string[] = [];
  for (const name of readdirSync(root)) {
    const match = /^run-(\d+)$/.exec(name);
    if (!match) continue;
    const owner = Number(match[1]);
    if (owner === self) continue;
    const ownerCommand = commandOf(owner);
    if (ownerCommand?.includes("supervisor")) continue; // still running: another run's, not ours to touch
    const folder = join(root, name);
    let engines: RecordedEngine[] = [];
    try {
      engines = JSON.parse(readFileSync(join(folder, "engines.json"), "utf8")) as RecordedEngine[];
    } catch {
      // A folder without a readable list holds no process we know of; its data still goes.
    }
    const stopped: string[] = [];
    for (const engine of engines) {
      const command = commandOf(engine.pid);
      if (!command?.includes(engine.command)) continue;
      try {
        // postgres: SIGQUIT makes the postmaster take its children down with it; the others die at once.
        process.kill(engine.pid, engine.kind === "postgres" ? "SIGQUIT" : "SIGKILL");
        stopped.push(`${engine.kind} (pid ${engine.pid})`);
      } catch {
        // Gone in the meantime.
      }
    }
    rmSync(folder, { recursive: true, force: true });
    report.push(
      stopped.length > 0
        ? `a run that was killed (supervisor pid ${owner}) left ${stopped.join(", ")} running: stopped them and removed ${folder}`
        : `a run that was killed (supervisor pid ${owner}) left ${folder}: removed it (no engine of it was still running)`,
    );
  }
  return report;
}
