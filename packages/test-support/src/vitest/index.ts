import { afterAll, test as base, beforeAll, describe, type TestAPI } from "vitest";
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
 * and closed at the end of the file. The environment is built in a file-level `beforeAll`, so its
 * set-up is bounded by the factory's own bounds and the hook timeout, never charged to the first test.
 */
export function integrationTest<D extends DependencyMap>(
  options: IntegrationEnvironmentOptions<D>,
): TestAPI<IntegrationFixtures<D>> {
  let built: IntegrationEnvironment<D> | undefined;
  beforeAll(async () => {
    built = await createIntegrationEnvironment(options);
  });
  afterAll(async () => {
    const environment = built;
    built = undefined;
    await environment?.close();
  });
  return base.extend<IntegrationFixtures<D>>({
    environment: [
      // biome-ignore lint/correctness/noEmptyPattern: Vitest reads the fixture's dependencies from this pattern.
      async ({}, use) => {
        if (!built) {
          throw new Error(
            "[test-support] the integration environment is not built: integrationTest() must be called at the top " +
              "level of the test file, so its beforeAll runs before the tests.",
          );
        }
        await use(built);
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
