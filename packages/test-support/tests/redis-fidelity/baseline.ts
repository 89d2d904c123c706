// Runs the fidelity corpus on raw ioredis-mock (what repo mode handed out before the fidelity layer, with
// the environment's keyPrefix) and counts where it answers differently from the recording without failing.
//   pnpm --filter @org/test-support exec tsx tests/redis-fidelity/baseline.ts
import RedisMock from "ioredis-mock";
import { FIDELITY_CASES } from "./cases.js";
import recording from "./recording.json" with { type: "json" };
import { type Cmd, commandStep, type Normalize, type Step } from "./runner.js";

type Mock = InstanceType<typeof RedisMock> & Record<string, (...args: unknown[]) => Promise<unknown>>;
const recorded = recording.cases as Record<string, unknown[]>;

const LOUD = Symbol("loud");
function asOutcome(value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value) && !Buffer.isBuffer(value)) {
    return Object.entries(value as Record<string, unknown>).flat();
  }
  return value;
}
function sortKey(value: unknown): string {
  return JSON.stringify(value);
}
function normalize(value: unknown, how: Normalize | undefined): unknown {
  if (how === "unordered" && Array.isArray(value))
    return [...value].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  if (how === "seconds" && typeof value === "number") return value < 0 ? value : Math.round(value / 1000);
  if (how === "stream-id" && typeof value === "string") return /^\d+-\d+$/.test(value) ? "<ms>-<seq>" : value;
  if (how === "shape") {
    const shape = (v: unknown): unknown => (Array.isArray(v) ? v.map(shape) : v === null ? "null" : typeof v);
    return shape(value);
  }
  return value;
}
async function send(mock: Mock, cmd: Cmd): Promise<unknown> {
  const fn = mock[String(cmd[0]).toLowerCase()];
  if (typeof fn !== "function")
    throw Object.assign(new TypeError(`Unsupported command ${cmd[0]}`), { [LOUD]: true });
  return asOutcome(await fn.apply(mock, cmd.slice(1).map(String)));
}
function errorOutcome(error: unknown): unknown {
  const e = error as Error & { [LOUD]?: boolean };
  if (e?.[LOUD] || (e instanceof TypeError && /Unsupported command/.test(e.message))) return { loud: true };
  return { error: String(e?.message ?? e).split(" ")[0] };
}

let instance = 0;
async function run(steps: Step[]): Promise<unknown[]> {
  const mock = new RedisMock({ host: `baseline-${++instance}`, keyPrefix: "it:baseline:" }) as Mock;
  const other = mock.duplicate() as Mock;
  const messages: unknown[][] = [];
  const started = new Map<string, Promise<unknown>>();
  const out: unknown[] = [];
  for (const step of steps) {
    try {
      if (Array.isArray(step) || "cmd" in step) {
        const { cmd, on, normalize: how } = commandStep(step);
        out.push(normalize(await send(on === "b" ? other : mock, cmd), how));
      } else if ("pipeline" in step || "multi" in step) {
        const commands = ("pipeline" in step ? step.pipeline : step.multi).map((c) => [
          String(c[0]).toLowerCase(),
          ...c.slice(1).map(String),
        ]);
        const batch = "pipeline" in step ? mock.pipeline(commands) : mock.multi(commands);
        const results = (await batch.exec()) as [Error | null, unknown][] | null;
        out.push(results === null ? null : results.map(([e, v]) => (e ? errorOutcome(e) : asOutcome(v))));
      } else if ("start" in step) {
        started.set(step.as, send(other, step.start).catch(errorOutcome));
        out.push("started");
      } else if ("wait" in step) out.push(await started.get(step.wait));
      else if ("sleep" in step) {
        await new Promise((resolve) => setTimeout(resolve, step.sleep));
        out.push("slept");
      } else if ("subscribe" in step) {
        other.on("message", (channel: string, message: string) => messages.push([channel, message]));
        other.on("pmessage", (p: string, channel: string, message: string) =>
          messages.push([p, channel, message]),
        );
        out.push(
          await (step.patterns ? other.psubscribe(...step.subscribe) : other.subscribe(...step.subscribe)),
        );
      } else if ("messages" in step) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        out.push(messages.splice(0));
      } else if ("scanAll" in step) {
        const cmd = step.scanAll;
        const keyed = String(cmd[0]).toUpperCase() !== "SCAN";
        const found = new Set<string>();
        let cursor = "0";
        let rounds = 0;
        do {
          const args = keyed ? [cmd[1], cursor, ...cmd.slice(2)] : [cursor, ...cmd.slice(1)];
          const [next, page] = (await send(mock, [cmd[0] as string, ...(args as string[])])) as [
            string,
            string[],
          ];
          cursor = String(next);
          if (keyed && String(cmd[0]).toUpperCase() !== "SSCAN") {
            for (let i = 0; i < page.length; i += 2) found.add(JSON.stringify([page[i], page[i + 1]]));
          } else for (const item of page) found.add(JSON.stringify(item));
        } while (cursor !== "0" && ++rounds < 1000);
        out.push([...found].sort().map((item) => JSON.parse(item)));
      }
    } catch (error) {
      out.push(errorOutcome(error));
    }
  }
  other.disconnect();
  mock.disconnect();
  return out;
}

let silent = 0;
let loud = 0;
let exact = 0;
const examples: string[] = [];
for (const fidelityCase of FIDELITY_CASES) {
  const expected = recorded[fidelityCase.id] ?? [];
  // Cases the recording itself refuses (destructive commands) say nothing about the double.
  let outcomes: unknown[];
  try {
    outcomes = await Promise.race([
      run(fidelityCase.steps),
      new Promise<unknown[]>((_, reject) => setTimeout(() => reject(new Error("hung")), 3000)),
    ]);
  } catch {
    outcomes = [{ loud: true }];
  }
  const first = outcomes.findIndex((o, i) => JSON.stringify(o) !== JSON.stringify(expected[i]));
  if (first < 0) exact++;
  else if (
    JSON.stringify(outcomes[first]) === JSON.stringify({ loud: true }) ||
    JSON.stringify(expected[first]).includes("refused")
  )
    loud++;
  else {
    silent++;
    examples.push(
      `${fidelityCase.id} step ${first}: mock ${JSON.stringify(outcomes[first])} vs Redis ${JSON.stringify(expected[first])}`,
    );
  }
}
console.log(examples.join("\n"));
console.log(
  `raw ioredis-mock: ${FIDELITY_CASES.length} cases, ${exact} exact, ${loud} failed loudly, ${silent} silent differences`,
);
process.exit(0);
