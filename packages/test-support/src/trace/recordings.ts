import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { TestSupportError } from "../errors.js";
import type { TestTrace } from "./recorder.js";

/** A package with integration suites: where its traces and its recording live. */
export interface TracedPackage {
  /** The package's name, e.g. @org/platform. */
  name: string;
  /** Its folder relative to the workspace root, e.g. services/platform. */
  path: string;
  /** Its artifacts folder name (the folder's last part), e.g. platform. */
  service: string;
}

/** Every workspace package (packages/*, services/*) that has tests/integration. */
export function tracedPackages(root: string): TracedPackage[] {
  const found: TracedPackage[] = [];
  for (const group of ["packages", "services"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const folder of readdirSync(dir).sort()) {
      const path = `${group}/${folder}`;
      if (!existsSync(join(root, path, "tests", "integration"))) continue;
      let name = folder;
      try {
        name =
          (JSON.parse(readFileSync(join(root, path, "package.json"), "utf8")) as { name?: string }).name ??
          name;
      } catch {
        // a folder without a manifest keeps its folder name
      }
      found.push({ name, path, service: folder });
    }
  }
  return found;
}

/** One package's traces of one mode, from artifacts/<service>/trace-<mode>.jsonl; undefined when there are none. */
export function readTraceFile(file: string): TestTrace[] | undefined {
  if (!existsSync(file)) return undefined;
  const traces: TestTrace[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      try {
        traces.push(JSON.parse(line) as TestTrace);
      } catch {
        throw new TestSupportError(
          "INVALID_OPTIONS",
          `${file}:${i + 1} is not a JSON trace line; delete the file and run that mode's suites again.`,
        );
      }
    });
  return traces;
}

/**
 * A package's traces of one mode: trace-<mode>.jsonl and every shard's trace-shard-<i>-of-<n>-<mode>.jsonl
 * in its artifacts folder; undefined when there are none.
 */
export function readModeTraces(
  folder: string,
  mode: string,
): { traces: TestTrace[]; files: string[] } | undefined {
  if (!existsSync(folder)) return undefined;
  const files = readdirSync(folder)
    .filter(
      (name) =>
        name === `trace-${mode}.jsonl` || new RegExp(`^trace-shard-\\d+-of-\\d+-${mode}\\.jsonl$`).test(name),
    )
    .sort()
    .map((name) => join(folder, name));
  if (files.length === 0) return undefined;
  return { traces: files.flatMap((file) => readTraceFile(file) ?? []), files };
}

/** What a recording was made from: each behaviour-defining file (migrations, models, protos) and its hash. */
export type Fingerprint = Record<string, string>;

/** The files whose content decides what the dependencies answer: SQL, OpenFGA models, protos. */
const DEFINING = /\.(sql|fga|proto)$/;
const SKIPPED = new Set(["node_modules", "dist", "recordings", "gen", ".turbo"]);

function definingFiles(dir: string, out: string[], withTests: boolean): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED.has(entry.name) || entry.name.startsWith(".")) continue;
    if (!withTests && entry.name === "tests") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) definingFiles(path, out, withTests);
    else if (DEFINING.test(entry.name)) out.push(path);
  }
}

/** The workspace packages `path` depends on (workspace:), recursively, itself first. */
function workspaceClosure(root: string, path: string): string[] {
  const byName = new Map<string, string>();
  for (const group of ["packages", "services"]) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const folder of readdirSync(dir)) {
      try {
        const manifest = JSON.parse(readFileSync(join(dir, folder, "package.json"), "utf8")) as {
          name?: string;
        };
        if (manifest.name) byName.set(manifest.name, `${group}/${folder}`);
      } catch {
        // not a package
      }
    }
  }
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      const manifest = JSON.parse(readFileSync(join(root, p, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      for (const [name, spec] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
        const dep = byName.get(name);
        if (dep && spec.startsWith("workspace:")) visit(dep);
      }
    } catch {
      // no manifest: nothing more to follow
    }
  };
  visit(path);
  return [...seen];
}

/**
 * The fingerprint of a package: its own defining files (its test fixtures included) and those the
 * workspace packages it uses ship (their own tests' fixtures are not theirs to ship).
 */
export function fingerprintOf(root: string, path: string): Fingerprint {
  const files: string[] = [];
  for (const p of workspaceClosure(root, path)) definingFiles(join(root, p), files, p === path);
  const out: Fingerprint = {};
  for (const file of files.sort()) {
    out[relative(root, file).replace(/\\/g, "/")] = createHash("sha256")
      .update(readFileSync(file))
      .digest("hex")
      .slice(0, 16);
  }
  return out;
}

/** How a recording's fingerprint differs from the code's: the files changed, added and removed. */
export function fingerprintChanges(recorded: Fingerprint, current: Fingerprint): string[] {
  const changes: string[] = [];
  for (const [file, hash] of Object.entries(current)) {
    if (!(file in recorded)) changes.push(`${file} (added)`);
    else if (recorded[file] !== hash) changes.push(`${file} (changed)`);
  }
  for (const file of Object.keys(recorded)) if (!(file in current)) changes.push(`${file} (removed)`);
  return changes.sort();
}

/** A package's committed cluster traces. */
export interface Recording {
  recordedFrom: "cluster";
  fingerprint: Fingerprint;
  tests: TestTrace[];
}

/** Where a package's recording lives. */
export const recordingFile = (root: string, pkg: TracedPackage) =>
  join(root, pkg.path, "tests", "integration", "recordings", "cluster.json");

export function readRecording(file: string): Recording | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Recording;
  } catch (error) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `${file} is not a recording (${(error as Error).message}); restore it from git or refresh it with pnpm test:integration drift --update-recordings.`,
    );
  }
}

/**
 * Writes a recording for review: valid JSON, one test per block and one call per line, tests sorted by
 * name, so a change in what a dependency answers shows as a one-line diff.
 */
export function writeRecording(file: string, recording: Recording): void {
  const lines = [
    "{",
    '  "recordedFrom": "cluster",',
    `  "fingerprint": ${JSON.stringify(recording.fingerprint, null, 2).replace(/\n/g, "\n  ")},`,
    '  "tests": [',
  ];
  const tests = [...recording.tests].sort((a, b) => a.test.localeCompare(b.test));
  tests.forEach((t, i) => {
    const head = {
      test: t.test,
      mode: t.mode,
      state: t.state,
      ...(t.overlapped ? { overlapped: true } : {}),
    };
    const calls = t.calls.map((c, j) => `        ${JSON.stringify(c)}${j < t.calls.length - 1 ? "," : ""}`);
    lines.push(`    ${JSON.stringify(head).slice(0, -1)},`);
    lines.push(calls.length > 0 ? `      "calls": [\n${calls.join("\n")}\n      ]` : '      "calls": []');
    lines.push(`    }${i < tests.length - 1 ? "," : ""}`);
  });
  lines.push("  ]", "}", "");
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, lines.join("\n"));
}
