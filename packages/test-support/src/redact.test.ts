import { describe, expect, it } from "vitest";
import { redactTarget, scrub, secretsOf } from "./redact.js";

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
