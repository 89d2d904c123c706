// The run's supervisor: one process per run that starts each engine the first time a test process asks
// for it (one start at a time per kind, so two workers never start two servers), hands out its address,
// and stops everything when whoever started it goes away (its stdin closes) or on a signal.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { EnvironmentVariables } from "../dependency.js";
import { errorText, isTestSupportError, TestSupportError } from "../errors.js";
import { LocalDatabases } from "./databases.js";
import { type RunningEngine, startOpenFga, startPostgres, startRedis, startTemporal } from "./engines.js";
import {
  ENGINE_KINDS,
  type EngineInfo,
  type EngineKind,
  type EngineStart,
  type SupervisorError,
  type SupervisorStats,
  type TemplateMigration,
} from "./protocol.js";
import { RunFolder, runsRoot, sweepDeadRuns } from "./registry.js";

/** How long an engine may take to start once its binary is there (a Go build before it is not counted). */
const START_TIMEOUT_MS = 60_000;

const say = (line: string) => process.stderr.write(`[test-support local] ${line}\n`);

export class Supervisor {
  private readonly engines = new Map<EngineKind, Promise<RunningEngine>>();
  private readonly starts: EngineStart[] = [];
  private databases: Promise<LocalDatabases> | undefined;
  private readonly folder: RunFolder;
  private readonly swept: string[];
  private server: Server | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly env: EnvironmentVariables) {
    const root = runsRoot(env);
    this.swept = sweepDeadRuns(root, process.pid);
    for (const line of this.swept) say(line);
    this.folder = new RunFolder(root, process.pid);
  }

  /** Starts `kind` once; every later caller gets the same engine (or the same failure, until one succeeds). */
  engine(kind: EngineKind): Promise<RunningEngine> {
    // Nothing starts once stopping began: it would outlive the run.
    if (this.stopping)
      return Promise.reject(new TestSupportError("CLOSED", "the run is ending: its engines are stopping"));
    let running = this.engines.get(kind);
    if (!running) {
      const started = performance.now();
      running = this.start(kind).then((engine) => {
        this.folder.record({ kind, pid: engine.pid, command: engine.command });
        this.starts.push({
          kind,
          implementation: engine.implementation,
          startMs: Math.round(performance.now() - started),
          pid: engine.pid,
        });
        return engine;
      });
      this.engines.set(kind, running);
      running.catch(() => this.engines.delete(kind));
    }
    return running;
  }

  private start(kind: EngineKind): Promise<RunningEngine> {
    switch (kind) {
      case "postgres":
        return startPostgres(this.folder.path, this.env, START_TIMEOUT_MS);
      case "redis":
        return startRedis(this.env, START_TIMEOUT_MS);
      case "openfga":
        return startOpenFga(this.env, START_TIMEOUT_MS);
      case "temporal":
        return startTemporal(this.env, START_TIMEOUT_MS);
    }
  }

  private localDatabases(): Promise<LocalDatabases> {
    this.databases ??= this.engine("postgres").then((engine) => {
      const base = new URL(engine.url);
      return new LocalDatabases((database) => {
        const url = new URL(base);
        url.pathname = `/${database}`;
        return url.toString();
      }, engine.implementation);
    });
    this.databases.catch(() => {
      this.databases = undefined;
    });
    return this.databases;
  }

  stats(): SupervisorStats {
    return {
      starts: [...this.starts],
      databases: { handedOut: 0, fromPool: 0, templates: 0 },
      swept: this.swept,
    };
  }

  private async fullStats(): Promise<SupervisorStats> {
    const stats = this.stats();
    const databases = await this.databases?.catch(() => undefined);
    if (databases)
      stats.databases = {
        handedOut: databases.handedOut,
        fromPool: databases.fromPool,
        templates: databases.templateCount,
      };
    return stats;
  }

  /** Listens on a free loopback port; resolves to the URL test processes use. */
  async listen(): Promise<string> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => reply(response, 500, failureOf(error)));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? "/", "http://supervisor").pathname;
    const body = request.method === "POST" ? await readJson(request) : undefined;
    const engineMatch = /^\/engines\/([a-z]+)$/.exec(path);
    if (request.method === "POST" && engineMatch) {
      const kind = engineMatch[1] as EngineKind;
      if (!ENGINE_KINDS.includes(kind))
        return reply(response, 404, { code: "INVALID_OPTIONS", message: `no engine ${kind}` });
      const engine = await this.engine(kind);
      const info: EngineInfo = { kind, url: engine.url, implementation: engine.implementation };
      return reply(response, 200, info);
    }
    if (request.method === "POST" && path === "/postgres/databases") {
      const { migrations, name } = body as { migrations: TemplateMigration[]; name: string };
      const databases = await this.localDatabases();
      return reply(response, 200, await databases.lease(migrations, name));
    }
    const dropMatch = /^\/postgres\/databases\/([A-Za-z0-9_]+)$/.exec(path);
    if (request.method === "DELETE" && dropMatch) {
      (await this.databases)?.release(dropMatch[1] as string);
      return reply(response, 200, {});
    }
    if (request.method === "GET" && path === "/stats") return reply(response, 200, await this.fullStats());
    if (request.method === "POST" && path === "/shutdown") {
      reply(response, 200, await this.fullStats());
      await this.stop();
      process.exit(0);
    }
    reply(response, 404, { code: "INVALID_OPTIONS", message: `no route ${request.method} ${path}` });
  }

  /** Stops every engine (in parallel) and removes the run's folder; safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.server?.close();
      const databases = await this.databases?.catch(() => undefined);
      await databases?.settle();
      const engines = await Promise.allSettled([...this.engines.values()]);
      await Promise.allSettled(
        engines.map(async (e) => {
          if (e.status !== "fulfilled") return;
          await e.value.stop();
          this.folder.forget(e.value.pid);
        }),
      );
      this.folder.remove();
    })();
    return this.stopping;
  }
}

function failureOf(error: unknown): SupervisorError {
  return {
    code: isTestSupportError(error) ? error.code : "CONNECT_FAILED",
    message: errorText(error).replace(/^\[test-support\] /, ""),
  };
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

/** The supervisor process: prints its URL as the first line of stdout, then serves until told to stop. */
export async function runSupervisor(): Promise<void> {
  const supervisor = new Supervisor(process.env);
  const url = await supervisor.listen();
  process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
  const stop = () => {
    supervisor.stop().finally(() => process.exit(0));
  };
  // Whoever started us holds our stdin: when it closes (it exited, was killed, or is done), we stop too.
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stop);
}
