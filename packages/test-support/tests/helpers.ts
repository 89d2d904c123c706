// Test helpers for this package's own tests; not exported and not part of the public API.
import { createServer, type Server, type Socket } from "node:net";
import type { Dependency, DependencyContext, DependencyHandle } from "../src/dependency.js";
import type { TelemetryEvent, TelemetrySink } from "../src/telemetry.js";

/** A dependency that records which builder ran and hands out a plain object. */
export function fakeDependency(
  options: {
    variables?: string[];
    live?: (context: DependencyContext) => Promise<void>;
    reset?: () => Promise<void>;
    close?: () => Promise<void>;
  } = {},
) {
  const calls: string[] = [];
  const handle = (implementation: string): DependencyHandle<{ implementation: string }> => ({
    client: { implementation },
    implementation,
    target: implementation === "fake-live" ? "fake://live" : "in-process",
    reset: async () => {
      calls.push(`reset:${implementation}`);
      await options.reset?.();
    },
    close: async () => {
      calls.push(`close:${implementation}`);
      await options.close?.();
    },
  });
  const dependency: Dependency<{ implementation: string }> = {
    kind: "fake",
    variables: options.variables ?? [],
    describeTarget: () => "fake://live",
    async double() {
      calls.push("double");
      return handle("fake-double");
    },
    async live(context) {
      calls.push("live");
      await options.live?.(context);
      return handle("fake-live");
    },
  };
  return { dependency, calls };
}

/** A telemetry sink that keeps events in memory. */
export function memoryTelemetry(): TelemetrySink & { events: TelemetryEvent[] } {
  const events: TelemetryEvent[] = [];
  return { events, emit: (event) => events.push(event) };
}

/** A TCP server on 127.0.0.1 that accepts connections and never answers, to test time bounds. */
export async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `action` and returns what it threw (fails when it does not throw). */
export async function caught(action: () => Promise<unknown>): Promise<Error> {
  try {
    await action();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the action to throw, but it returned");
}
