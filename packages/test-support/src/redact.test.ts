import { describe, expect, it } from "vitest";
import { ambiguousUserinfo, redactTarget, scrub, secretsOf } from "./redact.js";

describe("redactTarget", () => {
  it("masks the password and keeps the rest", () => {
    expect(redactTarget("postgres://app:s3cr3t@db.internal:5432/app_test")).toBe(
      "postgres://app:***@db.internal:5432/app_test",
    );
  });

  it("masks secret query parameters", () => {
    const out = redactTarget("https://fga.example/api?token=abc123&store=x");
    expect(out).not.toContain("abc123");
    expect(out).toContain("store=x");
  });

  it("leaves URLs without secrets alone", () => {
    expect(redactTarget("redis://127.0.0.1:6379/0")).toBe("redis://127.0.0.1:6379/0");
  });

  it("masks user:password@ in strings that are not URLs", () => {
    expect(redactTarget("not a url //me:pw@host")).toBe("not a url //me:***@host");
  });

  it("masks an encoded password", () => {
    const raw = "postgres://app:p%40ss%3Aword@h/app_test";
    expect(redactTarget(raw)).toBe("postgres://app:***@h/app_test");
    expect(scrub("failed for p@ss:word and p%40ss%3Aword", secretsOf(raw))).toBe("failed for *** and ***");
  });
});

describe("ambiguousUserinfo", () => {
  it.each([
    ["postgres://u:p@ss@h/db", '"@"'],
    ["postgres://u:p:ss@h/db", '":"'],
    ["postgres://u:p/ss@h/db", '"/"'],
    ["redis://:p#ss@h:6379/0", '"#"'],
    ["http://u:p?ss@h/", '"?"'],
  ])("finds the unencoded character in %s and redacts all of its user information", (raw, character) => {
    expect(ambiguousUserinfo(raw)).toContain(character.replace(/"/g, "") === "@" ? '"@"' : "unencoded");
    const shown = redactTarget(raw);
    expect(shown).not.toContain("ss");
    expect(shown).not.toMatch(/u:/);
  });

  it.each([
    "postgres://u:p%40ss@h:5432/db",
    "postgres://u@h/db",
    "postgres://h/db",
    "postgres://[::1]:5432/db",
    "redis://:pw@127.0.0.1:6379/0",
  ])("accepts %s", (raw) => {
    expect(ambiguousUserinfo(raw)).toBeUndefined();
  });
});
