import { test as base, describe, type TestAPI } from "vitest";
import type { ClientsOf, DependencyMap } from "../dependency.js";
import {
  createIntegrationEnvironment,
  type IntegrationEnvironment,
  type IntegrationEnvironmentOptions,
} from "../environment.js";
import { type IntegrationMode, integrationModeFrom } from "../mode.js";

/** What every test of an integrationTest gets. */
export interface IntegrationFixtures<D extends DependencyMap> {
  /** The file's environment: built once per file, closed after its last test. */
  environment: IntegrationEnvironment<D>;
  /** Its typed clients, reset before this test. */
  clients: ClientsOf<D>;
}

/**
 * A Vitest `test` whose tests get typed clients of one environment per file, reset before each test
 * and closed at the end of the file.
 */
export function integrationTest<D extends DependencyMap>(
  options: IntegrationEnvironmentOptions<D>,
): TestAPI<IntegrationFixtures<D>> {
  return base.extend<IntegrationFixtures<D>>({
    environment: [
      // biome-ignore lint/correctness/noEmptyPattern: Vitest reads the fixture's dependencies from this pattern.
      async ({}, use) => {
        const environment = await createIntegrationEnvironment(options);
        try {
          await use(environment);
        } finally {
          await environment.close();
        }
      },
      { scope: "file" },
    ],
    clients: [
      async ({ environment }, use) => {
        await environment.reset();
        await use(environment.clients);
      },
      { auto: true },
    ],
  });
}

/**
 * A describe block that runs only in the given modes. In any other mode it is reported as skipped with
 * "not run in <mode> mode: needs <modes>" in its name, so the summary and the JUnit file say so by name.
 */
export function describeInModes(modes: readonly IntegrationMode[], name: string, body: () => void): void {
  const mode = integrationModeFrom();
  if (modes.includes(mode)) describe(name, body);
  else describe.skip(`${name} [not run in ${mode} mode: needs ${modes.join(" or ")}]`, body);
}
