// What doctor and the runner's cluster pre-flight ask each target: the protocol its kind speaks (a query,
// a PING, a health endpoint, a namespace lookup), never a bare TCP connect when the protocol is known.
import { connect as connectHttp2 } from "node:http2";
import { connect } from "node:net";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText } from "../errors.js";
import { connectTemporal } from "../temporal/connection.js";

/** How one variable is checked. A name (a namespace) is looked up on its server, never dialled. */
export type ProbeKind =
  | "postgres"
  | "redis"
  | "openfga"
  | "temporal"
  | "temporal-namespace"
  | "service"
  | "http"
  | "tcp";

/** The answer of one probe: whether the target is usable, what it said, and the fix when it is not. */
export interface ProbeResult {
  ok: boolean;
  /** e.g. "answers in 1.2 ms", or "does not answer (ECONNREFUSED)". */
  detail: string;
  /** The command or change that makes it answer. */
  fix?: string;
}

/** One variable of a dependency and the probe that checks it. */
export interface ProbePlan {
  variable: string;
  probe: ProbeKind;
}

/**
 * The probe for each variable of a dependency of `kind`. Temporal's namespace is a name, checked on the
 * dependency's address; a service's variables are the gRPC URLs of it and the services it calls.
 */
export function probesFor(kind: string, variables: readonly string[]): ProbePlan[] {
  return variables.map((variable) => {
    if (kind === "temporal")
      return { variable, probe: /NAMESPACE/.test(variable) ? "temporal-namespace" : "temporal" };
    if (kind === "postgres" || kind === "redis" || kind === "openfga" || kind === "http")
      return { variable, probe: kind };
    if (kind.startsWith("grpc:")) return { variable, probe: "service" };
    return { variable, probe: "tcp" };
  });
}

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
export function probeTcp(
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

const elapsed = (started: number) => `${(performance.now() - started).toFixed(1)} ms`;

/** Runs `attempt` within `timeoutMs`, turning a stall into an error that says so. */
async function bounded<T>(attempt: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([attempt, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

/** The low-level reason of a failure (ECONNREFUSED, ENOTFOUND, …) or its message. */
function reasonOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { errors?: unknown[] };
  if (e?.code && /^E[A-Z]+$/.test(e.code)) return e.code;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return reasonOf(e.errors[0]);
  // fetch says only "fetch failed"; the socket's reason is its cause.
  if (e?.cause) return reasonOf(e.cause);
  const text = errorText(error);
  return /ECONNREFUSED/.test(text) ? "ECONNREFUSED" : text;
}

const refused = (reason: string) => /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|no answer within/.test(reason);

/** `host:port` with the port the start scripts take, for fix commands. */
function portOf(value: string, fallback: number): number {
  return endpointOf(value)?.port ?? fallback;
}

async function probePostgres(variable: string, value: string, timeoutMs: number): Promise<ProbeResult> {
  const { default: pg } = await import("pg");
  const started = performance.now();
  const client = new pg.Client({
    connectionString: value,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await bounded(client.connect(), timeoutMs);
    await bounded(client.query("select 1"), timeoutMs);
    return { ok: true, detail: `PostgreSQL answers a query in ${elapsed(started)}` };
  } catch (error) {
    const code = (error as { code?: string }).code;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      // not a URL: the connect attempt already said so
    }
    if (code === "3D000" && url) {
      const database = decodeURIComponent(url.pathname.slice(1));
      const user = decodeURIComponent(url.username || "postgres");
      return {
        ok: false,
        detail: `PostgreSQL answers, but database "${database}" does not exist`,
        fix: `createdb -h ${url.hostname} -p ${url.port || 5432} -U ${user} ${database}   (bash scripts/cluster-up.sh creates it too)`,
      };
    }
    // A SQLSTATE (five characters) is the server's answer; anything else is the socket's.
    const reason = code && /^[0-9A-Z]{5}$/.test(code) ? `${code}: ${errorText(error)}` : reasonOf(error);
    return {
      ok: false,
      detail: `does not answer as PostgreSQL (${reason})`,
      fix: refused(reason)
        ? `start PostgreSQL on ${endpointOf(value)?.host ?? "127.0.0.1"}:${portOf(value, 5432)}, or point ${variable} at a running server`
        : `check the user, password and database in ${variable}`,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(variable: string, value: string, timeoutMs: number): Promise<ProbeResult> {
  const { Redis } = await import("ioredis");
  const started = performance.now();
  const client = new Redis(value, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis reports the socket's error as an event and rejects with "Connection is closed"; keep the cause.
  let socketError: unknown;
  client.on("error", (error) => {
    socketError ??= error;
  });
  try {
    await bounded(client.connect(), timeoutMs);
    const pong = await bounded(client.ping(), timeoutMs);
    if (pong !== "PONG") throw new Error(`PING answered ${JSON.stringify(pong)}`);
    return { ok: true, detail: `Redis answers PING in ${elapsed(started)}` };
  } catch (error) {
    const reason = reasonOf(socketError ?? error);
    const port = portOf(value, 6379);
    return {
      ok: false,
      detail: `does not answer as Redis (${reason})`,
      fix: refused(reason)
        ? `start Redis (e.g. redis-server --port ${port} --bind 127.0.0.1 --save "" --appendonly no --daemonize yes), or point ${variable} at a running server`
        : `check the password and database number in ${variable}`,
    };
  } finally {
    client.disconnect();
  }
}

async function probeOpenFga(variable: string, value: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const port = portOf(value, 8080);
  const startCommand = `OPENFGA_HTTP_PORT=${port} OPENFGA_GRPC_PORT=${port + 1} bash scripts/openfga-server.sh start (or bash scripts/cluster-up.sh)`;
  try {
    const response = await fetch(new URL("/healthz", value), { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    if (response.ok && /SERVING/.test(body))
      return { ok: true, detail: `OpenFGA /healthz is SERVING (${elapsed(started)})` };
    return {
      ok: false,
      detail: `/healthz answered HTTP ${response.status} ${body.slice(0, 80).trim()}, not OpenFGA's SERVING`,
      fix: `point ${variable} at OpenFGA's HTTP API (not its gRPC port), or start one: ${startCommand}`,
    };
  } catch (error) {
    return {
      ok: false,
      detail: `does not answer as OpenFGA (${reasonOf(error)})`,
      fix: `start it: ${startCommand}`,
    };
  }
}

/** Connects to Temporal's frontend, runs `check` on it, and always closes the connection. */
async function withTemporal<T>(
  address: string,
  timeoutMs: number,
  check: (connection: import("@temporalio/client").Connection) => Promise<T>,
): Promise<T> {
  const { connection, close } = await bounded(
    connectTemporal({ address, connectTimeout: timeoutMs }),
    timeoutMs + 500,
  );
  try {
    return await bounded(check(connection), timeoutMs);
  } finally {
    await close().catch(() => {});
  }
}

async function probeTemporal(variable: string, value: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const startCommand = `TEMPORAL_PORT=${portOf(value, 7233)} bash scripts/temporal-server.sh start (or bash scripts/cluster-up.sh)`;
  if (!endpointOf(value) || /^[a-z]+:\/\//i.test(value)) {
    return {
      ok: false,
      detail: "is not host:port",
      fix: `set ${variable} to the frontend's host:port, e.g. 127.0.0.1:7233`,
    };
  }
  try {
    const status = await withTemporal(value, timeoutMs, async (connection) => {
      const { status } = await connection.healthService.check({});
      return status;
    });
    // grpc.health.v1: 1 is SERVING.
    if (status === 1) return { ok: true, detail: `Temporal's gRPC health is SERVING (${elapsed(started)})` };
    return { ok: false, detail: `Temporal's gRPC health is ${status}, not SERVING`, fix: startCommand };
  } catch (error) {
    return {
      ok: false,
      detail: `does not answer as Temporal (${reasonOf(error)})`,
      fix: `start it: ${startCommand}`,
    };
  }
}

async function probeNamespace(
  variable: string,
  namespace: string,
  address: string | undefined,
  timeoutMs: number,
): Promise<ProbeResult> {
  if (!address) return { ok: false, detail: "cannot be looked up: the Temporal address is not set" };
  const started = performance.now();
  try {
    await withTemporal(address, timeoutMs, (connection) =>
      connection.workflowService.describeNamespace({ namespace }),
    );
    return { ok: true, detail: `namespace exists on ${address} (${elapsed(started)})` };
  } catch (error) {
    if ((error as { code?: number }).code === 5) {
      return {
        ok: false,
        detail: `namespace "${namespace}" does not exist on ${address}`,
        fix: `temporal operator namespace create --address ${address} --namespace ${namespace} (the CLI: bash scripts/temporal-server.sh ensure), or set ${variable} to an existing one`,
      };
    }
    return {
      ok: false,
      detail: `cannot be looked up on ${address} (${reasonOf(error)})`,
      fix: "make the Temporal address answer first",
    };
  }
}

/** GET /healthz over HTTP/2 (cleartext for http://), as the services and their health checks speak. */
function http2Status(url: URL, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(url.origin);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(error);
    };
    session.once("error", fail);
    const request = session.request({ ":method": "GET", ":path": "/healthz" });
    request.once("error", fail);
    request.once("response", (headers) => {
      clearTimeout(timer);
      request.resume();
      request.once("end", () => session.close());
      resolve(Number(headers[":status"]));
    });
    request.end();
  });
}

async function probeService(
  variable: string,
  value: string,
  timeoutMs: number,
  serviceFix: (variable: string) => string,
): Promise<ProbeResult> {
  const started = performance.now();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return {
      ok: false,
      detail: "is not a URL",
      fix: `set ${variable} to the service's base URL, e.g. http://127.0.0.1:4000`,
    };
  }
  try {
    const status = await http2Status(url, timeoutMs);
    if (status === 200) return { ok: true, detail: `/healthz answers 200 over HTTP/2 (${elapsed(started)})` };
    return { ok: false, detail: `/healthz answered HTTP ${status}`, fix: serviceFix(variable) };
  } catch (error) {
    return { ok: false, detail: `/healthz does not answer (${reasonOf(error)})`, fix: serviceFix(variable) };
  }
}

async function probeHttp(variable: string, value: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const response = await fetch(value, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: true, detail: `answers HTTP ${response.status} in ${elapsed(started)}` };
  } catch (error) {
    return {
      ok: false,
      detail: `does not answer over HTTP (${reasonOf(error)})`,
      fix: `start the upstream ${variable} names, or point ${variable} at it`,
    };
  }
}

/** What starts the service a variable names: cluster-up.sh for the package it belongs to. */
export function defaultServiceFix(variable: string): string {
  const service = variable
    .replace(/_GRPC_URL$/, "")
    .toLowerCase()
    .replace(/_/g, "-");
  return `start it with what it needs: bash scripts/cluster-up.sh --for @org/${service} > .env.integration`;
}

/** Runs one probe against the value of `variable` in `env`. */
export async function probeVariable(
  plan: ProbePlan,
  env: EnvironmentVariables,
  options: { timeoutMs?: number; addressOf?: (env: EnvironmentVariables) => string | undefined } = {},
): Promise<ProbeResult> {
  const value = env[plan.variable];
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  if (!value) return { ok: false, detail: "missing" };
  switch (plan.probe) {
    case "postgres":
      return probePostgres(plan.variable, value, timeoutMs);
    case "redis":
      return probeRedis(plan.variable, value, timeoutMs);
    case "openfga":
      return probeOpenFga(plan.variable, value, timeoutMs);
    case "temporal":
      return probeTemporal(plan.variable, value, timeoutMs);
    case "temporal-namespace":
      return probeNamespace(plan.variable, value, options.addressOf?.(env), timeoutMs);
    case "service":
      return probeService(plan.variable, value, timeoutMs, defaultServiceFix);
    case "http":
      return probeHttp(plan.variable, value, timeoutMs);
    default: {
      const endpoint = endpointOf(value);
      if (!endpoint) return { ok: false, detail: "is not a URL or host:port" };
      const answer = await probeTcp(endpoint.host, endpoint.port, timeoutMs);
      return "ms" in answer
        ? { ok: true, detail: `answers in ${answer.ms.toFixed(1)} ms` }
        : { ok: false, detail: `does not answer (${answer.error})` };
    }
  }
}

/** The default bound of one probe: the factory's default connect bound, so a probe is no stricter than a run. */
export const PROBE_TIMEOUT_MS = 5000;

/**
 * The probe results of every variable of one dependency, the namespace looked up on its own address. One
 * at a time: loading a client library blocks the event loop, which would eat a concurrent probe's bound.
 */
export async function probeDependency(
  kind: string,
  variables: readonly string[],
  env: EnvironmentVariables,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<{ variable: string; result: ProbeResult }[]> {
  const plans = probesFor(kind, variables);
  const address = plans.find((p) => p.probe === "temporal")?.variable;
  const results: { variable: string; result: ProbeResult }[] = [];
  for (const plan of plans) {
    results.push({
      variable: plan.variable,
      result: await probeVariable(plan, env, {
        timeoutMs,
        addressOf: (e) => (address ? e[address] : undefined),
      }),
    });
  }
  return results;
}
