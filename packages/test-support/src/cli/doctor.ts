import type { ServiceDeclaration } from "../declaration.js";
import type { EnvironmentVariables } from "../dependency.js";
import { engineStates, enginesNeeded } from "../local/preflight.js";
import type { IntegrationMode } from "../mode.js";
import { redactTarget } from "../redact.js";
import { probeDependency, probeTcp } from "./probes.js";

export { endpointOf } from "./probes.js";

/** The usual local ports, the dependency kind on each, and the value that points a variable at it. */
const USUAL = [
  {
    what: "PostgreSQL",
    kind: "postgres",
    port: 5432,
    value: () => "postgres://postgres@127.0.0.1:5432/integration_test",
  },
  { what: "Redis", kind: "redis", port: 6379, value: () => "redis://127.0.0.1:6379/0" },
  { what: "OpenFGA", kind: "openfga", port: 8080, value: () => "http://127.0.0.1:8080" },
  {
    what: "Temporal",
    kind: "temporal",
    port: 7233,
    value: (v: string) => (/NAMESPACE/.test(v) ? "default" : "127.0.0.1:7233"),
  },
];

/** Every variable that dependencies of `kind` read, across the declarations, once each. */
function variablesOfKind(declarations: ServiceDeclaration[], kind: string): string[] {
  const all = declarations.flatMap(({ dependencies }) =>
    Object.values(dependencies)
      .filter((d) => d.kind === kind)
      .flatMap((d) => d.variables),
  );
  return [...new Set(all)].sort();
}

/** Reports every service's dependencies and their variables; returns whether `mode` can run as things are. */
export async function doctor(
  declarations: ServiceDeclaration[],
  mode: IntegrationMode,
  env: EnvironmentVariables,
  print: (line: string) => void,
): Promise<boolean> {
  print(`[doctor] checking for ${mode} mode; it never changes the mode for you.`);
  if (mode === "repo")
    print("[doctor] repo mode needs no variable and no server: every dependency is an in-process double.");
  let ready = true;
  if (mode === "local") {
    // What local mode starts: one engine of each kind for the whole run, on loopback; no variable is read.
    print(
      "[doctor] local mode starts one engine of each kind per run; the cluster variables below are not read.",
    );
    print("\nlocal engines");
    for (const engine of engineStates(enginesNeeded(declarations), env)) {
      print(`  ${engine.kind}: ${engine.state}: ${engine.detail}`);
      if (engine.state === "missing") ready = false;
    }
  }
  for (const { service, dependencies } of declarations) {
    print(`\n${service}`);
    for (const [name, dependency] of Object.entries(dependencies)) {
      print(`  ${name} (${dependency.kind})`);
      const results = new Map(
        (await probeDependency(dependency.kind, dependency.variables, env)).map((r) => [
          r.variable,
          r.result,
        ]),
      );
      for (const variable of dependency.variables) {
        const value = env[variable];
        if (!value) {
          print(`    ${variable}: missing${mode === "cluster" ? " (cluster mode needs it)" : ""}`);
          if (mode === "cluster") ready = false;
          continue;
        }
        const result = results.get(variable);
        print(`    ${variable}=${redactTarget(value)}: ${result?.detail ?? "not probed"}`);
        if (result && !result.ok) {
          if (result.fix) print(`      fix: ${result.fix}`);
          if (mode === "cluster") ready = false;
        }
      }
    }
  }
  const found = [];
  // Hints only help a run that is not ready.
  if (!ready)
    for (const usual of USUAL) if ("ms" in (await probeTcp("127.0.0.1", usual.port, 500))) found.push(usual);
  if (found.length > 0) {
    print("\nOn this machine:");
    for (const usual of found) {
      const assignments = variablesOfKind(declarations, usual.kind).map((v) => `${v}=${usual.value(v)}`);
      print(`  ${usual.what} answers on 127.0.0.1:${usual.port}: export ${assignments.join(" ")}`);
    }
    print("  then: pnpm test:integration --mode=cluster");
  }
  print(
    `\n[doctor] ${ready ? `ready for ${mode} mode` : `not ready for ${mode} mode: see the missing or silent variables above${mode === "cluster" ? "; bash scripts/cluster-up.sh > .env.integration starts everything cluster mode needs on this machine" : ""}`}`,
  );
  return ready;
}
