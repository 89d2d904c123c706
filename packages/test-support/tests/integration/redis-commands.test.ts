// The command table the double and the scoping rely on, checked against the real server (local and
// cluster mode): the committed table is what the server reports, and the keys scoping finds in every
// corpus command are the keys COMMAND GETKEYS names.
import { expect } from "vitest";
import { redis } from "../../src/index.js";
import { arityOk, COMMAND_TABLE, keyPositions, resolveCommand } from "../../src/redis/commands.js";
import { describeInModes, integrationTest } from "../../src/vitest/index.js";
import { readCommandTable } from "../redis/command-source.js";
import { FIDELITY_CASES } from "../redis-fidelity/cases.js";
import type { Cmd, Step } from "../redis-fidelity/runner.js";

const test = integrationTest({
  service: "test-support",
  dependencies: { cache: redis({ urlEnv: "REDIS_URL" }) },
});

function commandsOf(step: Step): Cmd[] {
  if (Array.isArray(step)) return [step as Cmd];
  if ("cmd" in step) return [step.cmd];
  if ("pipeline" in step) return step.pipeline;
  if ("multi" in step) return step.multi;
  if ("start" in step) return [step.start];
  return [];
}

describeInModes(["local", "cluster"], "redis command table", () => {
  test("src/redis/command-table.json is what the server reports (else: pnpm --filter @org/test-support redis:commands)", async ({
    clients,
  }) => {
    const live = await readCommandTable(clients.cache);
    expect(live.server).toBe(COMMAND_TABLE.server);
    expect(live.commands).toEqual(COMMAND_TABLE.commands);
  });

  test("scoping finds the keys COMMAND GETKEYS names, for every command of the fidelity corpus", async ({
    clients,
  }) => {
    const lines = FIDELITY_CASES.flatMap((c) => c.steps.flatMap(commandsOf)).map((cmd) => cmd.map(String));
    let compared = 0;
    for (const argv of lines) {
      const resolved = resolveCommand(argv);
      // The server checks arity before it looks for keys; such lines fail on any server.
      if (!resolved || !arityOk(resolved.entry, argv.length)) continue;
      const ours = keyPositions(resolved, argv).keys.map(({ index }) => argv[index]);
      let theirs: string[];
      try {
        theirs = (await clients.cache.call("COMMAND", "GETKEYS", ...argv)) as string[];
      } catch {
        // No keys, or arguments the server rejects before finding keys.
        theirs = [];
      }
      expect(ours, argv.join(" ")).toEqual(theirs);
      compared++;
    }
    expect(compared).toBeGreaterThan(300);
  });
});
