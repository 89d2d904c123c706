import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.js";

// The fault harness is test infrastructure; these prove it injects each fault it claims to.
let echo: Server;
let echoPort: number;
beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => echo.close(() => resolve())));

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/**
 * What the socket receives within `ms`, or "closed"/"reset" if it ends first. With `until`, it returns as
 * soon as that much has arrived: positive cases wait generously (a loaded CI machine is slow) but not idly.
 */
function receive(socket: Socket, ms: number, until?: string): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const done = (result: string) => {
      clearTimeout(timer);
      socket.removeAllListeners("data");
      resolve(result);
    };
    const timer = setTimeout(() => done(data), ms);
    socket.on("data", (chunk) => {
      data += chunk.toString();
      if (until !== undefined && data.length >= until.length) done(data);
    });
    socket.once("error", (error: NodeJS.ErrnoException) =>
      done(error.code === "ECONNRESET" ? "reset" : "error"),
    );
    socket.once("close", () => done(data || "closed"));
  });
}

async function withProxy(test: (proxy: FaultProxy) => Promise<void>) {
  const proxy = await startFaultProxy(echoPort);
  try {
    await test(proxy);
  } finally {
    await proxy.close();
  }
}

describe("the fault proxy", () => {
  it("forwards both ways when passing", () =>
    withProxy(async (proxy) => {
      const socket = await connect(proxy.port);
      socket.write("ping");
      expect(await receive(socket, 10_000, "ping")).toBe("ping");
      expect(proxy.accepted).toBe(1);
      socket.destroy();
    }));

  it("stalls: holds bytes until the fault is lifted, then delivers them", () =>
    withProxy(async (proxy) => {
      const socket = await connect(proxy.port);
      proxy.set({ kind: "stall" });
      socket.write("held");
      expect(await receive(socket, 200)).toBe("");
      proxy.set({ kind: "pass" });
      expect(await receive(socket, 10_000, "held")).toBe("held");
      socket.destroy();
    }));

  it("refuses: resets new connections and cuts open ones", () =>
    withProxy(async (proxy) => {
      const open = await connect(proxy.port);
      const cut = receive(open, 10_000);
      proxy.set({ kind: "refuse" });
      expect(["reset", "closed"]).toContain(await cut);
      // The reset can arrive before or after the client sees its connection established.
      const next = await connect(proxy.port).then(
        (socket) => receive(socket, 10_000),
        (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" ? "reset" : String(error.code)),
      );
      expect(["reset", "closed"]).toContain(next);
      expect(proxy.open).toBe(0);
    }));

  it("delays every chunk", () =>
    withProxy(async (proxy) => {
      proxy.set({ kind: "delay", ms: 300 });
      const socket = await connect(proxy.port);
      socket.write("slow");
      expect(await receive(socket, 100)).toBe("");
      expect(await receive(socket, 10_000, "slow")).toBe("slow");
      socket.destroy();
    }));

  it("cuts open connections and keeps accepting new ones", () =>
    withProxy(async (proxy) => {
      const first = await connect(proxy.port);
      const ended = receive(first, 10_000);
      proxy.cut();
      expect(["reset", "closed"]).toContain(await ended);
      const second = await connect(proxy.port);
      second.write("again");
      expect(await receive(second, 10_000, "again")).toBe("again");
      second.destroy();
    }));
});
