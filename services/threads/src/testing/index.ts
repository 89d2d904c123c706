import {
  type Client,
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type ServiceImpl,
  type Transport,
} from "@connectrpc/connect";
import { type PlatformClient, platformService, recordCreated, requireHealthy } from "@org/platform/testing";
import { type Dependency, declareService, HandleGroup, http, postgres, redis } from "@org/test-support";
import { HttpResponse, http as route } from "msw";
import { ThreadsService } from "../gen/threads/v1/threads_pb.js";
import { completionResponse } from "../provider.js";
import { type Clock, createThreadsService, type ThreadsDependencies } from "../service.js";

/** A typed client of the threads service. */
export type ThreadsClient = Client<typeof ThreadsService>;

/** A clock that stands still until a test moves it. */
export interface ManualClock extends Clock {
  /** Sets the time, in milliseconds since the epoch. */
  set(ms: number): void;
  /** Moves the time forward by `ms`. */
  advance(ms: number): void;
}

/** A clock that starts at `start` (default 2025-01-01T00:00:00Z) and moves only when told to. */
export function createManualClock(start = Date.UTC(2025, 0, 1)): ManualClock {
  let now = start;
  return {
    now: () => now,
    set(ms) {
      now = ms;
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`a clock only moves forward; advance(${ms}) is not a duration`);
      now += ms;
    },
  };
}

/** What a suite of (or against) threads gets: threads, and the platform threads checks access with. */
export interface ThreadsTestClients {
  threads: ThreadsClient;
  platform: PlatformClient;
  /**
   * The clock the in-process service reads (repo and local mode), which stands still until the suite moves
   * it, so time-dependent behaviour is exact; undefined in cluster mode, where the service reads its own.
   */
  clock?: ManualClock;
}

/** The deterministic provider as MSW handlers, answering exactly as the provider process does. */
export const providerHandlers = [
  route.post("*/v1/chat/completions", async ({ request }) =>
    completionResponse((await request.json()) as Parameters<typeof completionResponse>[0]),
  ),
  route.get("*/healthz", () => HttpResponse.text("ok")),
];

/** Deletes the given threads (id → creator) through the service; ones already gone are fine. */
export async function deleteThreads(client: ThreadsClient, threads: Map<string, string>): Promise<void> {
  for (const [threadId, creator] of threads) {
    try {
      await client.deleteThread({ threadId, userId: creator });
    } catch (error) {
      const code = ConnectError.from(error).code;
      if (code !== Code.NotFound && code !== Code.PermissionDenied) throw error;
    }
  }
  threads.clear();
}

export const threadsMigrations = new URL("../../migrations/", import.meta.url);

/**
 * A router transport running the threads handlers in-process, with per-method overrides; without `deps`
 * only the overrides answer and any other method fails with Unimplemented, naming it.
 */
export function createThreadsTransport(
  deps: ThreadsDependencies | undefined,
  overrides: Partial<ServiceImpl<typeof ThreadsService>> = {},
): Transport {
  const handlers = deps ? { ...createThreadsService(deps), ...overrides } : overrides;
  return createRouterTransport(({ service }) => service(ThreadsService, handlers));
}

/**
 * Threads as a dependency: in repo/local its handlers run in-process on doubles of Postgres, Redis and
 * the provider, calling an in-process platform (the same one the suite gets); in cluster, gRPC clients
 * reach the running services at THREADS_GRPC_URL and PLATFORM_GRPC_URL.
 */
export function threadsService(
  options: { rateLimitPerMinute?: number } = {},
): Dependency<ThreadsTestClients> {
  const urlEnv = "THREADS_GRPC_URL";
  const platform = platformService();
  const parts = {
    db: postgres({ migrations: threadsMigrations, urlEnv: "THREADS_DATABASE_URL" }),
    cache: redis({ urlEnv: "REDIS_URL" }),
    llm: http({ baseUrlEnv: "LLM_BASE_URL", handlers: providerHandlers }),
  };
  return {
    kind: "grpc:threads",
    variables: [urlEnv, ...platform.variables],
    // Local mode: the run's first environment may start the engines.
    startTimeoutMs: 60_000,
    describeTarget: (env) => `${env[urlEnv] ?? ""} (platform ${env.PLATFORM_GRPC_URL ?? ""})`,
    async double(context) {
      const group = new HandleGroup();
      return group.build(async () => {
        const platformHandle = await group.part(platform, context);
        const db = await group.part(parts.db, context);
        const cache = await group.part(parts.cache, context);
        const llm = await group.part(parts.llm, context);
        const clock = createManualClock();
        const transport = createThreadsTransport({
          db: db.client,
          cache: cache.client,
          platform: platformHandle.client,
          llmFetch: llm.client.fetch,
          rateLimitPerMinute: options.rateLimitPerMinute,
          clock,
        });
        return {
          client: {
            threads: createClient(ThreadsService, transport),
            platform: platformHandle.client,
            clock,
          },
          implementation: "router-transport",
          target: "in-process",
          // Every test starts at the same instant, whatever the previous one did with the clock.
          reset: async () => {
            clock.set(createManualClock().now());
            await group.reset();
          },
          close: () => group.close(),
        };
      });
    },
    async live(context) {
      const threadsUrl = context.env[urlEnv] ?? "";
      await requireHealthy("threads", threadsUrl, urlEnv, context.connectTimeoutMs);
      const platformHandle = await platform.live(context);
      // Delete what this suite created in the shared services: its threads, then its tenants.
      const created = new Map<string, string>();
      const track = recordCreated(
        "CreateThread",
        (request: { userId: string }, response: { thread?: { id: string } }) =>
          response.thread ? [response.thread.id, request.userId] : undefined,
        created,
      );
      // The gRPC transport (Node's HTTP/2 stack) loads only when a suite reaches the running service.
      const { createGrpcTransport } = await import("@connectrpc/connect-node");
      const threads = createClient(
        ThreadsService,
        createGrpcTransport({ baseUrl: threadsUrl, interceptors: [track] }),
      );
      const cleanUp = async () => {
        await deleteThreads(threads, created);
        await platformHandle.reset();
      };
      return {
        client: { threads, platform: platformHandle.client },
        implementation: "grpc",
        target: threadsUrl,
        reset: cleanUp,
        close: cleanUp,
      };
    },
  };
}

/** What the threads suites depend on, for doctor and the generated mode matrix. */
export const threadsDeclaration = declareService("threads", {
  db: postgres({ migrations: threadsMigrations, urlEnv: "THREADS_DATABASE_URL" }),
  cache: redis({ urlEnv: "REDIS_URL" }),
  llm: http({ baseUrlEnv: "LLM_BASE_URL", handlers: providerHandlers }),
  platform: platformService(),
  threads: threadsService(),
});
