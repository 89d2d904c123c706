import { AsyncLocalStorage } from "node:async_hooks";
import type { Dependency, DependencyContext, DependencyHandle } from "../dependency.js";
import {
  traceHttpUpstream,
  traceInstance,
  tracePostgresPool,
  traceRedisClient,
  traceRpcClient,
  traceTemporalClient,
} from "./clients.js";

/** How a kind's client is traced, given the channel its calls are filed under. */
export type ClientTracer<C> = (client: C, channel: string, kind: string) => C;

/** The dependency being built, so a dependency built inside another (a service's database) is its part. */
interface BuildScope {
  channel: string;
  parts: Map<string, number>;
}
const building = new AsyncLocalStorage<BuildScope>();
const TRACED = Symbol.for("@org/test-support/traced-dependency");

/** The tracer of each kind this package builds; anything else (a service over Connect) is an RPC client. */
function tracerOf(kind: string): ClientTracer<unknown> {
  switch (kind) {
    case "postgres":
      return (client, channel) => tracePostgresPool(client, channel);
    case "redis":
      return (client, channel) => traceRedisClient(client, channel);
    case "temporal":
      return (client, channel) => traceTemporalClient(client as { workflow: object }, channel);
    case "openfga":
      // In place: the OpenFGA dependency keys what it knows about a client by the client itself.
      return (client, channel, k) => traceInstance(client as object, channel, k);
    case "http":
      return (client, channel) =>
        traceHttpUpstream(client as { baseUrl: string; fetch: typeof fetch }, channel);
    default:
      return (client, channel, k) =>
        typeof client === "object" && client !== null ? traceRpcClient(client, channel, k) : client;
  }
}

/**
 * The same dependency, with its client traced in every mode. Its calls are filed under the name the
 * environment gives it; one built while another is being built is a part of that one, filed as
 * "<outer>>kind" (then "#2", "#3" for a second part of the same kind), so a service's in-process
 * database and the suite's own never mix. Idempotent.
 */
export function tracedDependency<C>(dependency: Dependency<C>): Dependency<C> {
  if ((dependency as { [TRACED]?: true })[TRACED]) return dependency;
  const trace = tracerOf(dependency.kind) as ClientTracer<C>;
  const wrap =
    (build: (context: DependencyContext) => Promise<DependencyHandle<C>>) =>
    async (context: DependencyContext): Promise<DependencyHandle<C>> => {
      const outer = building.getStore();
      let channel = context.name;
      if (outer) {
        const base = `${outer.channel}>${dependency.kind}`;
        const n = (outer.parts.get(base) ?? 0) + 1;
        outer.parts.set(base, n);
        channel = n === 1 ? base : `${base}#${n}`;
      }
      const handle = await building.run({ channel, parts: new Map() }, () => build(context));
      return {
        client: trace(handle.client, channel, dependency.kind),
        implementation: handle.implementation,
        target: handle.target,
        reset: () => handle.reset(),
        close: () => handle.close(),
      };
    };
  // Every other property (a builder's extras) is kept as it is.
  const traced: Dependency<C> = {
    ...dependency,
    double: wrap((context) => dependency.double(context)),
    ...(dependency.local
      ? {
          local: wrap((context) =>
            (dependency.local as NonNullable<Dependency<C>["local"]>).call(dependency, context),
          ),
        }
      : {}),
    live: wrap((context) => dependency.live(context)),
  };
  (traced as { [TRACED]?: true })[TRACED] = true;
  return traced;
}
