import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import type { Migration } from "./migrations.js";
import { installReset, runReset } from "./reset-sql.js";

// PGlite is PostgreSQL compiled to WebAssembly, run in this process: one backend, one session. The pool
// handed out is pg's own Pool and Client (so type parsing, `fields` and errors are pg's), talking the wire
// protocol to that backend through PGlite's node-postgres connection, one connection object per client.

const require = createRequire(import.meta.url);
const PGLITE_DIST = dirname(require.resolve("@electric-sql/pglite"));
const PGLITE_VERSION: string = JSON.parse(
  readFileSync(join(PGLITE_DIST, "..", "package.json"), "utf8"),
).version;
/** Bump when what a snapshot holds changes (the reset machinery, the start parameters). */
const SNAPSHOT_FORMAT = 5;
/** Snapshots kept on disk; the least recently used beyond this are removed. */
const SNAPSHOTS_KEPT = 16;
/** The schema of PGlite's reset machinery; the migrations run in public. */
export const PGLITE_CONTROL_SCHEMA = "test_support_reset";

/** Where snapshots live: INTEGRATION_PGLITE_CACHE_DIR, else ~/.cache/org-integration/pglite. */
export function snapshotCacheDir(env: EnvironmentVariables): string {
  if (env.INTEGRATION_PGLITE_CACHE_DIR) return env.INTEGRATION_PGLITE_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "org-integration", "pglite");
}

/**
 * A Blob over bytes already in memory whose arrayBuffer() is one copy: Node 20 reads a Blob's
 * arrayBuffer() in small chunks and joins them, which was a quarter of every PGlite start.
 */
function bytesBlob(bytes: Uint8Array): Blob {
  const blob = new Blob([]);
  Object.defineProperty(blob, "size", { value: bytes.byteLength });
  Object.defineProperty(blob, "arrayBuffer", {
    value: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  });
  return blob;
}

interface Artifacts {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Blob;
}

let artifacts: Promise<Artifacts> | undefined;
/** Compiles PGlite's WebAssembly once per process; every instance reuses the modules. */
function loadArtifacts(): Promise<Artifacts> {
  artifacts ??= (async () => {
    const dist = PGLITE_DIST;
    // Node has WebAssembly; this package's TypeScript lib only declares its types.
    const wasm = (
      globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WebAssembly.Module> } }
    ).WebAssembly;
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      wasm.compile(readFileSync(join(dist, "pglite.wasm"))),
      wasm.compile(readFileSync(join(dist, "initdb.wasm"))),
    ]);
    return {
      pgliteWasmModule,
      initdbWasmModule,
      fsBundle: bytesBlob(readFileSync(join(dist, "pglite.data"))),
    };
  })();
  return artifacts;
}

// PGlite's start parameters, less "-O" (allow_system_table_mods: a server refuses to create tables in
// pg_catalog, and so must this), with a smaller buffer pool: an instance per environment should cost little.
const START_PARAMS = [
  ...(PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams.filter((p) => p !== "-O"),
  "-c",
  "shared_buffers=16MB",
  // Keep no recycled WAL segments around: they would be most of every snapshot's size.
  "-c",
  "min_wal_size=2MB",
  "-c",
  "wal_recycle=off",
];

async function startInstance(loadDataDir?: Blob): Promise<PGlite> {
  const db = new PGlite({
    ...(await loadArtifacts()),
    ...(loadDataDir ? { loadDataDir } : {}),
    startParams: START_PARAMS,
    // 1 MiB WAL segments instead of 16: the snapshot every environment loads is that much smaller.
    initDbStartParams: ["--wal-segsize=1"],
  });
  // PGlite.create() has been seen to hang on Node 20; the constructor plus waitReady does not.
  await db.waitReady;
  return db;
}

/** A snapshot of a data directory after the migrations and the reset machinery, and how it was obtained. */
export interface Snapshot {
  readonly data: Blob;
  readonly key: string;
  readonly file: string;
  readonly source: "memory" | "disk" | "built";
  readonly durationMs: number;
}

const snapshots = new Map<string, Promise<Snapshot>>();

function snapshotKey(migrations: readonly Migration[]): string {
  const hash = createHash("sha256").update(`pglite ${PGLITE_VERSION} format ${SNAPSHOT_FORMAT}\n`);
  for (const migration of migrations) hash.update(`${migration.name}\n${migration.sql}\n\0`);
  return hash.digest("hex").slice(0, 32);
}

function readCached(file: string): Blob | undefined {
  try {
    const data = readFileSync(file);
    const now = new Date();
    utimesSync(file, now, now);
    return bytesBlob(data);
  } catch {
    return undefined;
  }
}

function writeCached(dir: string, file: string, data: Uint8Array): void {
  mkdirSync(dir, { recursive: true });
  // Write then rename, so a parallel worker never reads half a snapshot.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, data);
  renameSync(partial, file);
  const entries = readdirSync(dir)
    .filter((name) => name.endsWith(".tar"))
    .map((name) => ({ path: join(dir, name), used: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const stale of entries.slice(SNAPSHOTS_KEPT)) rmSync(stale.path, { force: true });
}

let base: Promise<Blob> | undefined;
/**
 * A data directory fresh from initdb, cached on disk by PGlite's version: initdb is the slow part of
 * building a snapshot, and is the same for every set of migrations.
 */
function baseSnapshot(dir: string): Promise<Blob> {
  base ??= (async () => {
    const key = createHash("sha256")
      .update(`pglite ${PGLITE_VERSION} format ${SNAPSHOT_FORMAT}`)
      .digest("hex");
    return buildOnce(join(dir, `base-${key.slice(0, 16)}.tar`), async () => {
      const db = await startInstance();
      try {
        // Nothing here creates databases: without the templates the snapshot is half the size to load.
        await db.exec(
          "update pg_database set datistemplate = false where datname in ('template0', 'template1')",
        );
        await db.exec("drop database template0");
        await db.exec("drop database template1");
        await db.exec("checkpoint");
        const data = await dump(db);
        writeCached(dir, join(dir, `base-${key.slice(0, 16)}.tar`), new Uint8Array(await data.arrayBuffer()));
        return data;
      } finally {
        await db.close().catch(() => {});
      }
    });
  })();
  base.catch(() => {
    base = undefined;
  });
  return base;
}

/**
 * Drops the WAL segments after `current` from a tar of a data directory: PostgreSQL pre-allocates them
 * and creates them again when needed, and they are half of what every environment would load.
 */
function withoutFutureWal(tar: Uint8Array, current: string): Uint8Array {
  const kept: Uint8Array[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const name = new TextDecoder().decode(header.subarray(0, 100)).replace(/\0.*$/s, "");
    const size = Number.parseInt(
      new TextDecoder().decode(header.subarray(124, 136)).replace(/\0.*$/s, "").trim() || "0",
      8,
    );
    const end = offset + 512 + Math.ceil(size / 512) * 512;
    const segment = /pg_wal\/([0-9A-F]{24})$/.exec(name)?.[1];
    if (!segment || segment <= current) kept.push(tar.subarray(offset, end));
    offset = end;
  }
  kept.push(new Uint8Array(1024));
  const out = new Uint8Array(kept.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of kept) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The data directory of `db` as a tar, without pre-allocated WAL. */
async function dump(db: PGlite): Promise<Blob> {
  const current = (await db.query<{ name: string }>("select pg_walfile_name(pg_current_wal_lsn()) as name"))
    .rows[0]?.name;
  const tar = new Uint8Array(await (await db.dumpDataDir("none")).arrayBuffer());
  return bytesBlob(current ? withoutFutureWal(tar, current) : tar);
}

const LOCK_STALE_MS = 180_000;

/**
 * Builds `file` once across the processes of a run: the first to take `<file>.lock` builds it, the others
 * wait for it to appear (a lock older than LOCK_STALE_MS belonged to a process that died, and is taken over).
 */
async function buildOnce(file: string, build: () => Promise<Blob>): Promise<Blob> {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  for (;;) {
    const cached = readCached(file);
    if (cached) return cached;
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > LOCK_STALE_MS) rmSync(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    try {
      return await build();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

/** Applies the migrations in order on a fresh PGlite, each in a transaction; names the one that fails. */
async function migrate(db: PGlite, migrations: readonly Migration[]): Promise<void> {
  for (const migration of migrations) {
    try {
      await db.transaction(async (tx) => {
        await tx.exec(migration.sql);
      });
    } catch (error) {
      throw new TestSupportError(
        "MIGRATION_FAILED",
        `migration ${migration.name} failed on PGlite (PostgreSQL in process): ${errorText(error)}. ` +
          "The same SQL would fail on a PostgreSQL server: fix the migration.",
        { cause: error },
      );
    }
  }
}

/**
 * The post-migration snapshot for these migrations: from this process's memory, else the disk cache
 * (keyed by the migrations' content and PGlite's version), else built once (initdb, migrations, reset
 * machinery) and written there.
 */
export function pgliteSnapshot(
  migrations: readonly Migration[],
  env: EnvironmentVariables,
): Promise<Snapshot> {
  const key = snapshotKey(migrations);
  const dir = snapshotCacheDir(env);
  const file = join(dir, `${key}.tar`);
  const known = snapshots.get(key);
  if (known) return known.then((s) => ({ ...s, source: "memory" as const, durationMs: 0 }));
  const pending = (async (): Promise<Snapshot> => {
    const started = performance.now();
    let source: Snapshot["source"] = "disk";
    const data = await buildOnce(file, async () => {
      source = "built";
      const db = await startInstance(await baseSnapshot(dir));
      try {
        await migrate(db, migrations);
        const client = new pg.Client(createPgConfig(db));
        await client.connect();
        try {
          await installReset(client, "public", PGLITE_CONTROL_SCHEMA);
          await client.query("checkpoint");
        } finally {
          await client.end();
        }
        const dumped = await dump(db);
        writeCached(dir, file, new Uint8Array(await dumped.arrayBuffer()));
        return dumped;
      } finally {
        await db.close().catch(() => {});
      }
    });
    return { data, key, file, source, durationMs: performance.now() - started };
  })();
  snapshots.set(key, pending);
  pending.catch(() => snapshots.delete(key));
  return pending;
}

/** What the backend proxy needs of PGlite: what PGlite's node-postgres connection calls. */
interface Backend {
  readonly waitReady: Promise<void>;
  execProtocolStream: PGlite["execProtocolStream"];
}

/** How the single session is shared: who holds it, who waits, and when waiting is hopeless. */
interface SessionOptions {
  /** How long a checkout may wait for the session at most. */
  readonly waitMs: number;
  /** A checkout fails sooner when the holder has run nothing for this long while it waits. */
  readonly idleHolderMs: number;
}

/** A pg Pool over one PGlite backend, the session given to one client at a time. */
export interface PglitePool {
  readonly pool: pg.Pool;
  /** Rolls back and ends what a test left (a checked-out client, an open transaction), then resets the data. */
  reset(): Promise<void>;
  close(): Promise<void>;
  /** The PGlite instance, for tests of this package. */
  readonly instance: () => PGlite;
}

type ClientInternals = pg.PoolClient & {
  _activeQuery?: unknown;
  _queryQueue?: unknown[];
  getTransactionStatus(): string | null;
};

/** Starts a PGlite from `snapshot` and hands out a pg Pool whose clients share its one session in turn. */
export async function openPglitePool(
  snapshot: Snapshot,
  options: SessionOptions & { describe: string },
): Promise<PglitePool> {
  let instance = await startInstance(snapshot.data);
  // Session cleanup between clients (what ending a real connection does) must finish before the next starts.
  let settled: Promise<void> = Promise.resolve();
  const backend: Backend = {
    get waitReady() {
      return Promise.all([instance.waitReady, settled]).then(() => {});
    },
    execProtocolStream: (message, opts) => instance.execProtocolStream(message, opts),
  };

  /** Ending a client ends its session on a server: roll back, drop prepared statements, temp tables, locks, settings. */
  const endSession = () => {
    settled = settled.then(async () => {
      try {
        if (instance.isInTransaction()) await instance.exec("rollback");
        await instance.exec("discard all");
      } catch {
        // a closed instance has no session left to clean
      }
    });
  };

  class PgliteClient extends pg.Client {
    constructor(config: pg.ClientConfig = {}) {
      // A connection object per client: PGlite's is single-use once its client ends.
      super({ ...config, ...(createPgConfig(backend as unknown as PGlite) as unknown as pg.ClientConfig) });
    }
    override end(): Promise<void>;
    override end(callback: (error: Error) => void): void;
    override end(callback?: (error: Error) => void): Promise<void> | void {
      endSession();
      return callback ? super.end(callback) : super.end();
    }
  }

  const pool = new pg.Pool({ Client: PgliteClient, max: 1, idleTimeoutMillis: 0 });
  // An idle client's errors are reported to whoever uses it next; they must not crash the process.
  pool.on("error", () => {});

  let holder: { client: ClientInternals; since: number; stack: string } | undefined;
  let lastActivity = performance.now();
  const busy = (client: ClientInternals) =>
    client._activeQuery != null || (client._queryQueue?.length ?? 0) > 0;

  const track = (client: ClientInternals): ClientInternals => {
    holder = { client, since: performance.now(), stack: new Error().stack ?? "" };
    lastActivity = performance.now();
    const release = client.release.bind(client);
    client.release = (error?: Error | boolean) => {
      if (holder?.client === client) holder = undefined;
      client.release = release;
      return release(error);
    };
    return client;
  };

  const busyError = (waitedMs: number) =>
    new TestSupportError(
      "UNSUPPORTED_BY_DOUBLE",
      `${options.describe}: pool.connect() (or pool.query()) waited ${Math.round(waitedMs)} ms for PGlite's only session, ` +
        "which a checked-out client holds and is not using. PGlite runs one session, so a test that holds two " +
        "clients at once (or queries the pool while it holds a client) would wait forever. Release the first " +
        "client before taking another, or run this test where there are real connections: describeInModes" +
        '(["local", "cluster"], ...) with INTEGRATION_MODE=cluster (or local once it runs a real server).',
    );

  const originalConnect = pool.connect.bind(pool) as () => Promise<ClientInternals>;
  const connect = (): Promise<ClientInternals> => {
    if (!holder) return originalConnect().then(track);
    const started = performance.now();
    return new Promise<ClientInternals>((resolve, reject) => {
      let done = false;
      const timer = setInterval(() => {
        const now = performance.now();
        if (holder && busy(holder.client)) lastActivity = now;
        const hopeless = holder !== undefined && now - lastActivity >= options.idleHolderMs;
        if (hopeless || now - started >= options.waitMs) {
          done = true;
          clearInterval(timer);
          reject(busyError(now - started));
        }
      }, 50);
      timer.unref?.();
      originalConnect().then(
        (client) => {
          if (done) {
            client.release();
            return;
          }
          done = true;
          clearInterval(timer);
          resolve(track(client));
        },
        (error: unknown) => {
          clearInterval(timer);
          if (!done) reject(error);
        },
      );
    });
  };
  (pool as unknown as { connect: unknown }).connect = (callback?: unknown) => {
    if (typeof callback !== "function") return connect();
    connect().then(
      (client) => callback(undefined, client, client.release),
      (error: unknown) => callback(error, undefined, () => {}),
    );
    return undefined;
  };

  let swapping: Promise<void> | undefined;
  const restart = async () => {
    const old = instance;
    instance = await startInstance(snapshot.data);
    await old.close().catch(() => {});
    // The pooled client knew the old backend's session (prepared statements): end it, the next starts fresh.
    const stale = await originalConnect();
    stale.release(true);
    await settled;
  };

  return {
    pool,
    instance: () => instance,
    async reset() {
      await swapping;
      // A client the test never released: take the session back (a real server would see the socket close).
      if (holder) {
        const leaked = holder.client;
        holder = undefined;
        leaked.release(new Error("reset took back a client the test did not release"));
      }
      await settled;
      if (instance.isInTransaction()) await instance.exec("rollback");
      let outcome: "ok" | "rebuild";
      try {
        outcome = await runReset(pool, PGLITE_CONTROL_SCHEMA);
      } catch {
        outcome = "rebuild";
      }
      if (outcome === "rebuild") {
        swapping = restart();
        try {
          await swapping;
        } finally {
          swapping = undefined;
        }
      }
    },
    async close() {
      await pool.end().catch(() => {});
      await settled;
      await instance.close().catch(() => {});
    },
  };
}
