import { CURSOR_KEY } from "./normalize.js";
import type { TestTrace, TraceCall } from "./recorder.js";

/** Where a test's calls first differ between two traces. */
export interface Divergence {
  test: string;
  channel: string;
  kind: string;
  /** Position of the call within its channel (after repeated identical calls are folded), from 0. */
  index: number;
  /** The call, as each side made it; undefined when that side made no such call. */
  from: Pick<TraceCall, "call" | "request" | "outcome"> | undefined;
  to: Pick<TraceCall, "call" | "request" | "outcome"> | undefined;
  /** Channels of the same test that diverged too, after this one. */
  alsoDiverged: string[];
}

/** The outcome of comparing two sets of test traces. */
export interface TraceComparison {
  compared: number;
  divergences: Divergence[];
  /** Tests traced on one side only (not run in the other mode, or added since a recording). */
  onlyFrom: string[];
  onlyTo: string[];
  /** Tests not compared, and why (failed, skipped or overlapped on a side). */
  notCompared: { test: string; reason: string }[];
  /** Parts (channels inside a dependency) seen on one side only, e.g. a service's database in repo mode. */
  unobserved: { channel: string; side: "from" | "to" }[];
}

type Step = { key: string; call: TraceCall; group: number };

/**
 * A channel's calls as comparable steps. A run of calls with the same request (a polling loop) is one
 * step with the run's last answer: how many polls it took, and what they saw before the state the test
 * waits for, depend on speed, not on the dependency's behaviour.
 */
function stepsOf(calls: TraceCall[]): Step[] {
  const steps: Step[] = [];
  let lastRequest: string | undefined;
  for (const call of calls) {
    // Cursors compare as present or absent, also in traces recorded before they were masked.
    const mask = (k: string, v: unknown) => (CURSOR_KEY.test(k) && v !== "" && v !== null ? "<cursor>" : v);
    const request = JSON.stringify([call.call, call.request ?? null], mask);
    const key = JSON.stringify([call.call, call.request ?? null, call.outcome], mask);
    const step = { key, call, group: call.group };
    if (request === lastRequest) steps[steps.length - 1] = step;
    else steps.push(step);
    lastRequest = request;
  }
  return steps;
}

/** Positions where a new group of concurrent calls starts, and the end. */
function boundaries(steps: Step[]): Set<number> {
  const set = new Set<number>([0, steps.length]);
  for (let i = 1; i < steps.length; i++) {
    if ((steps[i] as Step).group !== (steps[i - 1] as Step).group) set.add(i);
  }
  return set;
}

const view = (step: Step | undefined) =>
  step ? { call: step.call.call, request: step.call.request, outcome: step.call.outcome } : undefined;

/**
 * Compares one channel: in order, except that calls either side saw in flight together may come in
 * any order (they are compared as a multiset between positions where both sides start a new group).
 * Returns the first divergent position, or undefined when the channel agrees.
 */
export function compareChannel(
  from: TraceCall[],
  to: TraceCall[],
): { index: number; from: Step | undefined; to: Step | undefined } | undefined {
  const a = stepsOf(from);
  const b = stepsOf(to);
  const ba = boundaries(a);
  const bb = boundaries(b);
  const shorter = Math.min(a.length, b.length);
  const longer = Math.max(a.length, b.length);
  const cuts = [0];
  for (let p = 1; p <= shorter; p++) if (ba.has(p) && bb.has(p)) cuts.push(p);
  if (cuts[cuts.length - 1] !== longer) cuts.push(longer);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const start = cuts[i] as number;
    const segA = a.slice(start, cuts[i + 1]);
    const segB = b.slice(start, cuts[i + 1]);
    const leftA = without(segA, segB);
    const leftB = without(segB, segA);
    if (leftA.length === 0 && leftB.length === 0) continue;
    const index = leftA[0] ? segA.indexOf(leftA[0]) : segB.indexOf(leftB[0] as Step);
    return { index: start + index, from: leftA[0], to: leftB[0] };
  }
  return undefined;
}

/** The steps of `these` that `those` does not have (as multisets), in order. */
function without(these: Step[], those: Step[]): Step[] {
  const counts = new Map<string, number>();
  for (const s of those) counts.set(s.key, (counts.get(s.key) ?? 0) + 1);
  return these.filter((s) => {
    const n = counts.get(s.key) ?? 0;
    if (n === 0) return true;
    counts.set(s.key, n - 1);
    return false;
  });
}

/** A top-level channel is a dependency the suite itself holds; "a>b" is a part built inside "a". */
const isPart = (channel: string) => channel.includes(">");

/** Compares one test's traces: every channel both sides saw, and every top-level channel either saw. */
export function compareTest(from: TestTrace, to: TestTrace, unobserved?: TraceComparison["unobserved"]) {
  const byChannel = (trace: TestTrace) => {
    const map = new Map<string, TraceCall[]>();
    for (const call of trace.calls) {
      const list = map.get(call.channel);
      if (list) list.push(call);
      else map.set(call.channel, [call]);
    }
    return map;
  };
  const a = byChannel(from);
  const b = byChannel(to);
  const order = [...new Set([...from.calls, ...to.calls].map((c) => c.channel))];
  const found: Divergence[] = [];
  for (const channel of order) {
    const left = a.get(channel);
    const right = b.get(channel);
    if (isPart(channel) && (!left || !right)) {
      unobserved?.push({ channel, side: left ? "from" : "to" });
      continue;
    }
    const diverged = compareChannel(left ?? [], right ?? []);
    if (!diverged) continue;
    found.push({
      test: from.test,
      channel,
      kind: (left ?? right ?? [])[0]?.kind ?? "",
      index: diverged.index,
      from: view(diverged.from),
      to: view(diverged.to),
      alsoDiverged: [],
    });
  }
  if (found.length === 0) return undefined;
  const [first, ...rest] = found as [Divergence, ...Divergence[]];
  first.alsoDiverged = rest.map((d) => d.channel);
  return first;
}

/** Compares two modes' traces test by test. */
export function compareTraces(from: TestTrace[], to: TestTrace[]): TraceComparison {
  const index = (traces: TestTrace[]) => new Map(traces.map((t) => [t.test, t]));
  const a = index(from);
  const b = index(to);
  const result: TraceComparison = {
    compared: 0,
    divergences: [],
    onlyFrom: [...a.keys()].filter((t) => !b.has(t)).sort(),
    onlyTo: [...b.keys()].filter((t) => !a.has(t)).sort(),
    notCompared: [],
    unobserved: [],
  };
  const unobserved: TraceComparison["unobserved"] = [];
  for (const [test, left] of [...a].sort(([x], [y]) => x.localeCompare(y))) {
    const right = b.get(test);
    if (!right) continue;
    const reason =
      left.state !== "pass" || right.state !== "pass"
        ? `did not pass on both sides (${left.mode}: ${left.state}, ${right.mode}: ${right.state})`
        : left.overlapped || right.overlapped
          ? "ran at the same time as another test, so its calls cannot be told apart"
          : undefined;
    if (reason) {
      result.notCompared.push({ test, reason });
      continue;
    }
    result.compared++;
    const divergence = compareTest(left, right, unobserved);
    if (divergence) result.divergences.push(divergence);
  }
  const seen = new Set<string>();
  for (const u of unobserved) {
    const key = `${u.side} ${u.channel}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.unobserved.push(u);
  }
  return result;
}
