import { test as base, type TestAPI } from "vitest";
import type { ClientsOf, DependencyMap } from "../dependency.js";
import {
  createIntegrationEnvironment,
  type IntegrationEnvironment,
  type IntegrationEnvironmentOptions,
} from "../environment.js";

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
