import { describe, expect, it } from "vitest";
import { closedPort } from "../../tests/helpers.js";
import { declareService } from "../declaration.js";
import { openfga } from "../openfga/openfga.js";
import { postgres } from "../postgres/postgres.js";
import { redis } from "../redis/redis.js";
import { temporal } from "../temporal/temporal.js";
import { sweep, sweepTargetsOf } from "./sweep.js";

describe("sweep", () => {
  it("reports a server it cannot reach as a failure, without the password, and never skips it silently", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const { ok, reports } = await sweep(
      [
        { kind: "postgres", url: `postgres://app:Sekr3tPw@127.0.0.1:${port}/app_test`, source: "--postgres" },
        { kind: "redis", url: `redis://:Sekr3tPw@127.0.0.1:${port}/0`, source: "--redis" },
        { kind: "openfga", url: `http://127.0.0.1:${port}`, source: "--openfga" },
        { kind: "postgres", url: "postgres://app:Sek@r3t@127.0.0.1:5432/app_test", source: "--postgres" },
      ],
      { dryRun: true, timeoutMs: 2000 },
      (line) => lines.push(line),
    );
    expect(ok).toBe(false);
    expect(reports.map((r) => r.failed.length)).toEqual([1, 1, 1, 1]);
    const text = lines.join("\n");
    expect(text).not.toContain("Sekr3tPw");
    expect(text).not.toContain("r3t@");
    expect(text).toContain(`postgres at postgres://app:***@127.0.0.1:${port}/app_test (--postgres)`);
    expect(text).toContain("its URL does not parse unambiguously; percent-encode the password");
    expect(text.match(/could not remove \(the server\)/g)).toHaveLength(4);
  });

  it("sweeps each server the declarations' variables point at once, skipping unset ones and kinds without leases", () => {
    const model = { schema_version: "1.1", type_definitions: [{ type: "user" }] };
    const declarations = [
      declareService("a", {
        db: postgres({ migrations: "m", urlEnv: "A_DATABASE_URL" }),
        cache: redis({ urlEnv: "REDIS_URL" }),
        authz: openfga({ model }),
      }),
      declareService("b", {
        db: postgres({ migrations: "m", urlEnv: "B_DATABASE_URL" }),
        cache: redis({ urlEnv: "REDIS_URL" }),
      }),
    ];
    const targets = sweepTargetsOf(declarations, {
      A_DATABASE_URL: "postgres://h/a_test",
      B_DATABASE_URL: "postgres://h/a_test",
      REDIS_URL: "redis://h:6379/0",
    });
    expect(targets).toEqual([
      { kind: "postgres", url: "postgres://h/a_test", source: "A_DATABASE_URL" },
      { kind: "redis", url: "redis://h:6379/0", source: "REDIS_URL" },
    ]);
  });

  it("sweeps a Temporal namespace as host:port/namespace, only when both variables are set", () => {
    const workflows = () =>
      temporal({ namespaceEnv: "TEMPORAL_NAMESPACE", addressEnv: "TEMPORAL_ADDRESS", taskQueue: "q" });
    const declarations = [
      declareService("a", { workflows: workflows() }),
      declareService("b", { w: workflows() }),
    ];
    expect(
      sweepTargetsOf(declarations, { TEMPORAL_ADDRESS: "127.0.0.1:7233", TEMPORAL_NAMESPACE: "integration" }),
    ).toEqual([{ kind: "temporal", url: "127.0.0.1:7233/integration", source: "TEMPORAL_ADDRESS" }]);
    expect(sweepTargetsOf(declarations, { TEMPORAL_ADDRESS: "127.0.0.1:7233" })).toEqual([]);
  });

  it("reports a Temporal target without a namespace, or unreachable, as a failure", async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const { ok, reports } = await sweep(
      [
        { kind: "temporal", url: `127.0.0.1:${port}`, source: "--temporal" },
        { kind: "temporal", url: `127.0.0.1:${port}/integration`, source: "--temporal" },
      ],
      { dryRun: true, timeoutMs: 1000 },
      (line) => lines.push(line),
    );
    expect(ok).toBe(false);
    expect(reports.map((r) => r.failed.length)).toEqual([1, 1]);
    expect(lines.join("\n")).toContain("name the namespace too, as host:port/namespace");
  });
});
