import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { TestSupportError } from "../errors.js";
import type { Divergence } from "./compare.js";

/** A known, accepted difference between two modes, declared next to a package's suites. */
export interface AcceptedDifference {
  /** The test's name as in the traces; `*` matches any run of characters. */
  test: string;
  /** Only a divergence on this channel (dependency), when given. */
  channel?: string;
  /** Only a divergence at this call, when given. */
  call?: string;
  /** Only when comparing these two sources (recording counts as cluster), when given. */
  between?: [string, string];
  /**
   * The difference may or may not show in a given comparison (an unspecified order, a clock, a cursor on a
   * shared server): it is never reported stale for not occurring.
   */
  sometimes?: boolean;
  /** Why the difference is accepted: required. */
  reason: string;
}

/** The file a package declares its accepted differences in. */
export const acceptedFile = (root: string, path: string) =>
  join(root, path, "tests", "integration", "drift-accepted.yaml");

const SOURCES = new Set(["repo", "local", "cluster", "recording"]);

/** Reads and checks a package's accepted differences; none when the file does not exist. */
export function readAccepted(file: string): AcceptedDifference[] {
  if (!existsSync(file)) return [];
  const bad = (what: string) =>
    new TestSupportError(
      "INVALID_OPTIONS",
      `${file}: ${what}. Each entry is { test, reason } with optional channel, call, sometimes: true and between: [<mode>, <mode>].`,
    );
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw bad(`not YAML (${(error as Error).message.split("\n")[0]})`);
  }
  if (parsed === null || parsed === undefined) return [];
  if (!Array.isArray(parsed)) throw bad("the file must be a list of entries");
  return parsed.map((entry: Record<string, unknown>, i) => {
    const at = `entry ${i + 1}`;
    if (typeof entry?.test !== "string" || entry.test === "") throw bad(`${at} has no test`);
    if (typeof entry.reason !== "string" || entry.reason.trim().length < 10) {
      throw bad(`${at} (${entry.test}) has no reason; say why the difference is harmless`);
    }
    for (const key of ["channel", "call"] as const) {
      if (entry[key] !== undefined && typeof entry[key] !== "string")
        throw bad(`${at}: ${key} must be a string`);
    }
    if (entry.sometimes !== undefined && typeof entry.sometimes !== "boolean")
      throw bad(`${at}: sometimes must be true or false`);
    const between = entry.between;
    if (
      between !== undefined &&
      !(Array.isArray(between) && between.length === 2 && between.every((m) => SOURCES.has(m as string)))
    ) {
      throw bad(`${at}: between must be two of ${[...SOURCES].join(", ")}`);
    }
    const unknown = Object.keys(entry).filter(
      (k) => !["test", "channel", "call", "between", "sometimes", "reason"].includes(k),
    );
    if (unknown.length > 0) throw bad(`${at} has unknown keys: ${unknown.join(", ")}`);
    return entry as unknown as AcceptedDifference;
  });
}

const asMode = (source: string) => (source === "recording" ? "cluster" : source);

/** Whether an entry applies to a comparison of `from` against `to`. */
export function appliesTo(entry: AcceptedDifference, from: string, to: string): boolean {
  // Two real servers differ too where the answer is unspecified (order, clocks, cursors): an entry without
  // `between` applies to every pair, a run against the recording included.
  if (!entry.between) return true;
  const pair = entry.between.map(asMode).sort().join(" ");
  return pair === [asMode(from), asMode(to)].sort().join(" ");
}

function globMatch(pattern: string, text: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return regex.test(text);
}

/** Whether an entry explains a divergence. */
export function explains(entry: AcceptedDifference, divergence: Divergence): boolean {
  if (!globMatch(entry.test, divergence.test)) return false;
  if (entry.channel !== undefined && entry.channel !== divergence.channel) return false;
  const call = divergence.from?.call ?? divergence.to?.call;
  return entry.call === undefined || entry.call === call;
}

/** Whether an entry names a test that was compared (an entry for a test that did not run is not stale). */
export function namesAny(entry: AcceptedDifference, tests: Iterable<string>): boolean {
  for (const test of tests) if (globMatch(entry.test, test)) return true;
  return false;
}
