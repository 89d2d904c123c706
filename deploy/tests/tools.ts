// Shared by the deploy tests: the repository's paths, and the pinned Helm (built from its Go module once).
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const chart = fileURLToPath(new URL("../helm/integration-runner/", import.meta.url));

/** The pinned Helm's path: scripts/helm.sh ensure builds it into ~/.cache/org-integration/go/bin when absent. */
export function ensureHelm(): string {
  return execFileSync("bash", [`${root}scripts/helm.sh`, "ensure"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** Runs helm with `args`; returns its exit status and output. */
export function helm(bin: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(bin, args, { encoding: "utf8", cwd: root });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
