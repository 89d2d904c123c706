import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isTestSupportError } from "./errors.js";
import { INTEGRATION_MODES, integrationModeFrom, parseIntegrationMode } from "./mode.js";

describe("parseIntegrationMode, for any string", () => {
  it("returns the mode for exactly one of the three values, and throws INVALID_MODE naming them for anything else", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom(...INTEGRATION_MODES),
          // Near misses: case, spaces and prefixes of the real values.
          fc
            .tuple(
              fc.constantFrom(...INTEGRATION_MODES),
              fc.constantFrom(" ", "\t", "\n", "s", "-", ""),
              fc.boolean(),
            )
            .map(([mode, extra, upper]) => (upper ? mode.toUpperCase() : mode) + extra),
        ),
        (raw) => {
          if ((INTEGRATION_MODES as readonly string[]).includes(raw)) {
            expect(parseIntegrationMode(raw)).toBe(raw);
            expect(integrationModeFrom({ INTEGRATION_MODE: raw })).toBe(raw);
            return;
          }
          let thrown: unknown;
          try {
            parseIntegrationMode(raw);
          } catch (error) {
            thrown = error;
          }
          expect(isTestSupportError(thrown, "INVALID_MODE")).toBe(true);
          const message = (thrown as Error).message;
          for (const mode of INTEGRATION_MODES) expect(message).toContain(`"${mode}"`);
          expect(message).toContain(JSON.stringify(raw));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads unset as repo, whatever else the environment holds", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== "INTEGRATION_MODE"),
          fc.string(),
        ),
        (env) => {
          expect(integrationModeFrom(env)).toBe("repo");
        },
      ),
    );
  });
});
