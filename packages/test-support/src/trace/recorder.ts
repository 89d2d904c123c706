import { AsyncLocalStorage } from "node:async_hooks";
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { IntegrationMode } from "../mode.js";
import { Normalizer } from "./normalize.js";

/** One call a test's code made to a dependency, normalized. */
export interface TraceCall {
  /** The dependency: its name in the environment, then ">kind" for parts built inside it (a service's database). */
  channel: string;
  /** The dependency's kind, e.g. "postgres" or "grpc:platform". */
  kind: string;
  /** What was called: a statement kind, a command, an endpoint, a method. */
  call: string;
  request?: unknown;
  /** The normalized answer, or `{ error, code, ... }`. */
  outcome: unknown;
  /** Calls of one channel that were in flight together share a group; the comparison may reorder within one. */
  group: number;
}

/** One test's trace, as one line of artifacts/<service>/trace-<mode>.jsonl. */
export interface TestTrace {
  /** The test's file (relative to its package) and its names, e.g. "tests/integration/a.test.ts > suite > test". */
  test: string;
  mode: IntegrationMode;
  /** pass, fail or skip, as the test runner saw it. */
  state: string;
  /** Set when another test of the same worker ran at the same time, so calls cannot be told apart. */
  overlapped?: true;
  calls: TraceCall[];
}

/** A call as recorded: normalized when the test ends, in the order the calls started. */
interface RawCall {
  channel: string;
  kind: string;
  call: string;
  request: unknown;
  outcome: { value: unknown } | { error: unknown } | undefined;
  group: number;
}

interface ActiveTest {
  test: string;
  mode: IntegrationMode;
  calls: RawCall[];
  overlapped: boolean;
  channels: Map<string, { inFlight: number; group: number }>;
}

interface RecorderState {
  active: ActiveTest | undefined;
}

/** Process-wide, on globalThis, so the built and the source copy of this module share one recorder. */
const STATE_KEY = Symbol.for("@org/test-support/trace-recorder");
const globals = globalThis as unknown as Record<symbol, RecorderState | undefined>;
const state: RecorderState = globals[STATE_KEY] ?? { active: undefined };
globals[STATE_KEY] = state;

/** Work the factory does for itself (reset, set-up) is not the test's: calls inside it are not recorded. */
const quiet = new AsyncLocalStorage<boolean>();

/** Runs `action` without recording the calls it makes (the factory's own resets). */
export function untraced<T>(action: () => T): T {
  return quiet.run(true, action);
}

/** Starts recording one test's calls. A second test starting before the first ends marks both overlapped. */
export function beginTestTrace(test: string, mode: IntegrationMode): void {
  const overlapped = state.active !== undefined;
  if (state.active) state.active.overlapped = true;
  state.active = { test, mode, calls: [], overlapped, channels: new Map() };
}

/** Stops recording and appends the test's trace to `file` as one JSON line. */
export function endTestTrace(test: string, testState: string, file: string): TestTrace | undefined {
  const active = state.active;
  if (!active || active.test !== test) return undefined;
  state.active = undefined;
  const trace: TestTrace = {
    test: active.test,
    mode: active.mode,
    state: testState,
    ...(active.overlapped ? { overlapped: true as const } : {}),
    calls: normalizeCalls(active.calls),
  };
  mkdirSync(dirname(file), { recursive: true });
  // One write per test: lines from parallel workers never interleave.
  appendFileSync(file, `${JSON.stringify(trace)}\n`);
  return trace;
}

/**
 * Normalizes a test's calls in the order they started: placeholders are numbered by first appearance in
 * that order within each channel, so two modes whose calls finished in another order get the same numbers.
 */
function normalizeCalls(calls: RawCall[]): TraceCall[] {
  // One numbering per channel: a part only one mode sees (a service's own database) shifts no other's.
  const normalizers = new Map<string, Normalizer>();
  return calls.map((raw) => {
    let normalizer = normalizers.get(raw.channel);
    if (!normalizer) {
      normalizer = new Normalizer();
      normalizers.set(raw.channel, normalizer);
    }
    return normalizeCall(raw, normalizer);
  });
}

function normalizeCall(raw: RawCall, normalizer: Normalizer): TraceCall {
  return {
    channel: raw.channel,
    kind: raw.kind,
    call: raw.call,
    ...(raw.request === undefined ? {} : { request: normalizer.value(raw.request) }),
    outcome:
      raw.outcome === undefined
        ? "<pending when the test ended>"
        : "error" in raw.outcome
          ? normalizer.error(raw.outcome.error)
          : normalizer.value(raw.outcome.value),
    group: raw.group,
  };
}

/** Whether a call made now would be recorded (cheap; tracers check it before doing any work). */
export function recording(): boolean {
  return state.active !== undefined && quiet.getStore() !== true;
}

/** A call in progress: `done` records its outcome, normalized with the test's placeholders. */
export interface PendingCall {
  done(outcome: unknown): void;
  failed(error: unknown): void;
}

const NOOP: PendingCall = { done() {}, failed() {} };

/**
 * Starts recording one call on `channel` (a no-op when nothing records). Request and outcome are kept
 * as given and normalized when the test ends; the call keeps its place in the order the calls started.
 */
export function startCall(channel: string, kind: string, call: string, request?: unknown): PendingCall {
  const active = state.active;
  if (!active || quiet.getStore() === true) return NOOP;
  let flight = active.channels.get(channel);
  if (!flight) {
    flight = { inFlight: 0, group: 0 };
    active.channels.set(channel, flight);
  }
  // A call that starts while another of its channel is in flight joins that one's group.
  if (flight.inFlight === 0) flight.group++;
  flight.inFlight++;
  const entry: RawCall = { channel, kind, call, request, outcome: undefined, group: flight.group };
  active.calls.push(entry);
  const f = flight;
  let settled = false;
  const settle = (outcome: RawCall["outcome"]) => {
    if (settled) return;
    settled = true;
    f.inFlight--;
    entry.outcome = outcome;
  };
  return {
    done: (value) => settle({ value }),
    failed: (error) => settle({ error }),
  };
}
