import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { chart, root } from "./tools.js";

// Tilt cannot be installed here: the Tiltfile runs in Starlark (go.starlark.net, Tilt's dialect) against
// stubs of the builtins it calls (deploy/tiltfile-check), which print the resources it defines.
interface Resource {
  name: string;
  cmd: string;
  env: Record<string, string>;
  resource_deps: string[];
  trigger_mode: string;
}

function resources(): Resource[] {
  const result = spawnSync("go", ["run", ".", `${root}Tiltfile`], {
    cwd: `${root}deploy/tiltfile-check`,
    encoding: "utf8",
  });
  // stderr may hold Go's module downloads on a first run; a failure's reason is there too.
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Resource[];
}

describe("the Tiltfile", () => {
  const all = resources();
  const byName = new Map(all.map((r) => [r.name, r]));
  const services = Object.keys(
    (parse(readFileSync(`${chart}files/services.yaml`, "utf8")) as { services: Record<string, unknown> })
      .services,
  );

  it("has test-all-repo and test-all-cluster, each setting INTEGRATION_MODE and running the runner", () => {
    expect(byName.get("test-all-repo")).toMatchObject({
      cmd: "pnpm test:integration",
      env: { INTEGRATION_MODE: "repo" },
      resource_deps: [],
      trigger_mode: "manual",
    });
    expect(byName.get("test-all-cluster")).toMatchObject({
      cmd: "pnpm test:integration --vars-file .env.integration",
      env: { INTEGRATION_MODE: "cluster" },
      resource_deps: ["cluster-up"],
    });
  });

  it("has a repo and a cluster resource per service, the cluster one after the services' resources", () => {
    for (const service of services) {
      const repo = byName.get(`test-${service}-repo`);
      const cluster = byName.get(`test-${service}-cluster`);
      expect(repo?.env).toEqual({ INTEGRATION_MODE: "repo" });
      expect(repo?.cmd).toMatch(/^pnpm test:integration --filter @org\/[a-z-]+$/);
      expect(cluster?.env).toEqual({ INTEGRATION_MODE: "cluster" });
      expect(cluster?.resource_deps).toEqual(["cluster-up"]);
    }
  });

  it("sets the mode on every test resource: none runs in a mode it did not name", () => {
    for (const r of all.filter((r) => r.name.startsWith("test-")))
      expect(["repo", "cluster"]).toContain(r.env.INTEGRATION_MODE);
  });
});
