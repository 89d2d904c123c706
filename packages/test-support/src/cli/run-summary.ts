// The per-run summary of one service: artifacts/<service>/summary.json, one entry per mode, written by the
// runner from the run's JUnit files and the factory's events. It is what CI uploads as the run's metrics.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { IntegrationMode } from "../mode.js";
import type { TelemetryEvent } from "../telemetry.js";
import { countJUnit, type JUnitCounts, junitSeconds, notRunInMode } from "./junit-summary.js";

/** Nearest-rank percentiles of a set of durations, in milliseconds. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What one dependency of a service was in a run, and what its resets and closes cost. */
export interface DependencySummary {
  kind: string;
  implementation: string;
  target: string;
  /** False for an in-process double; true for anything reached over a socket (a local engine or a live service). */
  real: boolean;
  /** How many environments opened it (one per test file that used it). */
  environments: number;
  reset: Percentiles | null;
  close: Percentiles | null;
  /** Failed resets and closes, with their errors. */
  errors: string[];
}

/** One service's run in one mode. */
export interface ModeSummary {
  mode: IntegrationMode;
  finishedAt: string;
  /** turbo replayed this result from its cache: the tests did not run again (pass --force to run them). */
  replayed: boolean;
  tests: JUnitCounts;
  seconds: number;
  /** Suites that need another mode, by name. */
  notRun: string[];
  dependencies: Record<string, DependencySummary>;
  /** Every reset of every dependency in the run. */
  reset: Percentiles | null;
  /** Environments that failed to set up, with their errors. */
  failedEnvironments: string[];
  /** The shards (`1/2`, `2/2`) whose results this summary adds up, when the run was sharded. */
  shards?: string[];
}

/** artifacts/<service>/summary.json: the latest run of the service in each mode. */
export interface ServiceSummary {
  service: string;
  modes: Partial<Record<IntegrationMode, ModeSummary>>;
}

/** Nearest-rank percentiles, rounded to microseconds; null for no samples. */
export function percentiles(samples: readonly number[]): Percentiles | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    count: sorted.length,
    p50: round(rank(50)),
    p90: round(rank(90)),
    p99: round(rank(99)),
    max: round(sorted[sorted.length - 1] as number),
  };
}

/** The events of a JSON-lines file; lines that are not events are skipped. */
export function parseEvents(jsonl: string): TelemetryEvent[] {
  const events: TelemetryEvent[] = [];
  for (const line of jsonl.split("\n")) {
    if (!line.trim()) continue;
    try {
      const event = JSON.parse(line) as TelemetryEvent;
      if (typeof event?.event === "string") events.push(event);
    } catch {
      // a line cut short by a crashed process carries nothing to count
    }
  }
  return events;
}

/** One service's summary of a run in `mode`, from its JUnit documents and its events. */
export function summarizeRun(input: {
  mode: IntegrationMode;
  junit: readonly string[];
  events: readonly TelemetryEvent[];
  replayed: boolean;
  finishedAt: string;
  shards?: readonly string[];
}): ModeSummary {
  const tests: JUnitCounts = { passed: 0, failed: 0, skipped: 0 };
  let seconds = 0;
  const notRun = new Set<string>();
  for (const xml of input.junit) {
    const counts = countJUnit(xml);
    tests.passed += counts.passed;
    tests.failed += counts.failed;
    tests.skipped += counts.skipped;
    seconds += junitSeconds(xml);
    for (const name of notRunInMode(xml)) notRun.add(name.slice(0, name.indexOf("]") + 1) || name);
  }
  const events = input.events.filter((e) => e.mode === input.mode);
  const dependencies: Record<string, DependencySummary> = {};
  const resets = new Map<string, number[]>();
  const closes = new Map<string, number[]>();
  const errors = new Map<string, string[]>();
  const failedEnvironments: string[] = [];
  for (const event of events) {
    if (event.event === "environment.failed") {
      failedEnvironments.push(event.error ?? "unknown error");
      continue;
    }
    const name = event.dependency;
    if (!name) continue;
    if (event.event === "dependency.selected") {
      const known = dependencies[name];
      const target = event.target ?? "";
      dependencies[name] = {
        kind: event.kind ?? known?.kind ?? "",
        implementation: event.implementation ?? known?.implementation ?? "",
        // Targets carry per-environment names (schemas, stores, key prefixes); the first one stands for all.
        target: known?.target ?? target,
        real: input.mode === "cluster" || target !== "in-process",
        environments: (known?.environments ?? 0) + 1,
        reset: null,
        close: null,
        errors: [],
      };
    } else if (typeof event.durationMs === "number") {
      const into = event.event === "dependency.reset" ? resets : closes;
      into.set(name, [...(into.get(name) ?? []), event.durationMs]);
    }
    if (event.error && event.event !== "dependency.selected")
      errors.set(name, [...(errors.get(name) ?? []), `${event.event}: ${event.error}`]);
  }
  for (const [name, summary] of Object.entries(dependencies)) {
    summary.reset = percentiles(resets.get(name) ?? []);
    summary.close = percentiles(closes.get(name) ?? []);
    summary.errors = errors.get(name) ?? [];
  }
  return {
    mode: input.mode,
    finishedAt: input.finishedAt,
    replayed: input.replayed,
    tests,
    seconds: Math.round(seconds * 1000) / 1000,
    notRun: [...notRun],
    dependencies,
    reset: percentiles([...resets.values()].flat()),
    failedEnvironments,
    ...(input.shards && input.shards.length > 0 ? { shards: [...input.shards] } : {}),
  };
}

/** Writes `run` into the service's summary.json, keeping the latest run of every other mode. */
export function writeServiceSummary(file: string, service: string, run: ModeSummary): ServiceSummary {
  let summary: ServiceSummary = { service, modes: {} };
  if (existsSync(file)) {
    try {
      const previous = JSON.parse(readFileSync(file, "utf8")) as ServiceSummary;
      if (previous?.service === service && typeof previous.modes === "object") summary = previous;
    } catch {
      // a damaged summary is replaced
    }
  }
  summary.modes[run.mode] = run;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
