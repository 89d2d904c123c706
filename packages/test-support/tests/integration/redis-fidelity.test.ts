// The Redis fidelity corpus, in every mode, against the real server's recorded outcomes.
// repo: each case answers exactly as recorded, or the first step that differs is a loud refusal
//   (UNSUPPORTED_BY_DOUBLE) naming its command and the modes that can run it. Anything else is a silent
//   difference and fails.
// local, cluster: each case answers exactly as recorded, so a stale recording (or a server that
//   answers differently) fails.
import { afterAll, describe, expect } from "vitest";
import { redis } from "../../src/index.js";
import { integrationTest } from "../../src/vitest/index.js";
import { FIDELITY_CASES } from "../redis-fidelity/cases.js";
import recording from "../redis-fidelity/recording.json" with { type: "json" };
import { type Cmd, runCase, type Step } from "../redis-fidelity/runner.js";

const test = integrationTest({
  service: "test-support",
  dependencies: { cache: redis({ urlEnv: "REDIS_URL" }) },
});
const recorded = recording.cases as Record<string, unknown[]>;
const tally = { exact: 0, refused: 0 };

/** The command names a step sends, for checking that a refusal names one of them. */
function commandsOf(step: Step): string[] {
  const name = (cmd: Cmd) => String(cmd[0]).toUpperCase();
  if (Array.isArray(step)) return [name(step as Cmd)];
  if ("cmd" in step) return [name(step.cmd)];
  if ("pipeline" in step) return step.pipeline.map(name);
  if ("multi" in step) return step.multi.map(name);
  if ("start" in step) return [name(step.start)];
  if ("scanAll" in step) return [name(step.scanAll)];
  if ("subscribe" in step) return [step.patterns ? "PSUBSCRIBE" : "SUBSCRIBE"];
  return [];
}

describe("redis fidelity corpus", () => {
  afterAll(() => {
    console.log(
      `redis fidelity: ${FIDELITY_CASES.length} cases, ${tally.exact} answered exactly as Redis ${recording.server}, ` +
        `${tally.refused} refused loudly, 0 silent differences`,
    );
  });

  for (const fidelityCase of FIDELITY_CASES) {
    test(fidelityCase.id, async ({ clients, environment }) => {
      const expected = recorded[fidelityCase.id];
      expect(
        expected,
        `no recording for ${fidelityCase.id}: run pnpm --filter @org/test-support redis:record`,
      ).toBeDefined();
      const { outcomes, refusals } = await runCase(fidelityCase, clients.cache);
      if (environment.mode !== "repo") {
        expect(outcomes, "the recording is stale or the server answers differently; re-record it").toEqual(
          expected,
        );
        tally.exact++;
        return;
      }
      const first = outcomes.findIndex(
        (outcome, i) => JSON.stringify(outcome) !== JSON.stringify(expected?.[i]),
      );
      if (first < 0) {
        tally.exact++;
        return;
      }
      const refusal = refusals.find((r) => r.step === first);
      const silent = `silent difference at step ${first} of ${fidelityCase.id}: the double answered ${JSON.stringify(outcomes[first])}, Redis ${JSON.stringify(expected?.[first])}`;
      expect(refusal, silent).toBeDefined();
      expect(refusal?.code, silent).toBe("UNSUPPORTED_BY_DOUBLE");
      expect(refusal?.message).toContain("--mode=local");
      expect(refusal?.message).toContain("--mode=cluster");
      const named = commandsOf(fidelityCase.steps[first] as Step).some((command) =>
        refusal?.message.toUpperCase().includes(command),
      );
      expect(named, `the refusal does not name the command: ${refusal?.message}`).toBe(true);
      tally.refused++;
    });
  }
});
