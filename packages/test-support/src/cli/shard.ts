// Sharding: `pnpm test:integration --shard i/n` runs a deterministic, disjoint part of the selected suites,
// split by test file. Every shard plans from the same inputs (the committed files and the committed
// timings), so the n shards of one commit always partition the whole, wherever and whenever each runs.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { TestSupportError } from "../errors.js";

/** The most shards a run can be split into (also the chart's bound). */
export const MAX_SHARDS = 64;

/** The variables the runner sets for every task of a sharded run (INTEGRATION_*, so turbo hashes them). */
export const SHARD_VARIABLE = "INTEGRATION_SHARD";
export const SHARD_FILE_VARIABLE = "INTEGRATION_SHARD_FILE";

/** One shard of a run: `index` of `count`, 1-based. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n ≤ 64); anything else is a TestSupportError naming the accepted form. */
export function parseShard(text: string, from = "--shard"): Shard {
  const match = /^(\d{1,3})\/(\d{1,3})$/.exec(text.trim());
  const index = match ? Number(match[1]) : Number.NaN;
  const count = match ? Number(match[2]) : Number.NaN;
  if (!match || index < 1 || count < 1 || index > count || count > MAX_SHARDS) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${from} ${JSON.stringify(text)} is not a shard. Write i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS}, ` +
        "e.g. --shard 1/2 and --shard 2/2 for the two halves of a run.",
    );
  }
  return { index, count };
}

/** `shard-1-of-2`: how a shard names its files (JUnit, events, summaries). */
export const shardLabel = (shard: Shard): string => `shard-${shard.index}-of-${shard.count}`;

/** The shard INTEGRATION_SHARD names in `env`, or undefined when the run is not sharded. */
export function shardFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Shard | undefined {
  const raw = env[SHARD_VARIABLE];
  return raw ? parseShard(raw, SHARD_VARIABLE) : undefined;
}

/** One test file of one package: the unit a run is split by. */
export interface ShardFile {
  /** The package's folder relative to the workspace root, e.g. services/threads. */
  packagePath: string;
  /** The file relative to its package, e.g. tests/integration/threads.test.ts. */
  file: string;
}

/** Seconds per file, per package folder, per mode: tests/integration/timings.json. */
export type Timings = Partial<Record<string, Record<string, Record<string, number>>>>;

/** Where the committed timings live, relative to the workspace root. */
export const TIMINGS_FILE = "tests/integration/timings.json";

/** The committed timings; an absent file means none (then files are balanced by count). */
export function readTimings(root: string): Timings {
  const file = join(root, TIMINGS_FILE);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Timings;
  } catch (error) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${TIMINGS_FILE} is not JSON (${(error as Error).message}); ` +
        "restore it from git, or refresh it with `pnpm test:integration --record-timings`.",
    );
  }
}

const compareFiles = (a: ShardFile, b: ShardFile) =>
  a.packagePath < b.packagePath
    ? -1
    : a.packagePath > b.packagePath
      ? 1
      : a.file < b.file
        ? -1
        : a.file > b.file
          ? 1
          : 0;

/** The weight of each file: its recorded seconds, else the median of the recorded ones; 1 each with none. */
function weights(
  files: readonly ShardFile[],
  timings: Record<string, Record<string, number>> | undefined,
): number[] {
  const known = files.map((f) => timings?.[f.packagePath]?.[f.file]);
  const recorded = known
    .filter((s): s is number => typeof s === "number" && Number.isFinite(s) && s >= 0)
    .sort((a, b) => a - b);
  if (recorded.length === 0) return files.map(() => 1);
  const median = recorded[Math.floor(recorded.length / 2)] as number;
  // Never 0, so a run of files recorded at 0 s still spreads by count.
  return known.map((s) => Math.max(typeof s === "number" && Number.isFinite(s) && s >= 0 ? s : median, 1e-3));
}

/**
 * Splits `files` into `count` disjoint shards whose union is every file: greedy longest-processing-time
 * first (heaviest file to the lightest shard), with ties broken by package and file name and then by the
 * lowest shard, so the plan depends only on its inputs, never on the order they came in.
 */
export function planShards(
  files: readonly ShardFile[],
  count: number,
  timings?: Record<string, Record<string, number>>,
): ShardFile[][] {
  const unique = [...new Map(files.map((f) => [`${f.packagePath}\0${f.file}`, f])).values()].sort(
    compareFiles,
  );
  const weight = weights(unique, timings);
  const order = unique
    .map((_, i) => i)
    .sort((a, b) => (weight[b] as number) - (weight[a] as number) || a - b);
  const loads = Array.from({ length: count }, () => 0);
  const shards: ShardFile[][] = Array.from({ length: count }, () => []);
  for (const i of order) {
    let lightest = 0;
    for (let s = 1; s < count; s++) if ((loads[s] as number) < (loads[lightest] as number)) lightest = s;
    loads[lightest] = (loads[lightest] as number) + (weight[i] as number);
    (shards[lightest] as ShardFile[]).push(unique[i] as ShardFile);
  }
  return shards.map((shard) => shard.sort(compareFiles));
}

/** Where each runner finds a package's integration test files (the integration project's include, and node:test). */
export const INTEGRATION_FILE_FOLDERS = [
  { folder: "tests/integration", runner: "vitest" },
  { folder: "tests/node-test", runner: "node-test" },
] as const;

/** Every integration test file (`*.test.ts`) of the package at `root/packagePath`, sorted. */
export function integrationFiles(root: string, packagePath: string): ShardFile[] {
  const found: ShardFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".test.ts"))
        found.push({ packagePath, file: relative(join(root, packagePath), path).replace(/\\/g, "/") });
    }
  };
  for (const { folder } of INTEGRATION_FILE_FOLDERS) {
    const dir = join(root, packagePath, folder);
    if (existsSync(dir)) walk(dir);
  }
  return found.sort(compareFiles);
}

/** What one shard runs: its files per package folder. Written to a file every test process reads. */
export interface ShardSelection {
  shard: string;
  files: Record<string, string[]>;
}

/** The selection of one shard for every package folder (packages with no file in it get an empty list). */
export function selectionOf(
  shard: Shard,
  packagePaths: readonly string[],
  planned: ShardFile[][],
): ShardSelection {
  const files: Record<string, string[]> = Object.fromEntries([...packagePaths].sort().map((p) => [p, []]));
  for (const f of planned[shard.index - 1] ?? [])
    files[f.packagePath] = [...(files[f.packagePath] ?? []), f.file];
  return { shard: `${shard.index}/${shard.count}`, files };
}

/**
 * Writes the selection under `dir`, named by its content's hash, and returns the path. The path is the
 * value of INTEGRATION_SHARD_FILE, which turbo hashes: a different selection is never replayed for another.
 */
export function writeSelection(dir: string, selection: ShardSelection): string {
  const text = `${JSON.stringify(selection, null, 2)}\n`;
  const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `selection-${hash}.json`);
  writeFileSync(file, text);
  return file;
}

/**
 * The files of the package at `packagePath` (relative to the workspace root) that this process's
 * shard selects, or undefined when the run is not sharded. A sharded run without its selection is an error:
 * running every file would silently double the work of the other shards.
 */
export function selectedFiles(
  packagePath: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] | undefined {
  const shard = shardFromEnv(env);
  if (!shard) return undefined;
  const file = env[SHARD_FILE_VARIABLE];
  if (!file || !existsSync(file)) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${SHARD_VARIABLE}=${env[SHARD_VARIABLE]} is set but ${SHARD_FILE_VARIABLE} ${file ? `(${file}) does not exist` : "is not"}; ` +
        "run shards through `pnpm test:integration --shard i/n`, which plans them and writes the selection.",
    );
  }
  const selection = JSON.parse(readFileSync(file, "utf8")) as ShardSelection;
  return selection.files[packagePath.replace(/\\/g, "/")] ?? [];
}

/** The per-file seconds of a Vitest JUnit document: one testsuite element per file, named by its path. */
export function fileSecondsFromJUnit(xml: string): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const match of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const attributes = match[1] as string;
    const name = /\bname="([^"]*)"/.exec(attributes)?.[1];
    const time = /\btime="([\d.]+)"/.exec(attributes)?.[1];
    if (name?.endsWith(".test.ts") && time !== undefined)
      seconds[name] = Math.round(((seconds[name] ?? 0) + Number(time)) * 1000) / 1000;
  }
  return seconds;
}

/** `timings` with `mode`'s entries for the given packages replaced by `recorded`; other modes and packages kept. */
export function withRecordedTimings(
  timings: Timings,
  mode: string,
  recorded: Record<string, Record<string, number>>,
): Timings {
  const byPackage = { ...(timings[mode] ?? {}), ...recorded };
  const sorted = Object.fromEntries(
    Object.keys(byPackage)
      .sort()
      .map((p) => [
        p,
        Object.fromEntries(Object.entries(byPackage[p] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
      ]),
  );
  return { ...timings, [mode]: sorted };
}

/** Writes the timings file, sorted, so a refresh's diff shows only what changed. */
export function writeTimings(root: string, timings: Timings): void {
  const sorted = Object.fromEntries(
    Object.keys(timings)
      .sort()
      .map((m) => [m, timings[m]]),
  );
  writeFileSync(join(root, TIMINGS_FILE), `${JSON.stringify(sorted, null, 2)}\n`);
}

/** The shard a result file belongs to (`junit-shard-1-of-2-repo.xml`, `events-shard-1-of-2.jsonl`), if any. */
export function shardOfFile(name: string): Shard | undefined {
  const match = /shard-(\d+)-of-(\d+)/.exec(name);
  return match ? { index: Number(match[1]), count: Number(match[2]) } : undefined;
}

/**
 * Which of a service folder's result files (JUnit of `mode` and events) a run removes before it starts. An
 * unsharded run removes them all. Shard i/n removes the unsharded ones, its own and those of another split
 * (another n), and keeps the other shards of its split: shards run one after another in one checkout then
 * add up to the whole run, and a stale file of another split never counts twice.
 */
export function staleResultFiles(names: readonly string[], mode: string, shard?: Shard): string[] {
  return names.filter((name) => {
    const isResult =
      (name.startsWith("junit-") && name.endsWith(`-${mode}.xml`)) ||
      /^events(-shard-\d+-of-\d+)?\.jsonl$/.test(name);
    if (!isResult) return false;
    if (!shard) return true;
    const of = shardOfFile(name);
    return !of || of.count !== shard.count || of.index === shard.index;
  });
}

/** The seconds a node:test JUnit document reports for its whole run (its duration_ms comment). */
export function nodeTestSeconds(xml: string): number | undefined {
  const match = /<!--\s*duration_ms\s+([\d.]+)\s*-->/.exec(xml);
  return match ? Math.round(Number(match[1])) / 1000 : undefined;
}
