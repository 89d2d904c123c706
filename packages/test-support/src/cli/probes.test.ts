import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttp2Server, type Http2Server } from "node:http2";
import { createServer as createTcpServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { closedPort } from "../../tests/helpers.js";
import { probeDependency, probesFor, probeVariable } from "./probes.js";

const servers: { close(callback?: () => void): unknown }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function listen<S extends Server | Http2Server | ReturnType<typeof createTcpServer>>(
  server: S,
): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

/** An HTTP/1.1 server answering every request with `status` and `body`. */
const http = (status: number, body: string) =>
  listen(createHttpServer((_, response) => response.writeHead(status).end(body)));

describe("probesFor", () => {
  it("checks each variable by what it is: a URL by its protocol, a namespace by name on its server", () => {
    expect(probesFor("temporal", ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"])).toEqual([
      { variable: "TEMPORAL_ADDRESS", probe: "temporal" },
      { variable: "TEMPORAL_NAMESPACE", probe: "temporal-namespace" },
    ]);
    expect(probesFor("postgres", ["PLATFORM_DATABASE_URL"])).toEqual([
      { variable: "PLATFORM_DATABASE_URL", probe: "postgres" },
    ]);
    expect(probesFor("redis", ["REDIS_URL"])[0]?.probe).toBe("redis");
    expect(probesFor("openfga", ["FGA_API_URL"])[0]?.probe).toBe("openfga");
    expect(probesFor("http", ["LLM_BASE_URL"])[0]?.probe).toBe("http");
    expect(probesFor("grpc:threads", ["THREADS_GRPC_URL", "PLATFORM_GRPC_URL"]).map((p) => p.probe)).toEqual([
      "service",
      "service",
    ]);
    expect(probesFor("something-new", ["X_URL"])[0]?.probe).toBe("tcp");
  });
});

describe("probeVariable", () => {
  it("accepts OpenFGA only when /healthz says SERVING, and gives the start command otherwise", async () => {
    const fga = await http(200, '{"status":"SERVING"}');
    const ok = await probeVariable(
      { variable: "FGA_API_URL", probe: "openfga" },
      { FGA_API_URL: `http://127.0.0.1:${fga}` },
    );
    expect(ok.ok).toBe(true);
    expect(ok.detail).toMatch(/^OpenFGA \/healthz is SERVING/);

    const other = await http(404, "not found");
    const wrong = await probeVariable(
      { variable: "FGA_API_URL", probe: "openfga" },
      { FGA_API_URL: `http://127.0.0.1:${other}` },
    );
    expect(wrong.ok).toBe(false);
    expect(wrong.detail).toContain("answered HTTP 404");
    expect(wrong.fix).toContain("point FGA_API_URL at OpenFGA's HTTP API");

    const closed = await closedPort();
    const refused = await probeVariable(
      { variable: "FGA_API_URL", probe: "openfga" },
      { FGA_API_URL: `http://127.0.0.1:${closed}` },
    );
    expect(refused).toMatchObject({ ok: false, detail: "does not answer as OpenFGA (ECONNREFUSED)" });
    expect(refused.fix).toContain(
      `OPENFGA_HTTP_PORT=${closed} OPENFGA_GRPC_PORT=${closed + 1} bash scripts/openfga-server.sh start`,
    );
  });

  it("asks a service's /healthz over HTTP/2 and names the bring-up that starts it", async () => {
    const healthy = await listen(
      createHttp2Server((request, response) =>
        response.writeHead(request.url === "/healthz" ? 200 : 404).end(),
      ),
    );
    const ok = await probeVariable(
      { variable: "THREADS_GRPC_URL", probe: "service" },
      { THREADS_GRPC_URL: `http://127.0.0.1:${healthy}` },
    );
    expect(ok.ok).toBe(true);
    expect(ok.detail).toMatch(/^\/healthz answers 200 over HTTP\/2/);

    const sick = await listen(createHttp2Server((_, response) => response.writeHead(503).end()));
    const unhealthy = await probeVariable(
      { variable: "THREADS_GRPC_URL", probe: "service" },
      { THREADS_GRPC_URL: `http://127.0.0.1:${sick}` },
    );
    expect(unhealthy).toMatchObject({ ok: false, detail: "/healthz answered HTTP 503" });
    expect(unhealthy.fix).toBe(
      "start it with what it needs: bash scripts/cluster-up.sh --for @org/threads > .env.integration",
    );

    const down = await probeVariable(
      { variable: "PLATFORM_GRPC_URL", probe: "service" },
      { PLATFORM_GRPC_URL: `http://127.0.0.1:${await closedPort()}` },
    );
    expect(down).toMatchObject({ ok: false, detail: "/healthz does not answer (ECONNREFUSED)" });
    expect(down.fix).toContain("--for @org/platform");
  });

  it("sends Redis a PING and expects PONG", async () => {
    const redis = await listen(
      createTcpServer((socket) =>
        socket.on("data", (data) => socket.write(/PING/i.test(data.toString()) ? "+PONG\r\n" : "+OK\r\n")),
      ),
    );
    const ok = await probeVariable(
      { variable: "REDIS_URL", probe: "redis" },
      { REDIS_URL: `redis://127.0.0.1:${redis}` },
    );
    expect(ok.ok).toBe(true);
    expect(ok.detail).toMatch(/^Redis answers PING in/);

    const closed = await closedPort();
    const down = await probeVariable(
      { variable: "REDIS_URL", probe: "redis" },
      { REDIS_URL: `redis://127.0.0.1:${closed}` },
    );
    expect(down).toMatchObject({ ok: false, detail: "does not answer as Redis (ECONNREFUSED)" });
    expect(down.fix).toContain(`redis-server --port ${closed} --bind 127.0.0.1`);
  });

  it("says how to start PostgreSQL when nothing answers there", async () => {
    const closed = await closedPort();
    const down = await probeVariable(
      { variable: "PLATFORM_DATABASE_URL", probe: "postgres" },
      { PLATFORM_DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/integration_test` },
    );
    expect(down).toMatchObject({ ok: false, detail: "does not answer as PostgreSQL (ECONNREFUSED)" });
    expect(down.fix).toBe(
      `start PostgreSQL on 127.0.0.1:${closed}, or point PLATFORM_DATABASE_URL at a running server`,
    );
  });

  // Loading Temporal's client and its gRPC stack is a process-level cost, beyond a unit test's 5 s on a busy machine.
  it("refuses a Temporal address that is not host:port, and gives the start command when nothing answers", {
    timeout: 30_000,
  }, async () => {
    const url = await probeVariable(
      { variable: "TEMPORAL_ADDRESS", probe: "temporal" },
      { TEMPORAL_ADDRESS: "http://127.0.0.1:7233" },
    );
    expect(url).toMatchObject({ ok: false, detail: "is not host:port" });

    const closed = await closedPort();
    const down = await probeVariable(
      { variable: "TEMPORAL_ADDRESS", probe: "temporal" },
      { TEMPORAL_ADDRESS: `127.0.0.1:${closed}` },
      { timeoutMs: 1500 },
    );
    expect(down.ok).toBe(false);
    expect(down.detail).toMatch(/^does not answer as Temporal/);
    expect(down.fix).toContain(`TEMPORAL_PORT=${closed} bash scripts/temporal-server.sh start`);
  });

  it("never dials a namespace: without its server's address it says so", async () => {
    const result = await probeVariable(
      { variable: "TEMPORAL_NAMESPACE", probe: "temporal-namespace" },
      { TEMPORAL_NAMESPACE: "integration" },
    );
    expect(result).toMatchObject({
      ok: false,
      detail: "cannot be looked up: the Temporal address is not set",
    });
  });

  it("takes any HTTP answer from a plain upstream, and reports a missing variable as missing", async () => {
    const llm = await http(404, "");
    const ok = await probeVariable(
      { variable: "LLM_BASE_URL", probe: "http" },
      { LLM_BASE_URL: `http://127.0.0.1:${llm}` },
    );
    expect(ok.ok).toBe(true);
    expect(ok.detail).toMatch(/^answers HTTP 404 in/);
    expect(await probeVariable({ variable: "LLM_BASE_URL", probe: "http" }, {})).toEqual({
      ok: false,
      detail: "missing",
    });
  });
});

describe("probeDependency", () => {
  it("looks a Temporal namespace up on the dependency's own address", { timeout: 30_000 }, async () => {
    const closed = await closedPort();
    const results = await probeDependency(
      "temporal",
      ["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"],
      { TEMPORAL_ADDRESS: `127.0.0.1:${closed}`, TEMPORAL_NAMESPACE: "integration" },
      1500,
    );
    expect(results.map((r) => r.variable)).toEqual(["TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"]);
    expect(results[1]?.result.ok).toBe(false);
    expect(results[1]?.result.detail).toContain(`cannot be looked up on 127.0.0.1:${closed}`);
  });
});
