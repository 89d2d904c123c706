// A PostgreSQL server of a test's own, for faults the shared server must never see (restarts, a full
// max_connections). Started from the machine's PostgreSQL binaries in a temporary folder on a free
// loopback port, as the postgres user when this runs as root (initdb refuses root).
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort } from "./helpers.js";

function binaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort().at(-1);
  return version ? join(root, version, "bin") : undefined;
}

/** Whether this machine can start a private server (PostgreSQL's binaries are installed). */
export const canStartPrivatePostgres = binaries() !== undefined;

export interface PrivatePostgres {
  readonly url: string;
  stop(): void;
  start(): void;
  restart(): void;
  destroy(): void;
}

/** Starts a private server with `maxConnections`; call destroy() when done. */
export async function privatePostgres(options: { maxConnections?: number } = {}): Promise<PrivatePostgres> {
  const bin = binaries();
  if (!bin) throw new Error("PostgreSQL binaries not found under /usr/lib/postgresql");
  const dir = mkdtempSync(join(tmpdir(), "private-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = await closedPort();
  const asOwner = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  const run = (tool: string, args: string[]) => {
    const [command, ...rest] = [...asOwner, join(bin, tool), ...args];
    execFileSync(command as string, rest, { stdio: "pipe", timeout: 60_000 });
  };
  run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
  const pgctl = (action: string) =>
    run("pg_ctl", [
      "-D",
      data,
      "-w",
      "-m",
      "fast",
      "-l",
      join(dir, "log"),
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=${options.maxConnections ?? 20} -c fsync=off`,
      action,
    ]);
  pgctl("start");
  run("createdb", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "app_test"]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/app_test`,
    stop: () => pgctl("stop"),
    start: () => pgctl("start"),
    restart: () => pgctl("restart"),
    destroy: () => {
      try {
        pgctl("stop");
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
