import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  ClientWriteRequestOnMissingDeletes,
  CredentialsMethod,
  OpenFgaClient,
  type WriteAuthorizationModelRequest,
} from "@openfga/sdk";
import { transformer } from "@openfga/syntax-transformer";
import axios, { type AxiosInstance } from "axios";
import type { Dependency, DependencyContext, DependencyHandle, EnvironmentVariables } from "../dependency.js";
import { errorText, TestSupportError } from "../errors.js";
import { redactTarget } from "../redact.js";
import { readUrlVariable } from "../variables.js";
import { createInMemoryAxios, IN_MEMORY_API_URL } from "./memory/adapter.js";
import { InMemoryOpenFga } from "./memory/server.js";
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

interface ClientWiring {
  axios: AxiosInstance;
  apiUrl: string;
  token: string | undefined;
}
const wiring = new WeakMap<OpenFgaClient, ClientWiring>();
type SdkAxios = ConstructorParameters<typeof OpenFgaClient>[1];

function clientFor(wire: ClientWiring, storeId?: string, authorizationModelId?: string): OpenFgaClient {
  const client = new OpenFgaClient(
    {
      apiUrl: wire.apiUrl,
      ...(storeId ? { storeId } : {}),
      ...(authorizationModelId ? { authorizationModelId } : {}),
      ...(wire.token
        ? { credentials: { method: CredentialsMethod.ApiToken, config: { token: wire.token } } }
        : {}),
      retryParams: { maxRetry: 1, minWaitInMs: 50 },
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
  const { id } = await clientFor(wire).createStore({ name });
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

/** Records every tuple written (and then deleted) through an axios instance, so reset can remove them. */
function trackWrites(instance: AxiosInstance): Map<string, TupleKey> {
  const written = new Map<string, TupleKey>();
  instance.interceptors.response.use((response) => {
    const { method, url, data } = response.config;
    if (
      method?.toLowerCase() === "post" &&
      url &&
      /\/stores\/[^/]+\/write$/.test(new URL(url, IN_MEMORY_API_URL).pathname)
    ) {
      const body = (typeof data === "string" ? JSON.parse(data) : data) as {
        writes?: { tuple_keys?: TupleKey[] };
        deletes?: { tuple_keys?: TupleKey[] };
      };
      for (const key of body.deletes?.tuple_keys ?? [])
        written.delete(`${key.object}#${key.relation}@${key.user}`);
      for (const key of body.writes?.tuple_keys ?? []) {
        written.set(`${key.object}#${key.relation}@${key.user}`, {
          user: key.user,
          relation: key.relation,
          object: key.object,
        });
      }
    }
    return response;
  });
  return written;
}

/** Deletes the logged tuples in requests of 100 (the server's limit), ignoring ones the test already deleted. */
async function deleteWritten(client: OpenFgaClient, written: Map<string, TupleKey>): Promise<void> {
  const keys = [...written.values()];
  for (let i = 0; i < keys.length; i += 100) {
    await client.write(
      { deletes: keys.slice(i, i + 100) },
      { conflict: { onMissingDeletes: ClientWriteRequestOnMissingDeletes.Ignore } },
    );
  }
  written.clear();
}

/**
 * An OpenFGA dependency. repo/local: an in-memory OpenFGA answering the real `@openfga/sdk` client
 * in-process. cluster: the SDK on FGA_API_URL. Either way the client points at a store of this
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
    const written = trackWrites(wire.axios);
    let storeId = givenStore;
    try {
      storeId ??= (await clientFor(wire).createStore({ name: `it-${context.service}-${context.instanceId}` }))
        .id;
    } catch (error) {
      throw new TestSupportError(
        "CONNECT_FAILED",
        `openfga at ${target} could not create a store: ${errorText(error)}. Check that the server is up and that ${apiUrlEnv} points at it.`,
        { cause: error },
      );
    }
    let modelId: string;
    try {
      modelId = (await clientFor(wire, storeId).writeAuthorizationModel(json)).authorization_model_id;
    } catch (error) {
      if (!givenStore)
        await clientFor(wire, storeId)
          .deleteStore()
          .catch(() => {});
      const detail = (error as { apiErrorMessage?: string }).apiErrorMessage ?? errorText(error);
      throw new TestSupportError("INVALID_OPTIONS", `openfga rejected the model: ${detail}.`, {
        cause: error,
      });
    }
    const client = clientFor(wire, storeId, modelId);
    return {
      client,
      implementation,
      target: `${target} (store ${storeId})`,
      reset: () => deleteWritten(client, written),
      async close() {
        if (givenStore) await deleteWritten(client, written);
        else await client.deleteStore();
      },
    };
  };

  return {
    kind: "openfga",
    variables: [apiUrlEnv],
    describeTarget(env: EnvironmentVariables) {
      return redactTarget(env[apiUrlEnv] ?? "");
    },
    async double(context) {
      const wire = {
        axios: createInMemoryAxios(new InMemoryOpenFga()),
        apiUrl: IN_MEMORY_API_URL,
        token: undefined,
      };
      return open(context, wire, "in-memory-openfga", "in-process", undefined);
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
      const wire = {
        axios: axios.create({ timeout: context.connectTimeoutMs }),
        apiUrl: raw,
        token: context.env[tokenEnv] || undefined,
      };
      return open(context, wire, "openfga", redactTarget(raw), context.env[storeIdEnv] || undefined);
    },
  };
}
