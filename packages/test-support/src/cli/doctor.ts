import { connect } from "node:net";
import type { ServiceDeclaration } from "../declaration.js";
import type { EnvironmentVariables } from "../dependency.js";
import type { IntegrationMode } from "../mode.js";
import { redactTarget } from "../redact.js";

const DEFAULT_PORTS: Record<string, number> = {
  "postgres:": 5432,
  "postgresql:": 5432,
  "redis:": 6379,
  "http:": 80,
  "https:": 443,
};

/** host and port of a variable's value: a URL, or host:port. */
export function endpointOf(value: string): { host: string; port: number } | undefined {
  try {
    const url = new URL(value);
    const port = Number(url.port) || DEFAULT_PORTS[url.protocol];
    if (url.hostname && port) return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    const match = /^([^\s:/]+):(\d+)$/.exec(value);
    if (match) return { host: match[1] as string, port: Number(match[2]) };
  }
  return undefined;
}

/** Milliseconds to open a TCP connection, or the reason it failed. */
export function probe(
  host: string,
  port: number,
  timeoutMs = 2000,
): Promise<{ ms: number } | { error: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host, port });
    const done = (result: { ms: number } | { error: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ error: `no answer within ${timeoutMs} ms` }));
    socket.once("connect", () => done({ ms: performance.now() - started }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
  });
}

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
  for (const { service, dependencies } of declarations) {
    print(`\n${service}`);
    for (const [name, dependency] of Object.entries(dependencies)) {
      print(`  ${name} (${dependency.kind})`);
      for (const variable of dependency.variables) {
        const value = env[variable];
        if (!value) {
          print(`    ${variable}: missing${mode === "cluster" ? " (cluster mode needs it)" : ""}`);
          if (mode === "cluster") ready = false;
          continue;
        }
        const endpoint = endpointOf(value);
        const answer = endpoint
          ? await probe(endpoint.host, endpoint.port)
          : { error: "not a URL or host:port" };
        const state =
          "ms" in answer ? `answers in ${answer.ms.toFixed(1)} ms` : `does not answer (${answer.error})`;
        print(`    ${variable}=${redactTarget(value)}: ${state}`);
        if (mode === "cluster" && !("ms" in answer)) ready = false;
      }
      if (mode === "local" && dependency.kind === "temporal" && !env.TEMPORAL_CLI_PATH) {
        print(
          "    TEMPORAL_CLI_PATH: missing (local mode starts a dev server from it; bash scripts/temporal-server.sh ensure)",
        );
        ready = false;
      }
    }
  }
  const found = [];
  for (const usual of USUAL) if ("ms" in (await probe("127.0.0.1", usual.port, 500))) found.push(usual);
  if (found.length > 0) {
    print("\nOn this machine:");
    for (const usual of found) {
      const assignments = variablesOfKind(declarations, usual.kind).map((v) => `${v}=${usual.value(v)}`);
      print(`  ${usual.what} answers on 127.0.0.1:${usual.port}: export ${assignments.join(" ")}`);
    }
    print("  then: pnpm test:integration --mode=cluster");
  }
  print(
    `\n[doctor] ${ready ? `ready for ${mode} mode` : `not ready for ${mode} mode: see the missing or silent variables above`}`,
  );
  return ready;
}
