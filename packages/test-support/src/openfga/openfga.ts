import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { OpenFgaClient, WriteAuthorizationModelRequest } from "@openfga/sdk";
import type { AxiosInstance } from "axios";
import type { Dependency, DependencyContext, DependencyHandle, EnvironmentVariables } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { lazyModule } from "../lazy-module.js";
import { type Heartbeat, leaseMsFrom, leaseText, startHeartbeat } from "../lease/lease.js";
import { registerStoreLease, type StoreLease } from "../lease/openfga-lease.js";
import { localEngine } from "../local/client.js";
import { redactTarget } from "../redact.js";
import { tracedDependency } from "../trace/dependency.js";
import { readUrlVariable } from "../variables.js";
import type { TupleKey } from "./memory/tuples.js";

/** Options of the openfga dependency. */
export interface OpenFgaOptions {
  /** The model: a `.fga` DSL file or a `.json` model (URL or path), or a JSON model object. */
  model: URL | string | WriteAuthorizationModelRequest;
  /** The variable with the API URL in cluster mode (default "FGA_API_URL"). */
  apiUrlEnv?: string;
  /** An optional variable with an API token (default "FGA_API_TOKEN"). */
  tokenEnv?: string;
  /** An optional variable naming an existing store to use instead of creating one (default "FGA_STORE_ID"). */
  storeIdEnv?: string;
}

/** The client every mode hands out: the real SDK client, on a store with the model written. */
export type OpenFgaDependencyClient = OpenFgaClient;

/**
 * What this environment created, so cleanup touches nothing else: per store, the tuples whose write created
 * them (not those that already existed and were written again with on_duplicate "ignore"), and the
 * scratch stores it made.
 */
interface Ledger {
  created: Map<string, Map<string, TupleKey>>;
  scratchStores: Set<string>;
}

interface ClientWiring {
  axios: AxiosInstance;
  apiUrl: string;
  token: string | undefined;
  ledger: Ledger;
  /** On a real server: the lease of every store the environment created, so a sweep removes them after a crash. */
  leases?: StoreLeases;
}

/** The leases of the stores one environment created on a real server. */
interface StoreLeases {
  readonly runId: string;
  readonly leaseMs: number;
  readonly timeoutMs: number;
  readonly held: Map<string, { lease: StoreLease; heartbeat: Heartbeat }>;
}

/** Registers a store the environment just created (the server chose its id, so it cannot be registered sooner). */
async function holdStore(wire: ClientWiring, storeId: string): Promise<void> {
  const leases = wire.leases;
  if (!leases) return;
  const lease = await registerStoreLease(
    { apiUrl: wire.apiUrl, token: wire.token, timeoutMs: leases.timeoutMs },
    storeId,
    leases.runId,
    leases.leaseMs,
  );
  leases.held.set(storeId, { lease, heartbeat: startHeartbeat(leases.leaseMs, () => lease.renew()) });
}

/** Gives up the lease of a store that is gone (its heartbeat stops at once; the tuple goes if the server answers). */
async function releaseStore(wire: ClientWiring, storeId: string): Promise<void> {
  const held = wire.leases?.held.get(storeId);
  if (!held) return;
  held.heartbeat.stop();
  wire.leases?.held.delete(storeId);
  await held.lease.release().catch(() => {});
}
// The SDK, axios and the in-memory server load when a suite first builds an openfga dependency.
const sdk = lazyModule("@openfga/sdk", () => import("@openfga/sdk"));

const wiring = new WeakMap<OpenFgaClient, ClientWiring>();
type SdkAxios = ConstructorParameters<typeof OpenFgaClient>[1];

function clientFor(wire: ClientWiring, storeId?: string, authorizationModelId?: string): OpenFgaClient {
  const { CredentialsMethod, OpenFgaClient } = sdk.get();
  const client = new OpenFgaClient(
    {
      apiUrl: wire.apiUrl,
      ...(storeId ? { storeId } : {}),
      ...(authorizationModelId ? { authorizationModelId } : {}),
      ...(wire.token
        ? { credentials: { method: CredentialsMethod.ApiToken, config: { token: wire.token } } }
        : {}),
      // No retries: a test sees the server's first answer, and a stalled server fails within one request's
      // time bound instead of two (the SDK retries network errors, timeouts included).
      retryParams: { maxRetry: 0 },
    },
    // The same axios 1.19 the SDK pins; only its CJS and ESM typings differ.
    wire.axios as unknown as SdkAxios,
  );
  wiring.set(client, wire);
  return client;
}

/**
 * A client on a new, empty store of the same server as `client` (the in-memory one in repo/local, the
 * real one in cluster). For suites that need stores of their own, such as conformance runs.
 */
export async function createStoreClient(client: OpenFgaClient, name: string): Promise<OpenFgaClient> {
  const wire = wiring.get(client);
  if (!wire) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      "createStoreClient needs a client handed out by the openfga() dependency.",
    );
  }
  await sdk.load();
  const { id } = await clientFor(wire).createStore({ name });
  // A scratch store belongs to the environment: close removes it if the suite has not (a sweep, if the
  // process dies first).
  wire.ledger.scratchStores.add(id);
  await holdStore(wire, id);
  return clientFor(wire, id);
}

/** Reads and transforms the model once: DSL through @openfga/syntax-transformer, JSON as is. */
async function loadModel(model: OpenFgaOptions["model"]): Promise<WriteAuthorizationModelRequest> {
  if (typeof model === "object" && !(model instanceof URL)) return model;
  const path = model instanceof URL ? fileURLToPath(model) : model;
  const text = await readFile(path, "utf8").catch((error: unknown) => {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `openfga model ${path} cannot be read (${errorText(error)}); pass openfga({ model: new URL("../authz.fga", import.meta.url) }).`,
    );
  });
  if (path.endsWith(".json")) {
    try {
      return JSON.parse(text) as WriteAuthorizationModelRequest;
    } catch (error) {
      throw new TestSupportError(
        "INVALID_OPTIONS",
        `openfga model ${path} is not valid JSON: ${errorText(error)}.`,
      );
    }
  }
  const { transformer } = await import("@openfga/syntax-transformer");
  try {
    return transformer.transformDSLToJSONObject(text) as unknown as WriteAuthorizationModelRequest;
  } catch (error) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      `openfga model ${path} is not valid OpenFGA DSL: ${errorText(error)}. Check it with \`fga model validate --file ${path}\`.`,
      { cause: error },
    );
  }
}

const tupleId = (key: TupleKey) => `${key.object}#${key.relation}@${key.user}`;
const STORE_PATH = /\/stores\/([^/]+)(?:\/([^/]+))?$/;

/** The store id and endpoint of a request URL (`/stores/{id}/write` → [id, "write"]). */
function storeRequest(url: string | undefined): [string, string] | undefined {
  if (!url) return undefined;
  // The base only resolves a relative URL; the path is what counts.
  const match = STORE_PATH.exec(new URL(url, "http://127.0.0.1").pathname);
  return match ? [match[1] ?? "", match[2] ?? ""] : undefined;
}

interface WriteBody {
  writes?: { tuple_keys?: TupleKey[]; on_duplicate?: string };
  deletes?: { tuple_keys?: TupleKey[] };
}
const bodyOf = (data: unknown) => (typeof data === "string" ? JSON.parse(data) : (data ?? {})) as WriteBody;

/**
 * Keeps the ledger of what the environment's clients create. A write with on_duplicate "ignore" succeeds
 * whether or not the tuple existed, so before it is sent each of its tuples is looked up: one that exists
 * already is not this environment's to delete. (Another writer racing on the same tuple of a shared store
 * between the look-up and the write could still be misattributed.)
 */
function keepLedger(wire: ClientWiring): void {
  const { axios: instance, ledger } = wire;
  const existedBefore = new WeakMap<object, Set<string>>();
  instance.interceptors.request.use(async (config) => {
    const target = storeRequest(config.url);
    if (config.method?.toLowerCase() !== "post" || target?.[1] !== "write") return config;
    const body = bodyOf(config.data);
    if (body.writes?.on_duplicate !== "ignore") return config;
    const base = config.url?.replace(/\/write$/, "/read") ?? "";
    const existing = new Set<string>();
    await Promise.all(
      (body.writes.tuple_keys ?? []).map(async (key) => {
        const answer = await instance.post<{ tuples?: unknown[] }>(
          base,
          { tuple_key: { user: key.user, relation: key.relation, object: key.object } },
          { headers: config.headers, timeout: config.timeout },
        );
        if ((answer.data.tuples ?? []).length > 0) existing.add(tupleId(key));
      }),
    );
    existedBefore.set(config, existing);
    return config;
  });
  instance.interceptors.response.use(async (response) => {
    const { method, url, data } = response.config;
    const target = storeRequest(url);
    const verb = method?.toLowerCase();
    if (verb === "delete" && target && !target[1]) {
      ledger.created.delete(target[0]);
      ledger.scratchStores.delete(target[0]);
      // A deleted store needs no lease.
      await releaseStore(wire, target[0]);
    }
    if (verb === "post" && target?.[1] === "write") {
      const [storeId] = target;
      const body = bodyOf(data);
      const existed = existedBefore.get(response.config) ?? new Set<string>();
      let created = ledger.created.get(storeId);
      if (!created) {
        created = new Map();
        ledger.created.set(storeId, created);
      }
      for (const key of body.deletes?.tuple_keys ?? []) created.delete(tupleId(key));
      for (const key of body.writes?.tuple_keys ?? []) {
        if (!existed.has(tupleId(key))) {
          created.set(tupleId(key), { user: key.user, relation: key.relation, object: key.object });
        }
      }
    }
    return response;
  });
}

/** Deletes the tuples this environment created in each store, in requests of 100 (the server's limit). */
async function deleteCreated(wire: ClientWiring): Promise<void> {
  const { ClientWriteRequestOnMissingDeletes } = sdk.get();
  for (const [storeId, created] of wire.ledger.created) {
    const keys = [...created.values()];
    const client = clientFor(wire, storeId);
    for (let i = 0; i < keys.length; i += 100) {
      await client.write(
        { deletes: keys.slice(i, i + 100) },
        { conflict: { onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore } },
      );
    }
    created.clear();
  }
}

/** Removes the scratch stores the suite made and did not remove itself. */
async function deleteScratchStores(wire: ClientWiring): Promise<void> {
  for (const storeId of [...wire.ledger.scratchStores]) {
    await clientFor(wire, storeId)
      .deleteStore()
      .catch((error: unknown) => {
        // Already gone is fine; anything else is worth reporting.
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      });
    wire.ledger.scratchStores.delete(storeId);
    wire.ledger.created.delete(storeId);
    await releaseStore(wire, storeId);
  }
}

/** A URL the OpenFGA SDK takes: it refuses any that is not already in its canonical form. */
function checkSdkUrl(raw: string, variable: string): void {
  let canonical: string;
  try {
    canonical = new URL(raw).href;
  } catch {
    return; // readUrlVariable has reported it.
  }
  if (raw === canonical || `${raw}/` === canonical) return;
  const url = new URL(raw);
  const fix = url.search || url.hash ? `${url.protocol}//${url.host}${url.pathname}` : canonical;
  // As written when there is nothing to hide, so the mistake is visible; redacted (and normalised) otherwise.
  const shown = redactTarget(raw) === canonical ? raw : redactTarget(raw);
  throw new TestSupportError(
    "INVALID_OPTIONS",
    `${variable} (${shown}) is not a URL the OpenFGA SDK accepts: it must be written in full, as ` +
      `scheme://host:port with an optional path and no query (the SDK answers only "FGA Error." otherwise). ` +
      `Set ${variable}=${redactTarget(fix).replace(/\/$/, "")}.`,
  );
}

/**
 * An OpenFGA dependency. repo: an in-memory OpenFGA answering the real `@openfga/sdk` client in-process.
 * local: the SDK on the run's OpenFGA server (the real binary, memory datastore). cluster: the SDK on
 * FGA_API_URL. Either way the client points at a store of this
 * environment with the model written, and reset deletes every tuple written through it.
 */
export function openfga(options: OpenFgaOptions): Dependency<OpenFgaDependencyClient> {
  if (!options || options.model === undefined || options.model === null) {
    throw new TestSupportError(
      "INVALID_OPTIONS",
      'openfga() needs a model: openfga({ model: new URL("../authz.fga", import.meta.url) }).',
    );
  }
  const apiUrlEnv = options.apiUrlEnv ?? "FGA_API_URL";
  const tokenEnv = options.tokenEnv ?? "FGA_API_TOKEN";
  const storeIdEnv = options.storeIdEnv ?? "FGA_STORE_ID";
  let model: Promise<WriteAuthorizationModelRequest> | undefined;
  const loadOnce = () => {
    model ??= loadModel(options.model);
    return model;
  };

  const open = async (
    context: DependencyContext,
    wire: ClientWiring,
    implementation: string,
    target: string,
    givenStore: string | undefined,
  ): Promise<DependencyHandle<OpenFgaClient>> => {
    const json = await loadOnce();
    await sdk.load();
    keepLedger(wire);
    // Set-up requests are bounded by the factory's connect and set-up bounds (the driver's own timeouts sit
    // 1 s past them as a backstop, so the factory's message wins) and stop when the factory gives up.
    wire.axios.defaults.timeout = context.connectTimeoutMs + 1000;
    wire.axios.defaults.signal = context.signal;
    let storeId = givenStore;
    try {
      if (storeId) await clientFor(wire, storeId).getStore();
      else {
        storeId = (await clientFor(wire).createStore({ name: `it-${context.service}-${context.instanceId}` }))
          .id;
        await holdStore(wire, storeId);
      }
    } catch (error) {
      if (givenStore && (error as { statusCode?: number }).statusCode === 404) {
        throw new TestSupportError(
          "INVALID_OPTIONS",
          `openfga at ${target} has no store ${givenStore} (from ${storeIdEnv}). Unset ${storeIdEnv} to let each environment create its own store, or set it to an existing store id.`,
          { cause: error },
        );
      }
      throw new TestSupportError(
        "CONNECT_FAILED",
        `openfga at ${target} could not ${givenStore ? `read store ${givenStore}` : "create a store"}: ${errorText(error)}. Check that the server is up and that ${apiUrlEnv} points at it.`,
        { cause: error },
      );
    }
    context.connected();
    wire.axios.defaults.timeout = context.setupTimeoutMs + 1000;
    let modelId: string;
    try {
      modelId = (await clientFor(wire, storeId).writeAuthorizationModel(json)).authorization_model_id;
    } catch (error) {
      // The set-up signal may have fired; removing the store is a request of its own, with its own bound.
      wire.axios.defaults.signal = undefined;
      wire.axios.defaults.timeout = context.operationTimeoutMs;
      if (!givenStore)
        await clientFor(wire, storeId)
          .deleteStore()
          .then(() => releaseStore(wire, storeId as string))
          .catch(() => {});
      const { apiErrorMessage, statusCode } = error as { apiErrorMessage?: string; statusCode?: number };
      if (statusCode === 400) {
        throw new TestSupportError(
          "INVALID_OPTIONS",
          `openfga rejected the model: ${apiErrorMessage ?? errorText(error)}.`,
          {
            cause: error,
          },
        );
      }
      throw new TestSupportError(
        "CONNECT_FAILED",
        `openfga at ${target} did not take the model: ${errorText(error)}. The server answered before, so check that it is still up.`,
        { cause: error },
      );
    }
    // From here on every request the handed-out client makes is bounded by the operation bound.
    wire.axios.defaults.timeout = context.operationTimeoutMs;
    wire.axios.defaults.signal = undefined;
    const client = clientFor(wire, storeId, modelId);
    const ownStore = givenStore ? undefined : storeId;
    return {
      client,
      implementation,
      target: `${target} (store ${storeId})`,
      // Only tuples this environment's writes created, in whichever store they were written.
      reset: () => deleteCreated(wire),
      async close() {
        // From here the leases only run out: if a deletion fails or stalls, a sweep finishes the job.
        for (const held of wire.leases?.held.values() ?? []) held.heartbeat.stop();
        try {
          if (ownStore) {
            wire.ledger.created.delete(ownStore);
            await client.deleteStore();
            await releaseStore(wire, ownStore);
          }
          await deleteCreated(wire);
          await deleteScratchStores(wire);
        } catch (error) {
          const stores = [...(wire.leases?.held.keys() ?? [])];
          const tuples = [...wire.ledger.created.values()].reduce((n, m) => n + m.size, 0);
          const left = [
            ...(stores.length > 0 ? [`store(s) ${stores.join(", ")}`] : []),
            ...(tuples > 0
              ? [
                  `${tuples} tuple(s) this environment wrote in ${givenStore ? `store ${givenStore}` : "its stores"}`,
                ]
              : []),
          ];
          throw new TestSupportError(
            "CLOSE_FAILED",
            `openfga at ${target} could not remove what this environment created (${errorText(error)}); left: ${left.join("; ") || "nothing it knows of"}. ` +
              (stores.length > 0
                ? `The stores are registered under leases that expire ${leaseText(wire.leases?.leaseMs ?? 0)} after this process stopped renewing them; then \`pnpm test:integration sweep\` deletes them.`
                : ""),
            { cause: error },
          );
        }
      },
    };
  };

  return tracedDependency({
    kind: "openfga",
    variables: [apiUrlEnv],
    // The run's first environment may start the server.
    startTimeoutMs: 60_000,
    describeTarget(env: EnvironmentVariables) {
      return redactTarget(env[apiUrlEnv] ?? "");
    },
    async double(context) {
      const [{ createInMemoryAxios, IN_MEMORY_API_URL }, { InMemoryOpenFga }] = await Promise.all([
        import("./memory/adapter.js"),
        import("./memory/server.js"),
      ]);
      const wire = {
        axios: createInMemoryAxios(new InMemoryOpenFga()),
        apiUrl: IN_MEMORY_API_URL,
        token: undefined,
        ledger: { created: new Map(), scratchStores: new Set<string>() },
      };
      return open(context, wire, "in-memory-openfga", "in-process", undefined);
    },
    async local(context) {
      const server = await localEngine("openfga", context.env, context.signal);
      const { default: axios } = await import("axios");
      const wire = {
        axios: axios.create(),
        apiUrl: server.url,
        token: undefined,
        ledger: { created: new Map(), scratchStores: new Set<string>() },
      };
      return open(context, wire, "openfga", `${server.url} (local)`, undefined);
    },
    async live(context) {
      readUrlVariable(
        context.env,
        apiUrlEnv,
        "openfga",
        ["http:", "https:"],
        "the OpenFGA HTTP API, e.g. http://127.0.0.1:8080",
      );
      const raw = context.env[apiUrlEnv] ?? "";
      checkSdkUrl(raw, apiUrlEnv);
      const { default: axios } = await import("axios");
      const wire: ClientWiring = {
        axios: axios.create(),
        apiUrl: raw,
        token: context.env[tokenEnv] || undefined,
        ledger: { created: new Map(), scratchStores: new Set<string>() },
        leases: {
          runId: context.runId,
          leaseMs: leaseMsFrom(context.env),
          timeoutMs: context.operationTimeoutMs,
          held: new Map(),
        },
      };
      return open(context, wire, "openfga", redactTarget(raw), context.env[storeIdEnv] || undefined);
    },
  });
}
