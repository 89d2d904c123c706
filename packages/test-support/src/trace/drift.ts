import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestSupportError } from "../errors.js";
import {
  type AcceptedDifference,
  acceptedFile,
  appliesTo,
  explains,
  namesAny,
  readAccepted,
} from "./accepted.js";
import { compareTraces, type Divergence, type TraceComparison } from "./compare.js";
import type { TestTrace } from "./recorder.js";
import {
  fingerprintChanges,
  fingerprintOf,
  readModeTraces,
  readRecording,
  recordingFile,
  type TracedPackage,
  tracedPackages,
  writeRecording,
} from "./recordings.js";

/** Where a side of the comparison comes from: a mode's traces of the last run, or the committed recording. */
export const DRIFT_SOURCES = ["repo", "local", "cluster", "recording"] as const;
export type DriftSource = (typeof DRIFT_SOURCES)[number];

export interface DriftOptions {
  root: string;
  artifactsDir: string;
  from: DriftSource;
  to: DriftSource;
  /** Package names or folder names; all packages with integration suites when empty. */
  filter: string[];
  log: (line: string) => void;
}

/** One package's part of the report. */
export interface PackageDrift {
  package: string;
  service: string;
  /** ok: nothing unexplained; drift: unexplained differences; stale: the recording or an accepted entry is out of date; missing: a side has no traces. */
  status: "ok" | "drift" | "stale" | "missing";
  problem?: string;
  compared: number;
  drifted: Divergence[];
  accepted: { divergence: Divergence; reason: string }[];
  staleAccepted: AcceptedDifference[];
  staleRecording?: string[];
  onlyFrom: string[];
  onlyTo: string[];
  notCompared: TraceComparison["notCompared"];
  unobserved: TraceComparison["unobserved"];
}

export interface DriftReport {
  from: DriftSource;
  to: DriftSource;
  packages: PackageDrift[];
  /** Whether the comparison passes: no unexplained difference, nothing stale or missing. */
  ok: boolean;
}

function selectPackages(root: string, filter: string[]): TracedPackage[] {
  const all = tracedPackages(root);
  if (filter.length === 0) return all;
  const chosen = all.filter((p) => filter.includes(p.name) || filter.includes(p.service));
  const unknown = filter.filter((f) => !all.some((p) => p.name === f || p.service === f));
  if (unknown.length > 0) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `--filter ${unknown.join(", ")} names no package with integration suites; known: ${all.map((p) => p.name).join(", ")}.`,
    );
  }
  return chosen;
}

/** A side's traces, or why there are none. */
function load(
  options: DriftOptions,
  pkg: TracedPackage,
  source: DriftSource,
): { traces: TestTrace[] } | { missing: string } | { stale: string[] } {
  if (source === "recording") {
    const file = recordingFile(options.root, pkg);
    const recording = readRecording(file);
    if (!recording) {
      return {
        missing: `no recording at ${file}; make one from a cluster run with pnpm test:integration drift --update-recordings`,
      };
    }
    const changes = fingerprintChanges(recording.fingerprint, fingerprintOf(options.root, pkg.path));
    if (changes.length > 0) return { stale: changes };
    return { traces: recording.tests };
  }
  const folder = join(options.artifactsDir, pkg.service);
  const found = readModeTraces(folder, source);
  if (!found) {
    return {
      missing: `no ${source} traces (${folder}/trace-${source}.jsonl); run pnpm test:integration --mode=${source} --filter ${pkg.name} first`,
    };
  }
  return { traces: found.traces };
}

const emptyPart = (pkg: TracedPackage): PackageDrift => ({
  package: pkg.name,
  service: pkg.service,
  status: "ok",
  compared: 0,
  drifted: [],
  accepted: [],
  staleAccepted: [],
  onlyFrom: [],
  onlyTo: [],
  notCompared: [],
  unobserved: [],
});

/** Compares two sources' traces for every selected package; writes artifacts/drift/<from>-vs-<to>.{md,json}. */
export function runDrift(options: DriftOptions): DriftReport {
  if (options.from === options.to) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `--from and --to are both ${options.from}; compare two different sources (${DRIFT_SOURCES.join(", ")}).`,
    );
  }
  const packages: PackageDrift[] = [];
  for (const pkg of selectPackages(options.root, options.filter)) {
    const part = emptyPart(pkg);
    packages.push(part);
    const accepted = readAccepted(acceptedFile(options.root, pkg.path)).filter((e) =>
      appliesTo(e, options.from, options.to),
    );
    const from = load(options, pkg, options.from);
    const to = load(options, pkg, options.to);
    const sides = [from, to];
    const stale = sides.find((s): s is { stale: string[] } => "stale" in s);
    const missing = sides.find((s): s is { missing: string } => "missing" in s);
    if (stale) {
      part.status = "stale";
      part.staleRecording = stale.stale;
      part.problem =
        `the recording was made with other migrations, models or protos than this code (${stale.stale.join(", ")}); ` +
        "it is not compared blindly. Refresh it from a cluster run: pnpm test:integration drift --update-recordings";
      continue;
    }
    if (missing) {
      part.status = "missing";
      part.problem = missing.missing;
      continue;
    }
    const comparison = compareTraces(
      (from as { traces: TestTrace[] }).traces,
      (to as { traces: TestTrace[] }).traces,
    );
    const toNames = new Set((to as { traces: TestTrace[] }).traces.map((t) => t.test));
    const skipped = new Set(comparison.notCompared.map((n) => n.test));
    const compared = (from as { traces: TestTrace[] }).traces
      .map((t) => t.test)
      .filter((t) => toNames.has(t) && !skipped.has(t));
    const used = new Set<AcceptedDifference>();
    for (const divergence of comparison.divergences) {
      const entry = accepted.find((e) => explains(e, divergence));
      if (entry) {
        used.add(entry);
        part.accepted.push({ divergence, reason: entry.reason });
      } else part.drifted.push(divergence);
    }
    part.staleAccepted = accepted.filter(
      (e) => !used.has(e) && e.sometimes !== true && namesAny(e, compared),
    );
    part.compared = comparison.compared;
    part.onlyFrom = comparison.onlyFrom;
    part.onlyTo = comparison.onlyTo;
    part.notCompared = comparison.notCompared;
    part.unobserved = comparison.unobserved;
    part.status = part.drifted.length > 0 ? "drift" : part.staleAccepted.length > 0 ? "stale" : "ok";
  }
  const report: DriftReport = {
    from: options.from,
    to: options.to,
    packages,
    ok: packages.every((p) => p.status === "ok"),
  };
  const dir = join(options.artifactsDir, "drift");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${options.from}-vs-${options.to}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdownOf(report));
  for (const line of consoleLines(report)) options.log(line);
  options.log(`report: ${base}.md (and .json)`);
  return report;
}

const short = (value: unknown, max = 400) => {
  const text = value === undefined ? "(no such call)" : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

const answerOf = (side: Divergence["from"]) => (side === undefined ? "(no such call)" : short(side.outcome));

function consoleLines(report: DriftReport): string[] {
  const lines = [`drift: ${report.from} → ${report.to}`];
  for (const p of report.packages) {
    const counts = `${p.compared} tests compared, ${p.drifted.length} drifted, ${p.accepted.length} accepted`;
    lines.push(`  ${p.package}: ${p.status === "ok" ? "no drift" : p.status.toUpperCase()} (${counts})`);
    if (p.problem) lines.push(`    ${p.problem}`);
    for (const d of p.drifted) {
      lines.push(`    ✗ ${d.test}`);
      lines.push(
        `      first divergent call: ${d.channel} (${d.kind}) #${d.index + 1} ${d.from?.call ?? d.to?.call}`,
      );
      lines.push(`      request: ${short((d.from ?? d.to)?.request)}`);
      lines.push(`      ${report.from}: ${answerOf(d.from)}`);
      lines.push(`      ${report.to}: ${answerOf(d.to)}`);
      if (d.alsoDiverged.length > 0) lines.push(`      also diverged: ${d.alsoDiverged.join(", ")}`);
    }
    for (const e of p.staleAccepted) {
      lines.push(
        `    stale accepted difference (it no longer occurs; remove it): ${e.test}${e.call ? ` ${e.call}` : ""}`,
      );
    }
  }
  lines.push(
    report.ok ? "drift: none unexplained" : "drift: FAILED (unexplained, stale or missing; see above)",
  );
  return lines;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

function markdownOf(report: DriftReport): string {
  const out = [`# Drift: ${report.from} → ${report.to}`, ""];
  out.push(
    report.ok ? "No unexplained difference." : "**Unexplained differences, or stale or missing traces.**",
    "",
  );
  out.push(
    "| package | status | compared | drifted | accepted | only in " +
      report.from +
      " | only in " +
      report.to +
      " |",
  );
  out.push("| --- | --- | --- | --- | --- | --- | --- |");
  for (const p of report.packages) {
    out.push(
      `| ${p.package} | ${p.status} | ${p.compared} | ${p.drifted.length} | ${p.accepted.length} | ${p.onlyFrom.length} | ${p.onlyTo.length} |`,
    );
  }
  for (const p of report.packages) {
    out.push("", `## ${p.package}`, "");
    if (p.problem) out.push(p.problem, "");
    if (p.drifted.length > 0) {
      out.push(
        `| test | dependency | call | request | ${report.from} | ${report.to} |`,
        "| --- | --- | --- | --- | --- | --- |",
      );
      for (const d of p.drifted) {
        out.push(
          `| ${cell(d.test)} | ${cell(`${d.channel} (${d.kind})`)} | ${cell(`#${d.index + 1} ${d.from?.call ?? d.to?.call}`)} | \`${cell(short((d.from ?? d.to)?.request, 200))}\` | \`${cell(answerOf(d.from))}\` | \`${cell(answerOf(d.to))}\` |`,
        );
      }
      out.push("");
    }
    if (p.accepted.length > 0) {
      out.push("Accepted differences:", "");
      for (const a of p.accepted) out.push(`- ${a.divergence.test}, ${a.divergence.channel}: ${a.reason}`);
      out.push("");
    }
    if (p.staleAccepted.length > 0) {
      out.push("Stale accepted differences (no longer occur; remove them):", "");
      for (const e of p.staleAccepted) out.push(`- ${e.test}${e.call ? ` (${e.call})` : ""}: ${e.reason}`);
      out.push("");
    }
    if (p.notCompared.length > 0) {
      out.push("Not compared:", "");
      for (const n of p.notCompared) out.push(`- ${n.test}: ${n.reason}`);
      out.push("");
    }
    const only = [
      ...p.onlyFrom.map((t) => `- ${t}: only in ${report.from}`),
      ...p.onlyTo.map((t) => `- ${t}: only in ${report.to}`),
    ];
    if (only.length > 0)
      out.push("Traced on one side only (not run in the other mode, or not recorded):", "", ...only, "");
    if (p.unobserved.length > 0) {
      out.push(
        "Parts seen on one side only (a service's own dependencies run in-process in one mode and in its process in the other):",
        "",
        ...p.unobserved.map((u) => `- ${u.channel}: only in ${u.side === "from" ? report.from : report.to}`),
        "",
      );
    }
  }
  return `${out.join("\n")}\n`;
}

/**
 * Refreshes every selected package's recording from its cluster traces. Refuses a package whose cluster
 * run had a failing test: a recording is what passing suites saw.
 */
export function updateRecordings(options: Omit<DriftOptions, "from" | "to">): boolean {
  let ok = true;
  for (const pkg of selectPackages(options.root, options.filter)) {
    const folder = join(options.artifactsDir, pkg.service);
    const traces = readModeTraces(folder, "cluster")?.traces;
    if (!traces) {
      options.log(
        `  ${pkg.name}: no cluster traces in ${folder}; run pnpm test:integration --mode=cluster first`,
      );
      ok = false;
      continue;
    }
    const failed = traces.filter((t) => t.state !== "pass" && t.state !== "skip");
    if (failed.length > 0) {
      options.log(
        `  ${pkg.name}: not recorded: ${failed.length} tests did not pass in the cluster run (${failed[0]?.test}, ...)`,
      );
      ok = false;
      continue;
    }
    // A recording serves the offline comparison of the repo lane: tests that run only in cluster mode
    // (differential runs, fault injection) stay out of it when the repo lane's traces say which they are.
    const repo = readModeTraces(folder, "repo")?.traces;
    const inRepo = repo ? new Set(repo.map((t) => t.test)) : undefined;
    const recorded = traces.filter((t) => t.state === "pass" && (!inRepo || inRepo.has(t.test)));
    const target = recordingFile(options.root, pkg);
    const before = readRecording(target);
    writeRecording(target, {
      recordedFrom: "cluster",
      fingerprint: fingerprintOf(options.root, pkg.path),
      tests: recorded,
    });
    options.log(
      `  ${pkg.name}: recorded ${recorded.length} tests to ${target}${before ? ` (was ${before.tests.length})` : ""}` +
        (recorded.length < traces.length
          ? `; ${traces.length - recorded.length} cluster-only tests left out`
          : ""),
    );
  }
  return ok;
}
