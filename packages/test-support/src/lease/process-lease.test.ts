import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { redisServerBinary, startRedisServer } from "../redis/local-server.js";
import { sweepProcesses } from "./process-lease.js";

const folder = mkdtempSync(join(tmpdir(), "process-leases-"));
const leases = join(folder, "leases");
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });

describe.skipIf(!redisServerBinary())("engine processes of a run killed mid-run", () => {
  it("outlive it, and the sweep stops them once their lease expires, never a living run's", async () => {
    const env = { ...process.env, INTEGRATION_CACHE_DIR: folder, INTEGRATION_LEASE_MS: "1500" };
    // A living run's engine: its heartbeat keeps its lease.
    const alive = await startRedisServer({ env });
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../../tests/crash/engine-run.ts", import.meta.url))],
      { env, stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const { port } = await new Promise<{ port: number }>((resolve, reject) => {
        let out = "";
        child.stdout?.on("data", (chunk) => {
          out += String(chunk);
          const line = out.split("\n").find((l) => l.startsWith("{"));
          if (line) resolve(JSON.parse(line));
        });
        child.once("exit", (code) =>
          reject(new Error(`the run exited (${code}) before starting its engine`)),
        );
      });
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
      expect(await answers(port)).toBe(true);
      expect(readdirSync(leases)).toHaveLength(2);

      let report = sweepProcesses(leases, { dryRun: true });
      const deadline = Date.now() + 20_000;
      while (report.expired.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        report = sweepProcesses(leases, { dryRun: true });
      }
      expect(report.expired.map((e) => e.object)).toEqual([
        expect.stringContaining(`redis-server on 127.0.0.1:${port}`),
      ]);
      expect(await answers(port)).toBe(true);

      report = sweepProcesses(leases, { dryRun: false });
      expect(report.expired).toHaveLength(1);
      expect(report.live).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await answers(port)).toBe(false);
      expect(await answers(alive.port)).toBe(true);
      expect(readdirSync(leases)).toHaveLength(1);
    } finally {
      child.kill("SIGKILL");
      await alive.stop();
    }
    expect(readdirSync(leases)).toHaveLength(0);
  }, 60_000);

  it("never kills a process whose pid was reused: the start time must match", () => {
    const own = join(folder, "reused");
    rmSync(own, { recursive: true, force: true });
    mkdirSync(own, { recursive: true });
    const file = join(own, `process-${process.pid}-1.json`);
    writeFileSync(
      file,
      JSON.stringify({ pid: process.pid, started: "1", what: "an engine", owner: 1, leaseMs: 1000 }),
    );
    utimesSync(file, new Date(0), new Date(0));
    const report = sweepProcesses(own, { dryRun: false });
    // This process is alive (it runs the test): it was not killed, only its stale lease file removed.
    expect(report.expired.map((e) => e.object)).toEqual([`an engine (pid ${process.pid}, already gone)`]);
    expect(readdirSync(own)).toEqual([]);
  });
});
