import { randomBytes } from "node:crypto";
import pg from "pg";
import { expect, it, onTestFinished } from "vitest";
import { ensureDatabase } from "../../src/cli/cluster-plan.js";
import { probeDependency, probeVariable } from "../../src/cli/probes.js";
import { describeInModes } from "../../src/vitest/index.js";

// doctor's and the runner's probes, and cluster-up's database step, against the real servers of the
// cluster lane: what they say when everything answers, and the fix when a name does not exist.
describeInModes(["cluster"], "cluster tools against real servers", () => {
  const env = process.env;

  it("asks each real server in its own protocol and gets its answer", { timeout: 30_000 }, async () => {
    const checks = [];
    for (const [kind, variables] of [
      ["postgres", ["TEST_SUPPORT_DATABASE_URL"]],
      ["redis", ["REDIS_URL"]],
      ["openfga", ["FGA_API_URL"]],
      ["temporal", ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"]],
    ] as const)
      checks.push(await probeDependency(kind, variables, env));
    const details = checks.flat().map(({ variable, result }) => `${variable}: ${result.ok} ${result.detail}`);
    expect(details).toEqual([
      expect.stringMatching(/^TEST_SUPPORT_DATABASE_URL: true PostgreSQL answers a query in/),
      expect.stringMatching(/^REDIS_URL: true Redis answers PING in/),
      expect.stringMatching(/^FGA_API_URL: true OpenFGA \/healthz is SERVING/),
      expect.stringMatching(/^TEMPORAL_ADDRESS: true Temporal's gRPC health is SERVING/),
      expect.stringMatching(/^TEMPORAL_NAMESPACE: true namespace exists on /),
    ]);
  });

  it("gives the command that creates a namespace that does not exist", { timeout: 30_000 }, async () => {
    const result = await probeVariable(
      { variable: "TEMPORAL_NAMESPACE", probe: "temporal-namespace" },
      { TEMPORAL_NAMESPACE: "it-no-such-namespace" },
      { addressOf: () => env.TEMPORAL_ADDRESS },
    );
    expect(result.ok).toBe(false);
    expect(result.detail).toBe(`namespace "it-no-such-namespace" does not exist on ${env.TEMPORAL_ADDRESS}`);
    expect(result.fix).toContain(
      `temporal operator namespace create --address ${env.TEMPORAL_ADDRESS} --namespace it-no-such-namespace`,
    );
  });

  it("names the createdb command for a missing database, and cluster-up's step creates it once", {
    timeout: 30_000,
  }, async () => {
    const url = new URL(env.TEST_SUPPORT_DATABASE_URL ?? "");
    const database = `it_probe_${randomBytes(4).toString("hex")}_test`;
    const missing = new URL(url);
    missing.pathname = `/${database}`;
    const admin = new URL(url);
    admin.pathname = "/postgres";
    onTestFinished(async () => {
      // Only the database this test created is dropped.
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`drop database if exists "${database}"`);
      await client.end();
    });

    const before = await probeVariable(
      { variable: "X_DATABASE_URL", probe: "postgres" },
      { X_DATABASE_URL: missing.toString() },
    );
    expect(before.ok).toBe(false);
    expect(before.detail).toBe(`PostgreSQL answers, but database "${database}" does not exist`);
    expect(before.fix).toContain(
      `createdb -h ${url.hostname} -p ${url.port || 5432} -U ${url.username || "postgres"} ${database}`,
    );

    expect(await ensureDatabase(missing.toString())).toMatchObject({ created: true });
    expect(await ensureDatabase(missing.toString())).toMatchObject({ created: false });
  });
});
