import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@temporalio/client";
import { Redis } from "ioredis";
import pg from "pg";
import { ulid } from "ulid";
import { afterAll, expect, it } from "vitest";
import { type SweepTarget, sweep } from "../../src/cli/sweep.js";
import { createIntegrationEnvironment, uniqueWorkflowId } from "../../src/index.js";
import { connectTemporal } from "../../src/temporal/connection.js";
import { describeInModes } from "../../src/vitest/index.js";
import { crashDependencies } from "../crash/dependencies.js";

// A run killed with SIGKILL mid-run leaves a schema, keys, stores and a running workflow; once their leases expire, the sweep
// removes exactly those, and leaves alone a living environment's and objects that hold no lease.
const child = fileURLToPath(new URL("../crash/crashing-run.ts", import.meta.url));
const cwd = fileURLToPath(new URL("../..", import.meta.url));

function variable(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; the cluster lane sets it.`);
  return value;
}

interface Owned {
  schema: string;
  prefix: string;
  store: string;
  scratch: string;
  workflowId: string;
}

/** Starts the crashing run and resolves with what it owns once it has written everything. */
function startCrashingRun(processes: ChildProcess[]): Promise<Owned> {
  const run = spawn(process.execPath, ["--import", "tsx", child], {
    cwd,
    env: { ...process.env, INTEGRATION_MODE: "cluster", INTEGRATION_LEASE_MS: "2000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  processes.push(run);
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    run.stderr?.on("data", (chunk) => {
      err += String(chunk);
    });
    run.stdout?.on("data", (chunk) => {
      out += String(chunk);
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line) as Owned);
    });
    run.once("exit", (code) =>
      reject(new Error(`the crashing run exited (${code}) before it was ready: ${err}`)),
    );
  });
}

const processes: ChildProcess[] = [];
afterAll(() => {
  for (const p of processes) p.kill("SIGKILL");
});

describeInModes(["cluster"], "a run killed mid-run", () => {
  it("leaves what its leases name, and the sweep removes exactly that once they expire", {
    timeout: 180_000,
  }, async () => {
    const databaseUrl = variable("TEST_SUPPORT_DATABASE_URL");
    const redisUrl = variable("REDIS_URL");
    const fgaUrl = variable("FGA_API_URL").replace(/\/+$/, "");
    const targets: SweepTarget[] = [
      { kind: "postgres", url: databaseUrl, source: "TEST_SUPPORT_DATABASE_URL" },
      { kind: "redis", url: redisUrl, source: "REDIS_URL" },
      { kind: "openfga", url: fgaUrl, source: "FGA_API_URL" },
      {
        kind: "temporal",
        url: `${variable("TEMPORAL_ADDRESS")}/${variable("TEMPORAL_NAMESPACE")}`,
        source: "TEMPORAL_ADDRESS",
      },
    ];
    const temporalConnection = await connectTemporal({ address: variable("TEMPORAL_ADDRESS") });
    const workflows = new Client({
      connection: temporalConnection.connection,
      namespace: variable("TEMPORAL_NAMESPACE"),
    }).workflow;
    const workflowStatus = async (id: string) => (await workflows.getHandle(id).describe()).status.name;
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const keys = new Redis(redisUrl);
    const schemaExists = async (name: string) =>
      (await db.query("select 1 from pg_namespace where nspname = $1", [name])).rowCount === 1;
    const keysUnder = async (prefix: string) => (await keys.keys(`${prefix}*`)).length;
    const storeExists = async (id: string) => (await fetch(`${fgaUrl}/stores/${id}`)).status === 200;

    // Objects no lease names, made to look like an environment's: the sweep must not touch them.
    const foreign = `it_foreign_${ulid().toLowerCase()}`;
    const foreignKey = `it:test-support:${ulid().toLowerCase()}:foreign:k`;
    await db.query(`create schema ${foreign}`);
    await keys.set(foreignKey, "1");
    // A workflow started outside any environment, with an id like an environment's.
    const foreignWorkflow = (
      await workflows.start("waits", { workflowId: uniqueWorkflowId("crash"), taskQueue: "crash" })
    ).workflowId;
    const foreignStore = (
      (await (
        await fetch(`${fgaUrl}/stores`, { method: "POST", body: JSON.stringify({ name: "it-foreign" }) })
      ).json()) as { id: string }
    ).id;
    // A living environment (default lease, renewed by its heartbeat) is not touched either.
    const neighbour = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: crashDependencies(),
      telemetry: { emit() {} },
    });
    try {
      await neighbour.clients.cache.set("alive", "1");
      const neighbourWorkflow = (
        await neighbour.clients.workflows.workflow.start("waits", {
          workflowId: uniqueWorkflowId("crash"),
          taskQueue: "crash",
        })
      ).workflowId;
      const neighbourSchema = /schema (\S+)\)/.exec(neighbour.targets.db.target)?.[1] as string;
      const neighbourPrefix = /keys (\S+)\*\)/.exec(neighbour.targets.cache.target)?.[1] as string;
      const neighbourStore = neighbour.clients.authz.storeId as string;

      const owned = await startCrashingRun(processes);
      const run = processes[processes.length - 1] as ChildProcess;
      const exited = new Promise((resolve) => run.once("exit", resolve));
      run.kill("SIGKILL");
      await exited;
      expect(await schemaExists(owned.schema)).toBe(true);
      expect(await schemaExists(`${owned.schema}_ctl`)).toBe(true);
      expect(await keysUnder(owned.prefix)).toBe(2);
      expect(await storeExists(owned.store)).toBe(true);
      expect(await storeExists(owned.scratch)).toBe(true);
      expect(await workflowStatus(owned.workflowId)).toBe("RUNNING");

      // A dry run lists the dead run's objects once its leases expire (2 s), and removes nothing.
      const names = (reports: Awaited<ReturnType<typeof sweep>>["reports"]) =>
        reports.flatMap((r) => r.expired.map((e) => e.object)).join("\n");
      const deadline = Date.now() + 60_000;
      let listed = "";
      while (Date.now() < deadline) {
        listed = names((await sweep(targets, { dryRun: true, timeoutMs: 10_000 }, () => {})).reports);
        if (
          [owned.schema, owned.prefix, owned.store, owned.scratch, owned.workflowId].every((name) =>
            listed.includes(name),
          )
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(listed).toContain(`schemas ${owned.schema}, ${owned.schema}_ctl`);
      expect(listed).toContain(`2 keys ${owned.prefix}*`);
      expect(listed).toContain(`store ${owned.store}`);
      expect(listed).toContain(`store ${owned.scratch}`);
      expect(listed).toContain(`workflows ${owned.workflowId} (lease test-support-lease-crash-workflows-`);
      expect(await workflowStatus(owned.workflowId)).toBe("RUNNING");
      expect(await schemaExists(owned.schema)).toBe(true);
      expect(await keysUnder(owned.prefix)).toBe(2);
      expect(await storeExists(owned.store)).toBe(true);

      const lines: string[] = [];
      const result = await sweep(targets, { dryRun: false, timeoutMs: 10_000 }, (line) => lines.push(line));
      console.log(lines.join("\n"));
      const removed = names(result.reports);
      expect(removed).toContain(owned.schema);
      expect(removed).toContain(owned.prefix);
      expect(removed).toContain(owned.store);
      expect(removed).toContain(owned.scratch);
      expect(removed).toContain(owned.workflowId);
      expect(await workflowStatus(owned.workflowId)).toBe("TERMINATED");
      expect(await schemaExists(owned.schema)).toBe(false);
      expect(await schemaExists(`${owned.schema}_ctl`)).toBe(false);
      expect(await keysUnder(owned.prefix)).toBe(0);
      expect(await storeExists(owned.store)).toBe(false);
      expect(await storeExists(owned.scratch)).toBe(false);

      // Nothing without an expired lease of ours was touched.
      expect(removed).not.toContain(neighbourSchema);
      expect(await schemaExists(neighbourSchema)).toBe(true);
      expect(await keys.exists(`${neighbourPrefix}alive`)).toBe(1);
      expect(await storeExists(neighbourStore)).toBe(true);
      expect(await schemaExists(foreign)).toBe(true);
      expect(await keys.exists(foreignKey)).toBe(1);
      expect(await storeExists(foreignStore)).toBe(true);
      expect(removed).not.toContain(neighbourWorkflow);
      expect(await workflowStatus(neighbourWorkflow)).toBe("RUNNING");
      expect(await workflowStatus(foreignWorkflow)).toBe("RUNNING");
      // A second sweep finds nothing more of the dead run: its lease was removed with its workflows.
      const again = names((await sweep(targets, { dryRun: true, timeoutMs: 10_000 }, () => {})).reports);
      expect(again).not.toContain(owned.workflowId);
    } finally {
      await neighbour.close();
      await db.query(`drop schema if exists ${foreign}`);
      await keys.del(foreignKey);
      await fetch(`${fgaUrl}/stores/${foreignStore}`, { method: "DELETE" });
      await workflows.getHandle(foreignWorkflow).terminate("crash test clean-up");
      await temporalConnection.close();
      await db.end();
      keys.disconnect();
    }
  });

  it("leaves alone what an expired lease names when it is not an environment's schema or prefix", {
    timeout: 60_000,
  }, async () => {
    const databaseUrl = variable("TEST_SUPPORT_DATABASE_URL");
    const redisUrl = variable("REDIS_URL");
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const keys = new Redis(redisUrl);
    const marker = `sweep-foreign-${ulid().toLowerCase()}`;
    const foreignPrefix = `${marker}:`;
    try {
      // Rows and entries no environment writes: an expired lease naming public, and a prefix of someone else's.
      await db.query("create schema if not exists test_support_leases");
      await db.query(
        `create table if not exists test_support_leases.schemas (schema_name text primary key, holder text not null,
         created_at timestamptz not null default now(), expires_at timestamptz not null)`,
      );
      await db.query(
        "insert into test_support_leases.schemas (schema_name, holder, expires_at) values ('public', $1, now() - interval '1 hour')",
        [marker],
      );
      await keys.set(`${foreignPrefix}k`, "1");
      await keys.hset("it:leases", foreignPrefix, marker);
      const lines: string[] = [];
      const { ok } = await sweep(
        [
          { kind: "postgres", url: databaseUrl, source: "TEST_SUPPORT_DATABASE_URL" },
          { kind: "redis", url: redisUrl, source: "REDIS_URL" },
        ],
        { dryRun: false, timeoutMs: 10_000 },
        (line) => lines.push(line),
      );
      expect(ok).toBe(false);
      const report = lines.join("\n");
      expect(report).toContain(
        "could not remove schemas public, public_ctl: not an environment's schema name; left alone",
      );
      expect(report).toContain(
        `could not remove keys ${foreignPrefix}*: not an environment's key prefix; left alone`,
      );
      expect((await db.query("select 1 from pg_namespace where nspname = 'public'")).rowCount).toBe(1);
      expect(await keys.get(`${foreignPrefix}k`)).toBe("1");
    } finally {
      await db.query("delete from test_support_leases.schemas where schema_name = 'public' and holder = $1", [
        marker,
      ]);
      await keys.hdel("it:leases", foreignPrefix);
      await keys.del(`${foreignPrefix}k`);
      await db.end();
      keys.disconnect();
    }
  });
});
