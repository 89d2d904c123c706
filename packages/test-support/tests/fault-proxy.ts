// A loopback TCP proxy that injects faults between a client and a real server, for this package's own
// reliability tests. No root and no external tools: it is a net.Server on 127.0.0.1 that pipes each
// connection to the upstream port, unless told to misbehave.
import { createConnection, createServer, type Server, type Socket } from "node:net";

/** How the proxy treats connections. */
export type FaultMode =
  /** Forward bytes both ways. */
  | { kind: "pass" }
  /** Accept, then reset at once (a server that is down behind a load balancer). */
  | { kind: "refuse" }
  /** Accept and hold: forward nothing in either direction (a server that stopped answering). */
  | { kind: "stall" }
  /** Forward, holding every chunk for `ms` first (a slow network). */
  | { kind: "delay"; ms: number };

/** A running fault proxy. */
export interface FaultProxy {
  /** The port clients connect to, on 127.0.0.1. */
  readonly port: number;
  /** Changes how new and current connections are treated. */
  set(mode: FaultMode): void;
  /** Destroys every open connection (a network cut); new ones follow the current mode. */
  cut(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  held: Array<{ to: "client" | "upstream"; chunk: Buffer }>;
}

/** Starts a proxy on a free loopback port in front of 127.0.0.1:`upstreamPort`. */
export async function startFaultProxy(
  upstreamPort: number,
  initial: FaultMode = { kind: "pass" },
): Promise<FaultProxy> {
  let mode: FaultMode = initial;
  let accepted = 0;
  const pairs = new Set<Pair>();

  const deliver = (pair: Pair, to: "client" | "upstream", chunk: Buffer) => {
    const target = to === "client" ? pair.client : pair.upstream;
    if (!target || target.destroyed) return;
    if (mode.kind === "stall") {
      pair.held.push({ to, chunk });
      return;
    }
    if (mode.kind === "delay") {
      setTimeout(() => {
        if (!target.destroyed) target.write(chunk);
      }, mode.ms);
      return;
    }
    target.write(chunk);
  };

  const flush = (pair: Pair) => {
    const held = pair.held.splice(0);
    for (const { to, chunk } of held) deliver(pair, to, chunk);
  };

  const server: Server = createServer((client) => {
    accepted++;
    if (mode.kind === "refuse") {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, held: [] };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", end);
    client.on("close", end);
    client.on("data", (chunk) => deliver(pair, "upstream", chunk));
    const upstream = createConnection({ host: "127.0.0.1", port: upstreamPort });
    pair.upstream = upstream;
    upstream.on("error", end);
    upstream.on("close", end);
    upstream.on("data", (chunk) => deliver(pair, "client", chunk));
    upstream.on("connect", () => flush(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;

  const cut = () => {
    for (const pair of [...pairs]) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
      pairs.delete(pair);
    }
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    set(next) {
      mode = next;
      if (next.kind === "refuse") cut();
      else if (next.kind !== "stall") for (const pair of pairs) flush(pair);
    },
    cut,
    close() {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
