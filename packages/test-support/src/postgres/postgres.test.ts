import { describe, expect, it } from "vitest";
import { postgres, schemaNameFor } from "./postgres.js";
import { looksLikeTestDatabase } from "./safety.js";

const fixtures = new URL("../../tests/fixtures/", import.meta.url);

describe("postgres() options", () => {
  it("needs a migrations folder and an upper-case urlEnv", () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input.
    expect(() => postgres({ urlEnv: "DB_URL" } as any)).toThrow(/needs a migrations folder/);
    expect(() => postgres({ migrations: fixtures, urlEnv: "db_url" })).toThrow(/needs urlEnv.*"db_url"/);
  });

  it("names the engines it knows and the range of maxConnections", () => {
    expect(() =>
      // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input.
      postgres({ migrations: fixtures, urlEnv: "DB_URL", engine: "sqlite" as any }),
    ).toThrow(/engine "sqlite" is not one of "pglite" \(the default\) and "pg-mem"/);
    for (const bad of [0, -1, 1.5, 101]) {
      expect(() => postgres({ migrations: fixtures, urlEnv: "DB_URL", maxConnections: bad })).toThrow(
        /maxConnections .* is not a whole number from 1 to 100/,
      );
    }
  });

  it("declares its variable for cluster mode", () => {
    expect(postgres({ migrations: fixtures, urlEnv: "APP_DATABASE_URL" }).variables).toEqual([
      "APP_DATABASE_URL",
    ]);
  });
});

describe("looksLikeTestDatabase: a word of the name, not a substring", () => {
  it.each([
    ["test", true],
    ["app_test", true],
    ["integration_test", true],
    ["test_orders", true],
    ["it-tests-2", true],
    ["APP_TEST", true],
    ["latest_orders", false],
    ["contest_prod", false],
    ["testing", false],
    ["TestDb", false],
    ["attest", false],
    ["postgres", false],
    ["production", false],
  ])("%s -> %s", (name, expected) => {
    expect(looksLikeTestDatabase(name)).toBe(expected);
  });
});

describe("schemaNameFor", () => {
  it("names the dependency, and never hands out one name twice in a process", () => {
    const a = schemaNameFor("platform", "db", "01k0000000000000000000000a");
    const b = schemaNameFor("platform", "db", "01k0000000000000000000000a");
    const c = schemaNameFor("platform", "audit_db", "01k0000000000000000000000a");
    expect(a).toBe("it_platform_db_01k0000000000000000000000a");
    expect(new Set([a, b, c]).size).toBe(3);
    expect(c).toContain("_audit_db_");
    const long = schemaNameFor(
      "a-very-long-service-name",
      "a_very_long_dependency",
      "01k0000000000000000000000a",
    );
    expect(`${long}_ctl`.length).toBeLessThanOrEqual(63);
  });
});
