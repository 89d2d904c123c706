// What scripts/cluster-up.sh starts: the servers the selected packages' declarations need, found from the
// variables those declarations read, plus what each started server needs itself; and the checks it runs
// on PostgreSQL and Redis, which it never starts (they are the machine's or CI's service containers).
import { Command } from "commander";
import type { ServiceDeclaration } from "../declaration.js";
import { isTestSupportError, TestSupportError } from "../errors.js";
import { resolveArtifactsDir } from "../telemetry.js";
import { loadPackageDeclarations } from "./declarations.js";
import { probeVariable } from "./probes.js";

/** One thing cluster-up.sh can provide: a server it starts, or a check of a server it expects. */
export interface ClusterServer {
  name: string;
  /** false for PostgreSQL and Redis: checked (and the database created), never started. */
  started: boolean;
  /** The variables whose values it provides. */
  provides: (variable: string) => boolean;
  /** The other servers its process needs (from what its main.ts reads). */
  needs: string[];
}

/** Everything cluster-up.sh knows how to provide, in the order it starts them. */
export const CLUSTER_SERVERS: readonly ClusterServer[] = [
  {
    name: "postgres",
    started: false,
    provides: (v) => /_DATABASE_URL$/.test(v) || v === "DATABASE_URL",
    needs: [],
  },
  { name: "redis", started: false, provides: (v) => v === "REDIS_URL", needs: [] },
  { name: "openfga", started: true, provides: (v) => v === "FGA_API_URL", needs: [] },
  {
    name: "temporal",
    started: true,
    provides: (v) => v === "TEMPORAL_ADDRESS" || v === "TEMPORAL_NAMESPACE" || v === "TEMPORAL_CLI_PATH",
    needs: [],
  },
  {
    name: "platform",
    started: true,
    provides: (v) => v === "PLATFORM_GRPC_URL",
    needs: ["postgres", "openfga"],
  },
  { name: "llm", started: true, provides: (v) => v === "LLM_BASE_URL", needs: [] },
  {
    name: "threads",
    started: true,
    provides: (v) => v === "THREADS_GRPC_URL",
    needs: ["postgres", "redis", "platform", "llm"],
  },
  {
    name: "workflows",
    started: true,
    provides: (v) => v === "WORKFLOWS_GRPC_URL",
    needs: ["postgres", "temporal", "threads"],
  },
];

/** What a bring-up for some declarations does: the servers in start order and the variables it prints. */
export interface ClusterPlan {
  servers: string[];
  /** Every variable the selected suites (and doctor) read, sorted; TEMPORAL_CLI_PATH too when Temporal starts. */
  variables: string[];
}

/**
 * The servers the declarations need, in start order, with what those servers need in turn, and the
 * variables to print. A variable no server provides is an error naming it, since the run would miss it.
 */
export function planCluster(
  declarations: readonly ServiceDeclaration[],
  servers: readonly ClusterServer[] = CLUSTER_SERVERS,
): ClusterPlan {
  const variables = new Set(
    declarations.flatMap((d) => Object.values(d.dependencies).flatMap((dependency) => dependency.variables)),
  );
  const wanted = new Set<string>();
  const unknown: string[] = [];
  for (const variable of variables) {
    const server = servers.find((s) => s.provides(variable));
    if (server) wanted.add(server.name);
    else unknown.push(variable);
  }
  if (unknown.length > 0) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `scripts/cluster-up.sh does not know what provides ${unknown.sort().join(", ")}; start that yourself and ` +
        "export the variable, or teach CLUSTER_SERVERS in packages/test-support/src/cli/cluster-plan.ts to start it.",
    );
  }
  const closure = new Set<string>();
  const visit = (name: string) => {
    if (closure.has(name)) return;
    const server = servers.find((s) => s.name === name);
    if (!server) throw new TestSupportError("INVALID_OPTIONS", `no cluster server is named ${name}`);
    closure.add(name);
    for (const need of server.needs) visit(need);
  };
  for (const name of wanted) visit(name);
  for (const name of closure) wanted.add(name);
  if (wanted.has("temporal")) variables.add("TEMPORAL_CLI_PATH");
  return {
    servers: servers.filter((s) => wanted.has(s.name)).map((s) => s.name),
    variables: [...variables].sort(),
  };
}

/** The declarations of the packages named by --for (all when none is named); an unknown name lists the known ones. */
export function selectForPackages<T extends { packageName: string; declaration: ServiceDeclaration }>(
  all: readonly T[],
  names: readonly string[],
): ServiceDeclaration[] {
  if (names.length === 0) return all.map((d) => d.declaration);
  const known = [...new Set(all.map((d) => d.packageName))].sort();
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `--for ${unknown.join(" ")}: no package with a declaration has that name; choose from ${known.join(", ")}.`,
    );
  }
  return all.filter((d) => names.includes(d.packageName)).map((d) => d.declaration);
}

/** Creates the database a PostgreSQL URL names when the server answers but the database is missing. */
export async function ensureDatabase(
  url: string,
  timeoutMs = 5000,
): Promise<{ created: boolean; detail: string }> {
  const first = await probeVariable(
    { variable: "DATABASE_URL", probe: "postgres" },
    { DATABASE_URL: url },
    { timeoutMs },
  );
  if (first.ok) return { created: false, detail: first.detail };
  if (!/does not exist/.test(first.detail)) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `PostgreSQL at ${redactedUrl(url)} ${first.detail}. Fix: ${first.fix}`,
    );
  }
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(`create database "${database.replace(/"/g, '""')}"`);
    return { created: true, detail: `created database "${database}"` };
  } catch (error) {
    // 42P04: someone else created it meanwhile, which is what we wanted.
    if ((error as { code?: string }).code === "42P04")
      return { created: false, detail: `database "${database}" exists` };
    throw new TestSupportError(
      "CONNECT_FAILED",
      `database "${database}" does not exist and could not be created (${(error as Error).message}). Create it: ${first.fix}`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

function main() {
  const fail = (error: unknown) => {
    if (!isTestSupportError(error)) throw error;
    console.error(error.message);
    process.exitCode = error.code === "INVALID_OPTIONS" ? 2 : 1;
  };
  const program = new Command("cluster-plan").description("What scripts/cluster-up.sh starts and checks.");
  program
    .command("servers")
    .description("print `server <name>` and `variable <NAME>` lines for the selected packages")
    .option(
      "--for <package>",
      "a package whose suites will run; repeatable (default: every package)",
      (v, all: string[]) => [...all, v],
      [],
    )
    .action(async (options: { for: string[] }) => {
      try {
        const root = resolveArtifactsDir({}).replace(/\/artifacts$/, "");
        const problems: string[] = [];
        const all = await loadPackageDeclarations(root, (p) => problems.push(p));
        for (const problem of problems) console.error(`cluster-plan: ${problem}`);
        const plan = planCluster(selectForPackages(all, options.for));
        for (const server of plan.servers) console.log(`server ${server}`);
        for (const variable of plan.variables) console.log(`variable ${variable}`);
      } catch (error) {
        fail(error);
      }
    });
  program
    .command("database <url>")
    .description("make sure the database a PostgreSQL URL names exists, creating it when the server answers")
    .action(async (url: string) => {
      try {
        console.error(`cluster-plan: ${(await ensureDatabase(url)).detail}`);
      } catch (error) {
        fail(error);
      }
    });
  program
    .command("redis <url>")
    .description("make sure Redis answers PING at a URL")
    .action(async (url: string) => {
      const result = await probeVariable(
        { variable: "REDIS_URL", probe: "redis" },
        { REDIS_URL: url },
        { timeoutMs: 5000 },
      );
      if (result.ok) return;
      console.error(`Redis at ${redactedUrl(url)} ${result.detail}. Fix: ${result.fix}`);
      process.exitCode = 1;
    });
  return program.parseAsync();
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
