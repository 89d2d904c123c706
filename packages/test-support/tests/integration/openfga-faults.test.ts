import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { OpenFgaClient } from "@openfga/sdk";
import { afterEach, expect, it } from "vitest";
import { createIntegrationEnvironment, isTestSupportError, openfga } from "../../src/index.js";
import { describeInModes } from "../../src/vitest/index.js";

// A real OpenFGA behind a loopback HTTP proxy that can stop answering: every request the handed-out client
// makes, and each reset and close, must end within its bound instead of hanging the run.
const model = new URL("../fixtures/authz.fga", import.meta.url);

interface StallingProxy {
  url: string;
  /** Requests for which this returns true get no answer, ever. */
  stall: (request: IncomingMessage) => boolean;
  close(): Promise<void>;
}

async function stallingProxy(target: string): Promise<StallingProxy> {
  const sockets = new Set<Socket>();
  const proxy: StallingProxy = { url: "", stall: () => false, close: async () => {} };
  const server: Server = createServer(async (request, response) => {
    if (proxy.stall(request)) return;
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const answer = await fetch(`${target}${request.url}`, {
      method: request.method,
      headers: { "content-type": "application/json" },
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    response.writeHead(answer.status, {
      "content-type": answer.headers.get("content-type") ?? "application/json",
    });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}

const proxies: StallingProxy[] = [];
const stores: string[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
  const url = process.env.FGA_API_URL;
  for (const id of stores.splice(0)) {
    if (url) await new OpenFgaClient({ apiUrl: url, storeId: id }).deleteStore().catch(() => {});
  }
});

function realUrl(): string {
  const url = process.env.FGA_API_URL;
  if (!url) throw new Error("FGA_API_URL is not set; the cluster lane sets it.");
  return url.replace(/\/+$/, "");
}

describeInModes(["cluster"], "openfga against a server that stops answering", () => {
  it("requests, reset and close each fail within the operation bound, naming openfga", {
    timeout: 30_000,
  }, async () => {
    const proxy = await stallingProxy(realUrl());
    proxies.push(proxy);
    const environment = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model }) },
      env: { ...process.env, FGA_API_URL: proxy.url },
      operationTimeoutMs: 500,
    });
    const fga = environment.clients.authz;
    if (fga.storeId) stores.push(fga.storeId);
    await fga.writeTuples([{ user: "user:a", relation: "owner", object: "document:x" }]);
    proxy.stall = () => true;
    const check = await fga.check({ user: "user:a", relation: "owner", object: "document:x" }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(check?.message).toMatch(/timeout of 500ms exceeded/);
    const reset = await environment.reset().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isTestSupportError(reset)).toBe(true);
    expect(reset?.message).toContain('dependency "authz" (openfga) did not finish its reset within 500 ms');
    const close = await environment.close().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(close?.message).toContain('dependency "authz" (openfga) did not finish its close within 500 ms');
  });

  it("a model write that never ends fails with the set-up bound, after connecting", {
    timeout: 30_000,
  }, async () => {
    const proxy = await stallingProxy(realUrl());
    proxies.push(proxy);
    proxy.stall = (request) =>
      request.method === "POST" && (request.url ?? "").endsWith("/authorization-models");
    const error = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model }) },
      env: { ...process.env, FGA_API_URL: proxy.url },
      connectTimeoutMs: 2000,
      setupTimeoutMs: 500,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isTestSupportError(error, "SETUP_TIMEOUT")).toBe(true);
    expect(error?.message).toContain('dependency "authz" (openfga) connected to');
    expect(error?.message).toContain("within 500 ms");
  });

  it("a server that never answers fails with the connect bound", { timeout: 30_000 }, async () => {
    const proxy = await stallingProxy(realUrl());
    proxies.push(proxy);
    proxy.stall = () => true;
    const error = await createIntegrationEnvironment({
      service: "test-support",
      dependencies: { authz: openfga({ model }) },
      env: { ...process.env, FGA_API_URL: proxy.url },
      connectTimeoutMs: 500,
    }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(isTestSupportError(error, "CONNECT_TIMEOUT")).toBe(true);
    expect(error?.message).toContain('dependency "authz" (openfga) did not answer within 500 ms');
  });
});
