// Runs fidelity cases (cases.ts) through a client and turns every reply into a comparable outcome.
import type { Redis } from "ioredis";
import { isTestSupportError } from "../../src/errors.js";

/** A command line: name first, e.g. ["SET", "k", "v", "EX", 10]. */
export type Cmd = ReadonlyArray<string | number>;

/** How a reply is made comparable when Redis does not fix it exactly (orders, clocks, random picks). */
export type Normalize =
  | "unordered" // an array whose order Redis does not define: sorted
  | "pairs-unordered" // a flat [field, value, ...] array whose pair order Redis does not define
  | "seconds" // a TTL in ms, compared in whole seconds
  | "stream-id" // an id Redis derives from the clock: checked for its shape
  | "shape"; // only the type of each element (TIME, random picks)

/** A command, on the second connection when `on` is "b", its reply normalized as `normalize` says. */
export interface CommandStep {
  cmd: Cmd;
  on?: "b";
  normalize?: Normalize;
}

/** One step of a case. A plain array is a command on the first connection. */
export type Step =
  | Cmd
  | CommandStep
  | { pipeline: Cmd[] }
  | { multi: Cmd[] }
  | { start: Cmd; on: "b"; as: string }
  | { wait: string; normalize?: Normalize }
  | { sleep: number }
  | { subscribe: string[]; on: "b"; patterns?: boolean }
  | { messages: "b" }
  | { scanAll: Cmd };

export interface FidelityCase {
  /** "group/what-it-checks", unique. */
  id: string;
  steps: Step[];
}

/** The comparable result of one step. */
export type Outcome = unknown;

/** A refusal seen while running, for the test to check its message. */
export interface SeenRefusal {
  step: number;
  code: string;
  message: string;
  command: string;
}

function errorOutcome(error: unknown, refusals: SeenRefusal[], step: number, command: string): Outcome {
  if (isTestSupportError(error)) {
    refusals.push({ step, code: error.code, message: error.message, command });
    return { refused: error.code };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error: message.split(" ")[0] };
}

function sortKey(value: unknown): string {
  return JSON.stringify(value);
}

function normalize(value: unknown, how: Normalize | undefined): unknown {
  if (how === undefined) return value;
  if (how === "unordered" && Array.isArray(value))
    return [...value].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  if (how === "pairs-unordered" && Array.isArray(value)) {
    const pairs: unknown[][] = [];
    for (let i = 0; i < value.length; i += 2) pairs.push([value[i], value[i + 1]]);
    return pairs.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  }
  if (how === "seconds" && typeof value === "number") return value < 0 ? value : Math.round(value / 1000);
  if (how === "stream-id" && typeof value === "string") return /^\d+-\d+$/.test(value) ? "<ms>-<seq>" : value;
  if (how === "shape") {
    const shape = (v: unknown): unknown => (Array.isArray(v) ? v.map(shape) : v === null ? "null" : typeof v);
    return shape(value);
  }
  return value;
}

/** A command step in its long form: a plain array is a command on the first connection, as is. */
export function commandStep(step: Cmd | CommandStep): CommandStep {
  return Array.isArray(step) ? { cmd: step as Cmd } : (step as CommandStep);
}

function name(cmd: Cmd): string {
  return String(cmd[0]).toUpperCase();
}

/** ioredis's call with the name upper-cased, so no reply transformer (HGETALL's object) applies. */
function send(client: Redis, cmd: Cmd): Promise<unknown> {
  return client.call(name(cmd), ...cmd.slice(1).map(String));
}

function pipelineOutcome(
  results: [Error | null, unknown][] | null,
  refusals: SeenRefusal[],
  step: number,
): Outcome {
  if (results === null) return null;
  return results.map(([error, value]) => (error ? errorOutcome(error, refusals, step, "") : value));
}

/**
 * Runs one case on `client` (and a second connection made with duplicate() for steps "on b"); returns an
 * outcome per step and the refusals seen.
 */
export async function runCase(
  fidelityCase: FidelityCase,
  client: Redis,
): Promise<{ outcomes: Outcome[]; refusals: SeenRefusal[] }> {
  const outcomes: Outcome[] = [];
  const refusals: SeenRefusal[] = [];
  let second: Redis | undefined;
  const b = () => {
    second ??= client.duplicate();
    return second;
  };
  const started = new Map<string, Promise<Outcome>>();
  const messages: unknown[][] = [];
  try {
    for (const [index, step] of fidelityCase.steps.entries()) {
      if (Array.isArray(step) || "cmd" in step) {
        const { cmd, on, normalize: how } = commandStep(step);
        try {
          outcomes.push(normalize(await send(on === "b" ? b() : client, cmd), how));
        } catch (error) {
          outcomes.push(errorOutcome(error, refusals, index, name(cmd)));
        }
      } else if ("pipeline" in step || "multi" in step) {
        const commands = "pipeline" in step ? step.pipeline : step.multi;
        const batch = "pipeline" in step ? client.pipeline() : client.multi();
        for (const cmd of commands) batch.call(name(cmd), ...cmd.slice(1).map(String));
        try {
          outcomes.push(pipelineOutcome(await batch.exec(), refusals, index));
        } catch (error) {
          outcomes.push(errorOutcome(error, refusals, index, "MULTI"));
        }
      } else if ("start" in step) {
        const promise = send(b(), step.start).then(
          (value) => value as Outcome,
          (error: unknown) => errorOutcome(error, refusals, index, name(step.start)),
        );
        started.set(step.as, promise);
        outcomes.push("started");
      } else if ("wait" in step) {
        outcomes.push(normalize(await started.get(step.wait), step.normalize));
      } else if ("sleep" in step) {
        await new Promise((resolve) => setTimeout(resolve, step.sleep));
        outcomes.push("slept");
      } else if ("subscribe" in step) {
        const connection = b();
        connection.on("message", (channel: string, message: string) => messages.push([channel, message]));
        connection.on("pmessage", (pattern: string, channel: string, message: string) =>
          messages.push([pattern, channel, message]),
        );
        try {
          outcomes.push(
            await (step.patterns
              ? connection.psubscribe(...step.subscribe)
              : connection.subscribe(...step.subscribe)),
          );
        } catch (error) {
          outcomes.push(errorOutcome(error, refusals, index, step.patterns ? "PSUBSCRIBE" : "SUBSCRIBE"));
        }
      } else if ("messages" in step) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        outcomes.push(messages.splice(0));
      } else if ("scanAll" in step) {
        // A full iteration: the union of every page is what Redis guarantees, not the pages themselves.
        const cmd = step.scanAll;
        const keyed = name(cmd) !== "SCAN";
        const found = new Set<string>();
        let cursor = "0";
        try {
          do {
            const args = keyed ? [cmd[1], cursor, ...cmd.slice(2)] : [cursor, ...cmd.slice(1)];
            const [next, page] = (await send(client, [cmd[0] as string, ...(args as string[])])) as [
              string,
              string[],
            ];
            cursor = next;
            if (keyed && name(cmd) !== "SSCAN") {
              for (let i = 0; i < page.length; i += 2) found.add(JSON.stringify([page[i], page[i + 1]]));
            } else for (const item of page) found.add(JSON.stringify(item));
          } while (cursor !== "0");
          outcomes.push([...found].sort().map((item) => JSON.parse(item)));
        } catch (error) {
          outcomes.push(errorOutcome(error, refusals, index, name(cmd)));
        }
      }
    }
    for (const [, promise] of started) await promise;
  } finally {
    second?.disconnect();
  }
  return { outcomes, refusals };
}
