import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createIntegrationEnvironment } from "./environment.js";
import { isTestSupportError } from "./errors.js";
import { LEASE_VARIABLE, leaseMsFrom } from "./lease/lease.js";
import { ambiguousUserinfo, redactTarget } from "./redact.js";
import { parseRedisUrl } from "./redis/redis.js";
import { readUrlVariable } from "./variables.js";

// Passwords as segments of 6 to 10 upper-case letters joined by characters that must be percent-encoded,
// so "does the message show any of it" is a question with no false positives.
const segment = fc.stringMatching(/^[A-Z]{6,10}$/);
const password = fc
  .array(fc.tuple(segment, fc.constantFrom("@", ":", "/", "#", "?", "%", " ", "&", "")), {
    minLength: 1,
    maxLength: 4,
  })
  .map((parts) => parts.map(([text, sep]) => text + sep).join(""));
const segmentsOf = (secret: string) => secret.match(/[A-Z]{6,}/g) ?? [];
const schemes = fc.constantFrom("postgres", "redis", "http");
const read = (raw: string) => () =>
  readUrlVariable({ X_URL: raw }, "X_URL", "kind", ["postgres:", "redis:", "http:"], "an example");

describe("URLs in variables, for any password", () => {
  it("percent-encoded: parses to exactly that password, and redactTarget shows none of it", () => {
    fc.assert(
      fc.property(schemes, fc.string({ minLength: 1 }), password, (scheme, user, secret) => {
        const raw = `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@127.0.0.1:1/x`;
        const url = read(raw)();
        expect(decodeURIComponent(url.password)).toBe(secret);
        expect(decodeURIComponent(url.username)).toBe(user);
        const shown = redactTarget(raw);
        for (const part of segmentsOf(secret)) expect(shown).not.toContain(part);
      }),
      { numRuns: 300 },
    );
  });

  it("written raw: either it parses to exactly that password, or it is refused with none of the password in the message", () => {
    fc.assert(
      fc.property(schemes, password, (scheme, secret) => {
        const raw = `${scheme}://app:${secret}@127.0.0.1:1/x`;
        let url: URL | undefined;
        let thrown: unknown;
        try {
          url = read(raw)();
        } catch (error) {
          thrown = error;
        }
        if (url && !ambiguousUserinfo(raw)) {
          // Accepted: the parser must have found the whole password where it was written.
          expect(decodeURIComponent(url.password)).toBe(secret);
          return;
        }
        expect(isTestSupportError(thrown, "INVALID_OPTIONS")).toBe(true);
        const message = (thrown as Error).message;
        for (const part of segmentsOf(secret)) expect(message).not.toContain(part);
        expect(redactTarget(raw)).not.toMatch(/[A-Z]{6,}/);
      }),
      { numRuns: 500 },
    );
  });
});

describe("redis database numbers, for any path", () => {
  it("reads a number of at most 9 digits as the database, and refuses anything else naming the variable", () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 999_999_999 }).map(String), fc.string()), (path) => {
        const url = new URL(`redis://127.0.0.1:6379/${encodeURIComponent(path)}`);
        if (/^\d{1,9}$/.test(path)) {
          expect(parseRedisUrl(url, "REDIS_URL").db).toBe(Number(path));
        } else if (path === "" || path === "." || path === "..") {
          // "." and ".." are dot segments, which URL parsing removes: redis://host:6379/. is redis://host:6379/.
          expect(url.pathname === "" || url.pathname === "/").toBe(true);
          expect(parseRedisUrl(url, "REDIS_URL").db).toBe(0);
        } else {
          expect(() => parseRedisUrl(url, "REDIS_URL")).toThrow(
            /REDIS_URL selects the database .* not a number/,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("time bounds and leases from variables, for any value", () => {
  const validMs = (raw: string, min: number, max: number) =>
    /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max;

  it("takes a whole number of milliseconds a timer can hold, and refuses anything else before connecting", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          "INTEGRATION_CONNECT_TIMEOUT_MS",
          "INTEGRATION_SETUP_TIMEOUT_MS",
          "INTEGRATION_OPERATION_TIMEOUT_MS",
        ),
        fc.oneof(
          fc.string(),
          fc.bigInt({ min: 0n, max: 2n ** 40n }).map(String),
          fc.constantFrom("2147483647", "2147483648", "0", "1", "-5", "1e3", "1.5", " 10"),
        ),
        async (variable, raw) => {
          const outcome = await createIntegrationEnvironment({
            service: "props",
            dependencies: {
              fake: {
                kind: "fake",
                variables: [],
                describeTarget: () => "fake",
                double: async () => ({
                  client: {},
                  implementation: "fake",
                  target: "in-process",
                  reset: async () => {},
                  close: async () => {},
                }),
                live: async () => {
                  throw new Error("never live");
                },
              },
            },
            env: { [variable]: raw },
            telemetry: { emit() {} },
          }).then(
            async (env) => {
              await env.close();
              return undefined;
            },
            (error: unknown) => error,
          );
          if (validMs(raw, 1, 2 ** 31 - 1)) expect(outcome).toBeUndefined();
          else {
            expect(isTestSupportError(outcome, "INVALID_OPTIONS")).toBe(true);
            expect((outcome as Error).message).toContain(variable);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it(`reads ${LEASE_VARIABLE} from 1 s to 24 h, and refuses anything else naming it`, () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.nat({ max: 2 * 24 * 3600 * 1000 }).map(String)), (raw) => {
        if (raw === "") expect(leaseMsFrom({ [LEASE_VARIABLE]: raw })).toBe(60_000);
        else if (validMs(raw, 1000, 24 * 3600 * 1000))
          expect(leaseMsFrom({ [LEASE_VARIABLE]: raw })).toBe(Number(raw));
        else expect(() => leaseMsFrom({ [LEASE_VARIABLE]: raw })).toThrow(LEASE_VARIABLE);
      }),
      { numRuns: 300 },
    );
  });
});
