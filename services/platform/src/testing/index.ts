import http2 from "node:http2";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type Interceptor,
  type ServiceImpl,
  type Transport,
} from "@connectrpc/connect";
import {
  type Dependency,
  declareService,
  HandleGroup,
  openfga,
  postgres,
  TestSupportError,
} from "@org/test-support";
import { PlatformService } from "../gen/platform/v1/platform_pb.js";
import { platformMigrations } from "../migrate.js";
import { createPlatformService, type PlatformDependencies } from "../service.js";

/** GET /healthz over cleartext HTTP/2 (the service speaks nothing else); resolves on 200. */
export function probeHealth(baseUrl: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(baseUrl);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error?: Error) => {
      clearTimeout(timer);
      session.close();
      if (error) reject(error);
      else resolve();
    };
    session.on("error", finish);
    const request = session.request({ ":path": "/healthz" });
    request.on("response", (headers) => {
      const status = Number(headers[":status"]);
      finish(status === 200 ? undefined : new Error(`HTTP ${status}`));
    });
    request.on("error", finish);
    request.end();
  });
}

/**
 * An interceptor that remembers what a suite creates in a shared running service: after each successful
 * unary `method`, `extract` names the created thing and who may delete it, and it goes into `into`.
 */
export function recordCreated<Req, Res>(
  method: string,
  extract: (request: Req, response: Res) => [id: string, owner: string] | undefined,
  into: Map<string, string>,
): Interceptor {
  return (next) => async (request) => {
    const response = await next(request);
    if (request.method.name === method && !response.stream) {
      const entry = extract(request.message as unknown as Req, response.message as unknown as Res);
      if (entry) into.set(...entry);
    }
    return response;
  };
}

/** Deletes the given tenants (id → an admin) through the service; ones already gone are fine. */
export async function deleteTenants(client: PlatformClient, tenants: Map<string, string>): Promise<void> {
  for (const [tenantId, admin] of tenants) {
    try {
      await client.deleteTenant({ tenantId, userId: admin });
    } catch (error) {
      if (ConnectError.from(error).code !== Code.NotFound) throw error;
    }
  }
  tenants.clear();
}

/** Fails set-up with the service's name, URL and the fix when its /healthz does not answer. */
export async function requireHealthy(
  service: string,
  baseUrl: string,
  urlEnv: string,
  timeoutMs: number,
): Promise<void> {
  try {
    await probeHealth(baseUrl, timeoutMs);
  } catch (error) {
    throw new TestSupportError(
      "CONNECT_FAILED",
      `the ${service} service at ${baseUrl} did not answer /healthz: ${(error as Error).message}. Start it with everything it needs (bash scripts/cluster-up.sh --for @org/${service} > .env.integration, then --vars-file .env.integration), or point ${urlEnv} at a running one.`,
    );
  }
}

/** The platform's own dependencies, as its consumers' environments build them. */
export const platformModel = new URL("../../authz.fga", import.meta.url);
export const platformDatabase = () =>
  postgres({ migrations: platformMigrations, urlEnv: "PLATFORM_DATABASE_URL" });
export const platformAuthz = () => openfga({ model: platformModel });

/** A typed client of the platform service. */
export type PlatformClient = Client<typeof PlatformService>;

/**
 * A Connect router transport running the platform's real handlers in-process on the given clients
 * (doubles in a test), with per-method overrides. Without `deps`, only the overrides answer and any
 * other method fails with Unimplemented, naming it.
 */
export function createPlatformTransport(
  deps: PlatformDependencies | undefined,
  overrides: Partial<ServiceImpl<typeof PlatformService>> = {},
): Transport {
  const handlers = deps ? { ...createPlatformService(deps), ...overrides } : overrides;
  return createRouterTransport(({ service }) => service(PlatformService, handlers));
}

/**
 * The platform as a dependency of a suite: its handlers run in-process on doubles of its database and
 * OpenFGA in repo mode, on the run's PostgreSQL and OpenFGA in local mode; in cluster a gRPC client
 * reaches the running service at PLATFORM_GRPC_URL.
 */
export function platformService(options: { urlEnv?: string } = {}): Dependency<PlatformClient> {
  const urlEnv = options.urlEnv ?? "PLATFORM_GRPC_URL";
  const db = platformDatabase();
  const authz = platformAuthz();
  return {
    kind: "grpc:platform",
    variables: [urlEnv],
    // Local mode: the run's first environment may start the engines.
    startTimeoutMs: 60_000,
    describeTarget: (env) => env[urlEnv] ?? "",
    async double(context) {
      const group = new HandleGroup();
      return group.build(async () => {
        const database = await group.part(db, context);
        const fga = await group.part(authz, context);
        const transport = createPlatformTransport({ db: database.client, authz: fga.client });
        return {
          client: createClient(PlatformService, transport),
          implementation: "router-transport",
          target: "in-process",
          reset: () => group.reset(),
          close: () => group.close(),
        };
      });
    },
    async live(context) {
      const baseUrl = context.env[urlEnv] ?? "";
      await requireHealthy("platform", baseUrl, urlEnv, context.connectTimeoutMs);
      // The running service's data is shared: remember the tenants this suite creates, and delete only those.
      const created = new Map<string, string>();
      const track = recordCreated(
        "CreateTenant",
        (request: { ownerUserId: string }, response: { tenant?: { id: string } }) =>
          response.tenant ? [response.tenant.id, request.ownerUserId] : undefined,
        created,
      );
      // The gRPC transport (Node's HTTP/2 stack) loads only when a suite reaches the running service.
      const { createGrpcTransport } = await import("@connectrpc/connect-node");
      const client = createClient(PlatformService, createGrpcTransport({ baseUrl, interceptors: [track] }));
      const cleanUp = () => deleteTenants(client, created);
      return { client, implementation: "grpc", target: baseUrl, reset: cleanUp, close: cleanUp };
    },
  };
}

/** What the platform's suites depend on, for doctor and the generated mode matrix. */
export const platformDeclaration = declareService("platform", {
  db: platformDatabase(),
  authz: platformAuthz(),
  platform: platformService(),
});
