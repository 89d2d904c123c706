import { expect, it } from "vitest";
import type { DependencyHandle } from "./dependency.js";
import { HandleGroup } from "./handle-group.js";

const part = (name: string, log: string[], failClose = false): Promise<DependencyHandle<string>> =>
  Promise.resolve({
    client: name,
    implementation: "fake",
    target: "in-process",
    reset: async () => void log.push(`reset ${name}`),
    close: async () => {
      log.push(`close ${name}`);
      if (failClose) throw new Error("stuck");
    },
  });

it("resets every part and closes them last opened first, even when one fails to close", async () => {
  const log: string[] = [];
  const group = new HandleGroup();
  await group.open(part("a", log, true));
  await group.open(part("b", log));
  await group.reset();
  await group.close();
  expect(log).toEqual(["reset a", "reset b", "close b", "close a"]);
});

it("closes what a failed set-up opened and rethrows its error", async () => {
  const log: string[] = [];
  const group = new HandleGroup();
  const failure = await group
    .build(async (g) => {
      await g.open(part("a", log));
      throw new Error("part b failed");
    })
    .catch((e: unknown) => e as Error);
  expect(failure?.message).toBe("part b failed");
  expect(log).toEqual(["close a"]);
});
