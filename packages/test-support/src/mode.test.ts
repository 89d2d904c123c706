import { describe, expect, it } from "vitest";
import { isTestSupportError } from "./errors.js";
import { integrationModeFrom, parseIntegrationMode } from "./mode.js";

describe("parseIntegrationMode", () => {
  it("treats unset as repo", () => {
    expect(parseIntegrationMode(undefined)).toBe("repo");
  });

  it.each(["repo", "local", "cluster"] as const)("accepts %s exactly", (mode) => {
    expect(parseIntegrationMode(mode)).toBe(mode);
  });

  it.each(["", "Repo", "CLUSTER", " cluster", "cluster ", "mock", "live", "true", "repo,cluster"])(
    "rejects %j and names it and the allowed values",
    (raw) => {
      let caught: unknown;
      try {
        parseIntegrationMode(raw);
      } catch (error) {
        caught = error;
      }
      expect(isTestSupportError(caught, "INVALID_MODE")).toBe(true);
      const message = (caught as Error).message;
      expect(message).toContain(`INTEGRATION_MODE=${JSON.stringify(raw)}`);
      expect(message).toContain('"repo", "local", "cluster"');
      expect(message.startsWith("[test-support] ")).toBe(true);
    },
  );
});

describe("integrationModeFrom", () => {
  it("reads INTEGRATION_MODE from the given map", () => {
    expect(integrationModeFrom({ INTEGRATION_MODE: "local" })).toBe("local");
    expect(integrationModeFrom({})).toBe("repo");
    expect(() => integrationModeFrom({ INTEGRATION_MODE: "" })).toThrow(/not a mode/);
  });
});
