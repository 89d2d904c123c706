import { expect, it } from "vitest";
import { integrationConfig } from "./config.js";

it("files JUnit under artifacts/<service>/junit-<mode>.xml at the workspace root, and adds a unit project on request", () => {
  const config = integrationConfig({
    service: "billing",
    root: new URL("../../", import.meta.url),
    unit: ["src/**/*.test.ts"],
  });
  const test = config.test ?? {};
  const junit = (test.outputFile as { junit: string }).junit;
  expect(junit).toMatch(/\/artifacts\/billing\/junit-(repo|local|cluster)\.xml$/);
  expect(junit).not.toContain("/packages/");
  const [, junitReporter] = (
    test.reporters as [string, [string, { suiteName: string; classnameTemplate: string }]]
  )[1];
  expect(junitReporter.suiteName).toMatch(/^billing integration-(repo|local|cluster)$/);
  expect(junitReporter.classnameTemplate).toMatch(/^integration-(repo|local|cluster):\{filename\}$/);
  expect((test.projects as { test: { name: string } }[]).map((p) => p.test.name)).toEqual([
    "unit",
    "integration",
  ]);
});
