// Leases on an OpenFGA server: the stores an environment creates are registered as tuples in a registry
// store of the same server (`test-support-leases`), `lease:<store id>#holder@holder:<run>_<pid>_t<ms>_s<n>`.
// A heartbeat replaces the tuple with the next one, so its timestamp (the server's clock) is the last
// renewal; the sweep compares it, plus the lease length the tuple carries, with the server's Date header,
// and deletes the stores of expired leases, and nothing else.
import { errorText } from "../errors.js";
import type { SweepReport, SweptObject } from "./lease.js";

export const REGISTRY_STORE_NAME = "test-support-leases";
const REGISTRY_MODEL = {
  schema_version: "1.1",
  type_definitions: [
    { type: "holder" },
    {
      type: "lease",
      relations: { holder: { this: {} } },
      metadata: { relations: { holder: { directly_related_user_types: [{ type: "holder" }] } } },
    },
  ],
};
const HOLDER = /^holder:([a-z0-9]+)_(\d+)_t(\d+)_s(\d+)$/;
/** Store ids are ULIDs; anything else in a registry is not ours to delete. */
const STORE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** How to reach a server: its API URL, an optional token and the bound of each request. */
export interface FgaServer {
  readonly apiUrl: string;
  readonly token: string | undefined;
  readonly timeoutMs: number;
}

interface Answer<T> {
  status: number;
  body: T;
  date: number;
}

async function request<T>(
  server: FgaServer,
  method: string,
  path: string,
  body?: unknown,
  okStatuses: number[] = [200, 201, 204],
): Promise<Answer<T>> {
  const response = await fetch(`${server.apiUrl.replace(/\/+$/, "")}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(server.token ? { authorization: `Bearer ${server.token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(server.timeoutMs),
  });
  const text = await response.text();
  if (!okStatuses.includes(response.status)) {
    throw new Error(`OpenFGA ${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  const date = Date.parse(response.headers.get("date") ?? "");
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : {}) as T,
    date: Number.isNaN(date) ? Date.now() : date,
  };
}

/** Every registry store on the server (several when two processes created one at once), oldest first. */
async function registryStores(server: FgaServer): Promise<string[]> {
  const found: string[] = [];
  let token = "";
  do {
    const page = await request<{ stores?: { id: string; name: string }[]; continuation_token?: string }>(
      server,
      "GET",
      `/stores?page_size=100${token ? `&continuation_token=${encodeURIComponent(token)}` : ""}`,
    );
    for (const store of page.body.stores ?? []) if (store.name === REGISTRY_STORE_NAME) found.push(store.id);
    token = page.body.continuation_token ?? "";
  } while (token);
  return found.sort();
}

const registries = new Map<string, Promise<string>>();

/** The registry store this process writes leases to (the oldest), created with its model when missing. */
function registryStore(server: FgaServer): Promise<string> {
  let found = registries.get(server.apiUrl);
  if (!found) {
    found = (async () => {
      let [id] = await registryStores(server);
      if (!id) {
        await request(server, "POST", "/stores", { name: REGISTRY_STORE_NAME });
        // Another process may have created one at the same time: all use the oldest.
        [id] = await registryStores(server);
      }
      if (!id) throw new Error(`OpenFGA did not list the ${REGISTRY_STORE_NAME} store it just created`);
      const models = await request<{ authorization_models?: unknown[] }>(
        server,
        "GET",
        `/stores/${id}/authorization-models?page_size=1`,
      );
      if ((models.body.authorization_models ?? []).length === 0)
        await request(server, "POST", `/stores/${id}/authorization-models`, REGISTRY_MODEL);
      return id;
    })();
    found.catch(() => registries.delete(server.apiUrl));
    registries.set(server.apiUrl, found);
  }
  return found;
}

/** A registered store lease: renew() replaces its tuple with the next one, release() deletes it. */
export interface StoreLease {
  renew(): Promise<void>;
  release(): Promise<void>;
}

/** Registers `storeId` as owned by this run's process for `leaseMs`. */
export async function registerStoreLease(
  server: FgaServer,
  storeId: string,
  runId: string,
  leaseMs: number,
): Promise<StoreLease> {
  const registry = await registryStore(server);
  let seq = 0;
  const key = (n: number) => ({
    user: `holder:${runId}_${process.pid}_t${leaseMs}_s${n}`,
    relation: "holder",
    object: `lease:${storeId}`,
  });
  await request(server, "POST", `/stores/${registry}/write`, { writes: { tuple_keys: [key(seq)] } });
  return {
    async renew() {
      await request(server, "POST", `/stores/${registry}/write`, {
        writes: { tuple_keys: [key(seq + 1)] },
        deletes: { tuple_keys: [key(seq)] },
      });
      seq++;
    },
    async release() {
      await request(server, "POST", `/stores/${registry}/write`, {
        deletes: { tuple_keys: [key(seq)], on_missing: "ignore" },
      });
    },
  };
}

interface LeaseTuple {
  key: { user: string; relation: string; object: string };
  timestamp: string;
}

/**
 * Deletes every store whose lease has expired on the server's clock (or, with `dryRun`, lists them), then
 * its lease tuples. A store with any live lease tuple is not touched.
 */
export async function sweepOpenFga(
  server: FgaServer,
  label: string,
  options: { dryRun: boolean },
): Promise<SweepReport> {
  const expired: SweptObject[] = [];
  const failed: { object: string; error: string }[] = [];
  let live = 0;
  for (const registry of await registryStores(server)) {
    const tuples: LeaseTuple[] = [];
    let now = 0;
    let token = "";
    do {
      const page = await request<{ tuples?: LeaseTuple[]; continuation_token?: string }>(
        server,
        "POST",
        `/stores/${registry}/read`,
        { page_size: 100, ...(token ? { continuation_token: token } : {}) },
      );
      tuples.push(...(page.body.tuples ?? []));
      now = Math.max(now, page.date);
      token = page.body.continuation_token ?? "";
    } while (token);
    const byStore = new Map<string, LeaseTuple[]>();
    for (const tuple of tuples) {
      const storeId = tuple.key.object.replace(/^lease:/, "");
      byStore.set(storeId, [...(byStore.get(storeId) ?? []), tuple]);
    }
    for (const [storeId, leases] of byStore) {
      // The Date header has whole seconds: a lease counts as alive for up to a second longer, never shorter.
      const alive = leases.some((tuple) => {
        const match = HOLDER.exec(tuple.key.user);
        const renewed = Date.parse(tuple.timestamp);
        return !match || Number.isNaN(renewed) || renewed + Number(match[3]) >= now;
      });
      if (alive) {
        live++;
        continue;
      }
      const match = HOLDER.exec(leases[0]?.key.user ?? "");
      const holder = match ? `run ${match[1]}, pid ${match[2]}` : "";
      if (!STORE_ID.test(storeId)) {
        failed.push({ object: `store ${storeId}`, error: "not a store id; left alone" });
        continue;
      }
      // A store its environment deleted before the lease tuple could go: only the tuple is left to remove.
      const found = await request(server, "GET", `/stores/${storeId}`, undefined, [200, 404]);
      const object = `store ${storeId}${found.status === 404 ? " (already gone; its lease tuple)" : ""}`;
      if (options.dryRun) {
        expired.push({ object, holder });
        continue;
      }
      try {
        await request(server, "DELETE", `/stores/${storeId}`, undefined, [200, 204, 404]);
        await request(server, "POST", `/stores/${registry}/write`, {
          deletes: { tuple_keys: leases.map((tuple) => tuple.key), on_missing: "ignore" },
        });
        expired.push({ object, holder });
      } catch (error) {
        failed.push({ object, error: errorText(error) });
      }
    }
  }
  return { server: label, expired, live, failed };
}
