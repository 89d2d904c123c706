import { TestSupportError } from "../errors.js";

/**
 * A database is a test database when one of the words of its name is "test" or "tests", words being
 * separated by "_", "-" or ".": `test`, `app_test`, `test_orders`, `it-tests-2`. Never a substring:
 * `latest_orders`, `contest_prod` and `testing` are not test databases.
 */
export function looksLikeTestDatabase(name: string): boolean {
  return name
    .toLowerCase()
    .split(/[_.-]/)
    .some((word) => word === "test" || word === "tests");
}

/** Throws unless destructive cleanup may run against `database`. */
export function assertCleanupAllowed(options: {
  database: string;
  target: string;
  urlEnv: string;
  allowNonTestDatabase: boolean;
}): void {
  if (options.allowNonTestDatabase || looksLikeTestDatabase(options.database)) return;
  throw new TestSupportError(
    "UNSAFE_CLEANUP",
    `refusing to run against database "${options.database}" at ${options.target}: reset deletes rows and close drops schemas, ` +
      'and the name is not a test database\'s (one of its words, split at "_", "-" or ".", must be "test" or "tests", ' +
      `e.g. app_test or test_orders). Point ${options.urlEnv} at a test database, or pass ` +
      "postgres({ ..., allowNonTestDatabase: true }) if this database is disposable.",
  );
}
