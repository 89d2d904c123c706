// Runs the Postgres fidelity corpus through the factory and compares normalized outcomes with what a
// real PostgreSQL server answered. One runner for every engine: PGlite and pg-mem in repo mode, the
// server in cluster mode (which re-derives the recording).
import { readFileSync } from "node:fs";
import type pg from "pg";
import { isTestSupportError } from "../../../src/errors.js";
import { createIntegrationEnvironment, type PostgresEngine, postgres } from "../../../src/index.js";
import { memoryTelemetry } from "../../helpers.js";
import { type Case, corpus } from "./corpus.js";

export const recordingFile = new URL("./recording.json", import.meta.url);
export const docsFile = new URL("../../../../../docs/postgres-fidelity.md", import.meta.url);
const migrations = new URL("./migrations/", import.meta.url);

/** What one step did, in a form that compares across engines. */
export type StepOutcome =
  | {
      ok: {
        command: string | null;
        rowCount: number | null;
        fields: Array<[string, number | "user"]>;
        rows: unknown;
      };
    }
  | {
      error: {
        code: string | null;
        message: string;
        detail?: string;
        constraint?: string;
        table?: string;
        column?: string;
        dataType?: string;
        schema?: string;
      };
    }
  | { refused: string };

/** The recording: what the server answered for every case. */
export interface Recording {
  server: string;
  cases: Record<string, StepOutcome[]>;
}

/** Values as JSON that says what they were: Dates, Buffers and non-finite numbers keep their kind. */
function normalizeValue(value: unknown): unknown {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? "date:invalid" : `date:${value.toISOString()}`;
  if (Buffer.isBuffer(value)) return `bytes:${value.toString("hex")}`;
  if (typeof value === "bigint") return `bigint:${value}`;
  if (typeof value === "number" && !Number.isFinite(value)) return `number:${value}`;
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return value.map(normalizeValue);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeValue(v)]));
  }
  return value;
}

function normalizeResult(result: pg.QueryResult): StepOutcome {
  return {
    ok: {
      command: result.command ?? null,
      rowCount: result.rowCount ?? null,
      // Types a migration creates (enums) get a different oid on every server.
      fields: (result.fields ?? []).map((f) => [f.name, f.dataTypeID >= 16384 ? "user" : f.dataTypeID]),
      rows: normalizeValue(result.rows),
    },
  };
}

function normalizeError(error: unknown, schema: string): StepOutcome {
  if (isTestSupportError(error)) return { refused: error.code };
  const e = error as Record<string, string | undefined> & { message?: string };
  const unschema = (text: string | undefined) =>
    text === undefined ? undefined : text.split(schema).join("$schema").split('"public"').join('"$schema"');
  const fields: Record<string, string | undefined> = {
    detail: unschema(e.detail),
    constraint: e.constraint,
    table: e.table,
    column: e.column,
    dataType: e.dataType,
    schema:
      e.schema === undefined
        ? undefined
        : e.schema === schema || e.schema === "public"
          ? "$schema"
          : e.schema,
  };
  return {
    error: {
      code: e.code ?? null,
      message: unschema(String(e.message ?? error)) ?? "",
      ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    },
  };
}

/** Runs one case's steps on `db`; clients it checks out are released at the end. */
export async function runCase(db: pg.Pool, c: Case, schema: string): Promise<StepOutcome[]> {
  const clients = new Map<string, pg.PoolClient>();
  const outcomes: StepOutcome[] = [];
  try {
    for (const step of c.steps) {
      try {
        let runner: pg.Pool | pg.PoolClient = db;
        if (step.client) {
          let client = clients.get(step.client);
          if (!client) {
            client = await db.connect();
            clients.set(step.client, client);
          }
          runner = client;
        }
        const config = { text: step.sql, values: step.params as unknown[] | undefined };
        const result = (await (step.rowMode
          ? runner.query({ ...config, rowMode: "array" })
          : runner.query(config))) as unknown as pg.QueryResult | pg.QueryResult[];
        outcomes.push(
          Array.isArray(result)
            ? {
                ok: {
                  command: "MULTI",
                  rowCount: null,
                  fields: [],
                  rows: result.map((r) => normalizeResult(r)),
                },
              }
            : normalizeResult(result),
        );
      } catch (error) {
        outcomes.push(normalizeError(error, schema));
      }
      if (step.release && step.client) {
        clients.get(step.client)?.release();
        clients.delete(step.client);
      }
    }
  } finally {
    for (const client of clients.values()) client.release();
  }
  return outcomes;
}

/** Runs the whole corpus through one environment of the factory, resetting before every case. */
export async function runCorpus(engine: PostgresEngine, env: NodeJS.ProcessEnv = process.env) {
  const environment = await createIntegrationEnvironment({
    service: "test-support",
    dependencies: { db: postgres({ migrations, urlEnv: "TEST_SUPPORT_DATABASE_URL", engine }) },
    env,
    telemetry: memoryTelemetry(),
  });
  try {
    const db = environment.clients.db;
    const schema = /\(schema ([a-z0-9_]+)\)/.exec(environment.targets.db.target)?.[1] ?? "public";
    const server = await db.query<{ v: string }>("select version() as v").then(
      (r) => r.rows[0]?.v ?? "",
      () => "unknown",
    );
    const outcomes: Record<string, StepOutcome[]> = {};
    for (const c of corpus) {
      await environment.reset();
      outcomes[c.id] = await runCase(db, c, schema);
    }
    await environment.reset();
    return { server, outcomes, implementation: environment.targets.db.implementation };
  } finally {
    await environment.close();
  }
}

export function readRecording(): Recording | undefined {
  try {
    return JSON.parse(readFileSync(recordingFile, "utf8")) as Recording;
  } catch {
    return undefined;
  }
}

/** How an engine's outcome of a case differs from the server's. */
export type Difference = "same" | "loud" | "silent";

/**
 * silent: the engine answered (no error) where the server failed, or answered differently; loud: the
 * engine failed (an error or a refusal) where the server answered, or failed with another SQLSTATE.
 * The worst step decides.
 */
export function classify(server: readonly StepOutcome[], engine: readonly StepOutcome[]): Difference {
  let worst: Difference = "same";
  server.forEach((expected, i) => {
    const actual = engine[i];
    if (JSON.stringify(expected) === JSON.stringify(actual)) return;
    if (actual && "ok" in actual) worst = "silent";
    else if (worst === "same") worst = "loud";
  });
  return worst;
}

function brief(outcome: StepOutcome | undefined): string {
  if (!outcome) return "(nothing)";
  if ("refused" in outcome) return `refused (${outcome.refused})`;
  if ("error" in outcome) return `error ${outcome.error.code ?? "without SQLSTATE"}`;
  const rows = JSON.stringify(outcome.ok.rows);
  return `${outcome.ok.command ?? ""} ${rows.length > 60 ? `${rows.slice(0, 57)}...` : rows}`.trim();
}

/** The first step that makes the case's class (silent before loud), in a line for the table. */
function firstDifference(server: readonly StepOutcome[], engine: readonly StepOutcome[], kind: Difference) {
  const i = server.findIndex(
    (o, n) =>
      JSON.stringify(o) !== JSON.stringify(engine[n]) && classify([o], [engine[n] as StepOutcome]) === kind,
  );
  const a = server[i];
  const b = engine[i];
  let what = `${brief(a)} / ${brief(b)}`;
  if (a && b && "ok" in a && "ok" in b) {
    const parts = (["command", "rowCount", "fields", "rows"] as const).filter(
      (k) => JSON.stringify(a.ok[k]) !== JSON.stringify(b.ok[k]),
    );
    what = `${parts.join(", ")}: ${brief(a)} / ${brief(b)}`;
  } else if (a && b && "error" in a && "error" in b) {
    const keys = new Set([...Object.keys(a.error), ...Object.keys(b.error)]) as Set<keyof typeof a.error>;
    const parts = [...keys].filter((k) => a.error[k] !== b.error[k]);
    what = `error ${parts.join(", ")}: ${a.error.code} / ${b.error.code ?? "none"}`;
  }
  return { step: i + 1, what: what.replace(/\|/g, "\\|") };
}

/** The generated docs page: counts per engine and every difference of each engine from the server. */
export function renderDocs(
  recording: Recording,
  engines: Record<string, Record<string, StepOutcome[]>>,
): string {
  const lines = [
    "# Postgres fidelity: what each repo-mode engine answers differently from PostgreSQL",
    "",
    "Generated by `pnpm --filter @org/test-support fidelity:postgres` from the fidelity corpus",
    "(`packages/test-support/tests/fidelity/postgres/corpus.ts`) and the recorded answers of a real server",
    `(${recording.server.split(" on ")[0]}). CI fails when this page is stale, when the recording no longer`,
    "matches the server (cluster lane), and when the default engine (PGlite) differs silently.",
    "",
    "- **silent**: the engine answered where PostgreSQL failed, or answered differently. A suite can pass",
    "  on it for the wrong reason.",
    "- **loud**: the engine failed (an error, or a refusal naming the mode that can run the call) where",
    "  PostgreSQL answered, or failed with a different SQLSTATE. A suite sees it fail.",
    "",
    `| engine | cases | same | loud | silent |`,
    "|---|---|---|---|---|",
  ];
  const tables: string[] = [];
  for (const [engine, outcomes] of Object.entries(engines)) {
    const counts = { same: 0, loud: 0, silent: 0 };
    const rows: string[] = [];
    for (const c of corpus) {
      const server = recording.cases[c.id] ?? [];
      const actual = outcomes[c.id] ?? [];
      const kind = classify(server, actual);
      counts[kind]++;
      if (kind !== "same") {
        const { step, what } = firstDifference(server, actual, kind);
        rows.push(`| ${kind} | \`${c.id}\` | ${step} | ${what} |`);
      }
    }
    lines.push(`| ${engine} | ${corpus.length} | ${counts.same} | ${counts.loud} | ${counts.silent} |`);
    tables.push(
      "",
      `## ${engine}: ${counts.silent} silent, ${counts.loud} loud`,
      "",
      ...(rows.length === 0
        ? ["No differences."]
        : ["| kind | case | step | differs in: PostgreSQL / engine |", "|---|---|---|---|", ...rows.sort()]),
    );
  }
  return `${[...lines, ...tables].join("\n")}\n`;
}
