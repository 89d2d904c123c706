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

describe("the mode contract in the codebase", () => {
  it("has no code other than mode.ts that reads INTEGRATION_MODE", async () => {
    const { readdirSync, readFileSync, statSync } = await import("node:fs");
    const { join } = await import("node:path");
    const root = new URL("../../../", import.meta.url).pathname;
    const reads = /\b(env|process\.env)\s*(\.\s*INTEGRATION_MODE\b|\[\s*["'`]INTEGRATION_MODE["'`]\s*\])/;
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (
          /\.(ts|mts|js|mjs)$/.test(name) &&
          !path.endsWith("src/mode.ts") &&
          reads.test(readFileSync(path, "utf8"))
        )
          offenders.push(path.slice(root.length));
      }
    };
    for (const top of ["packages", "services", "scripts"]) {
      try {
        walk(join(root, top));
      } catch {
        // a folder that does not exist yet has nothing to read
      }
    }
    expect(offenders).toEqual([]);
  });
});
