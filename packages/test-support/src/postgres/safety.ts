import { TestSupportError } from "../errors.js";

/** A database looks like a test database when its name contains "test" (any case). */
export function looksLikeTestDatabase(name: string): boolean {
  return /test/i.test(name);
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
    `refusing to run against database "${options.database}" at ${options.target}: reset truncates tables and close drops a schema, ` +
      `and the name does not contain "test", so it may not be a test database. Point ${options.urlEnv} at a test database ` +
      "(e.g. .../app_test), or pass postgres({ ..., allowNonTestDatabase: true }) if this database is disposable.",
  );
}
