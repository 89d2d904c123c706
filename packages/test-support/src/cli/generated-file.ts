// The generate-or-check flow that pnpm docs:matrix and pnpm helm:services share: write a generated file, or
// with --check fail (exit 1) when the committed one differs from what would be written.
import { readFileSync, writeFileSync } from "node:fs";

/** The file's text, or "" when it is missing (a missing file counts as stale). */
export function readGenerated(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * With --check on the command line, exits 1 when `current` is not `expected` (telling to run `command`);
 * otherwise writes `expected` to `file`.
 */
export function writeOrCheck(file: string, current: string, expected: string, command: string): void {
  if (process.argv.includes("--check")) {
    if (current !== expected) {
      console.error(
        `${file} is stale: the services' dependency declarations changed. Run ${command} and commit it.`,
      );
      process.exit(1);
    }
    console.log(`${file} is up to date`);
  } else {
    writeFileSync(file, expected);
    console.log(`wrote ${file}`);
  }
}
