import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The command as users run it: argv in, output and exit code out.
const cli = fileURLToPath(new URL("./test-integration.ts", import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", cli, ...args], {
    encoding: "utf8",
    env: { ...process.env },
  });

// Each case starts node, tsx and (for --dry-run) turbo itself: a process-level bound, not a unit test's 5 s.
describe("pnpm test:integration", { timeout: 60_000 }, () => {
  it("exits 2 with the allowed values for a bad mode", () => {
    const result = run("--mode=Cluster");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Allowed choices are repo, local, cluster");
  });

  it("exits 2 for an unknown flag and says which", () => {
    const result = run("--bogus");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("unknown option '--bogus'");
  });

  it("exits 2 for an --env-file it cannot read", () => {
    const result = run("--", "--env-file", "/nonexistent/.env.integration", "--dry-run");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("cannot be read (ENOENT)");
  });

  it("prints the plan and the selected packages on --dry-run, and exits 0", () => {
    const result = run("--dry-run", "--mode", "cluster", "--filter", "@org/test-support", "--smoke");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("mode: cluster (smoke subset)");
    expect(result.stdout).toContain("packages: @org/test-support");
    expect(result.stdout).toContain(
      "would run: turbo run test:integration --continue --filter=@org/test-support --force",
    );
  });

  it("exits 0 for --help and lists the exit codes", () => {
    const result = run("--help");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Exit codes: 0 every selected suite passed");
  });
});
