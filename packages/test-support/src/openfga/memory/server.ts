import { monotonicFactory } from "ulid";
import { FgaServerError, invalidTuple, relationNotFound, typeNotFound, validationError } from "./errors.js";
import { Evaluator, type EvaluatorOptions, type UserFilter } from "./evaluator.js";
import { type AuthorizationModel, CompiledModel, type TupleProblem } from "./model.js";
import { validateModel } from "./model-validation.js";
import {
  isValidUser,
  LayeredTuples,
  parseObject,
  parseUser,
  splitObjectRelation,
  TupleIndex,
  type TupleKey,
  tupleString,
} from "./tuples.js";

/** A response of the in-memory server: a JSON body, or NDJSON lines for the streamed endpoint. */
export interface FgaResponse {
  status: number;
  body?: unknown;
  lines?: unknown[];
}

const ULID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const USER_PATTERN = /^[^\s]{2,512}$/;
const RELATION_PATTERN = /^[^:#@\s]{1,50}$/;
const OBJECT_PATTERN = /^[^\s]{2,256}$/;
/** Server defaults (OpenFGA v1.18): writes per request, checks per batch, list results. */
export const LIMITS = {
  writesPerRequest: 100,
  checksPerBatch: 50,
  contextualTuples: 100,
  listObjectsResults: 1000,
};

interface Change {
  tuple_key: TupleKey;
  operation: "TUPLE_OPERATION_WRITE" | "TUPLE_OPERATION_DELETE";
  timestamp: string;
}

interface StoredTuple {
  key: TupleKey;
  timestamp: string;
}

class Store {
  readonly models: CompiledModel[] = [];
  readonly tuples = new TupleIndex();
  readonly stored = new Map<string, StoredTuple>();
  readonly changes: Change[] = [];
  constructor(
    readonly id: string,
    readonly name: string,
    readonly createdAt: string,
  ) {}

  json() {
    return {
      id: this.id,
      name: this.name,
      created_at: this.createdAt,
      updated_at: this.createdAt,
      deleted_at: null,
    };
  }
}

const encodeToken = (n: number) => Buffer.from(String(n)).toString("base64url");
function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  const n = Number(Buffer.from(token, "base64url").toString());
  if (!Number.isInteger(n) || n < 0) throw validationError("Invalid continuation token");
  return n;
}

function pageSize(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw validationError(`invalid page_size: value must be inside range [1, ${max}]`);
  }
  return n;
}

/** The in-memory OpenFGA: the HTTP API the SDK uses, answered from memory. */
export class InMemoryOpenFga {
  private readonly stores = new Map<string, Store>();
  private readonly newId = monotonicFactory();

  constructor(private readonly options: EvaluatorOptions = {}) {}

  /** Answers one request. `path` has no query string; `query` holds it. */
  handle(method: string, path: string, query: URLSearchParams, body: unknown): FgaResponse {
    try {
      return this.route(
        method.toUpperCase(),
        path.replace(/\/+$/, ""),
        query,
        (body ?? {}) as Record<string, unknown>,
      );
    } catch (error) {
      if (error instanceof FgaServerError) return { status: error.status, body: error.body() };
      throw error;
    }
  }

  private route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ): FgaResponse {
    if (path === "/stores") {
      if (method === "POST") return this.createStore(body);
      if (method === "GET") return this.listStores(query);
    }
    const match = /^\/stores\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (match) {
      const [, storeId = "", rest = ""] = match;
      const op = `${method} ${rest}`;
      if (op === "GET ") return { status: 200, body: this.store(storeId).json() };
      if (op === "DELETE ") return this.deleteStore(storeId);
      if (op === "POST authorization-models") return this.writeModel(storeId, body);
      if (op === "GET authorization-models") return this.listModels(storeId, query);
      const model = /^authorization-models\/([^/]+)$/.exec(rest);
      if (method === "GET" && model) return this.readModel(storeId, model[1] ?? "");
      if (op === "POST write") return this.write(storeId, body);
      if (op === "POST read") return this.read(storeId, body);
      if (op === "GET changes") return this.readChanges(storeId, query);
      if (op === "POST check") return this.check(storeId, body);
      if (op === "POST batch-check") return this.batchCheck(storeId, body);
      if (op === "POST list-objects") return this.listObjects(storeId, body);
      if (op === "POST streamed-list-objects") return this.streamedListObjects(storeId, body);
      if (op === "POST list-users") return this.listUsers(storeId, body);
      if (op === "POST expand") return this.expand(storeId, body);
    }
    // Never an empty success: a call nobody implemented fails with its name.
    return {
      status: 501,
      body: {
        code: "unimplemented",
        message: `[test-support] the in-memory OpenFGA does not implement ${method} ${path}; use cluster mode against a real server for it.`,
      },
    };
  }

  private storeIdFor(storeId: string, request: string): string {
    if (!ULID_PATTERN.test(storeId)) {
      throw validationError(
        `invalid ${request}.StoreId: value does not match regex pattern "^[ABCDEFGHJKMNPQRSTVWXYZ0-9]{26}$"`,
      );
    }
    return storeId;
  }

  private store(storeId: string, request = "GetStoreRequest"): Store {
    const store = this.stores.get(this.storeIdFor(storeId, request));
    if (!store) throw new FgaServerError(404, "store_id_not_found", "Store ID not found");
    return store;
  }

  private createStore(body: Record<string, unknown>): FgaResponse {
    const name = body.name;
    if (typeof name !== "string" || !/^[\s\S]{3,64}$/.test(name)) {
      throw validationError(
        `invalid CreateStoreRequest.Name: value does not match regex pattern "^[ a-zA-Z0-9/@#$%^&+=:,.'_-]{3,64}$"`,
      );
    }
    const store = new Store(this.newId(), name, new Date().toISOString());
    this.stores.set(store.id, store);
    const { deleted_at: _, ...created } = store.json();
    return { status: 201, body: created };
  }

  private listStores(query: URLSearchParams): FgaResponse {
    const size = pageSize(query.get("page_size"), 50, 100);
    const name = query.get("name");
    const all = [...this.stores.values()].filter((s) => !name || s.name === name);
    const start = decodeToken(query.get("continuation_token") ?? undefined);
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? encodeToken(start + size) : "";
    return { status: 200, body: { stores: page.map((s) => s.json()), continuation_token: next } };
  }

  private deleteStore(storeId: string): FgaResponse {
    this.store(storeId, "DeleteStoreRequest");
    this.stores.delete(storeId);
    return { status: 204 };
  }

  private writeModel(storeId: string, body: Record<string, unknown>): FgaResponse {
    const store = this.store(storeId, "WriteAuthorizationModelRequest");
    const json = {
      id: this.newId(),
      schema_version: String(body.schema_version ?? ""),
      type_definitions: (body.type_definitions ?? []) as AuthorizationModel["type_definitions"],
      conditions: (body.conditions ?? {}) as AuthorizationModel["conditions"],
    };
    if (!Array.isArray(json.type_definitions) || json.type_definitions.length === 0) {
      throw validationError(
        "invalid WriteAuthorizationModelRequest.TypeDefinitions: value must contain at least 1 item(s)",
      );
    }
    // The request's own rules come first: a missing schema version is refused here, not taken as 1.1.
    if (!["1.0", "1.1", "1.2"].includes(json.schema_version)) {
      throw validationError(
        "invalid WriteAuthorizationModelRequest.SchemaVersion: value must be in list [1.0 1.1 1.2]",
      );
    }
    validateModel(json);
    store.models.push(new CompiledModel(json));
    return { status: 201, body: { authorization_model_id: json.id } };
  }

  private listModels(storeId: string, query: URLSearchParams): FgaResponse {
    const store = this.store(storeId, "ReadAuthorizationModelsRequest");
    const size = pageSize(query.get("page_size"), 50, 50);
    const newestFirst = [...store.models].reverse();
    const start = decodeToken(query.get("continuation_token") ?? undefined);
    const page = newestFirst.slice(start, start + size);
    const next = start + size < newestFirst.length ? encodeToken(start + size) : "";
    return { status: 200, body: { authorization_models: page.map((m) => m.json), continuation_token: next } };
  }

  private readModel(storeId: string, modelId: string): FgaResponse {
    return { status: 200, body: { authorization_model: this.model(this.store(storeId), modelId).json } };
  }

  /** The model a request names, or the store's latest. */
  private model(store: Store, modelId: unknown): CompiledModel {
    if (modelId !== undefined && modelId !== null && modelId !== "") {
      if (typeof modelId !== "string" || !ULID_PATTERN.test(modelId)) {
        throw validationError(
          `invalid AuthorizationModelId: value does not match regex pattern "^[ABCDEFGHJKMNPQRSTVWXYZ0-9]{26}$"`,
        );
      }
      const model = store.models.find((m) => m.id === modelId);
      if (!model)
        throw new FgaServerError(
          400,
          "authorization_model_not_found",
          `Authorization Model '${modelId}' not found`,
        );
      return model;
    }
    const latest = store.models.at(-1);
    if (!latest) {
      throw new FgaServerError(
        400,
        "latest_authorization_model_not_found",
        `No authorization models found for store '${store.id}'`,
      );
    }
    return latest;
  }

  /** The store and model for a query; an unknown store reads as having no model, as on the real server. */
  private storeAndModel(
    storeId: string,
    request: string,
    modelId: unknown,
  ): { store: Store; model: CompiledModel } {
    this.storeIdFor(storeId, request);
    const store = this.stores.get(storeId);
    if (!store) {
      if (modelId)
        throw new FgaServerError(
          400,
          "authorization_model_not_found",
          `Authorization Model '${modelId}' not found`,
        );
      throw new FgaServerError(
        400,
        "latest_authorization_model_not_found",
        `No authorization models found for store '${storeId}'`,
      );
    }
    return { store, model: this.model(store, modelId) };
  }

  private write(storeId: string, body: Record<string, unknown>): FgaResponse {
    const store = this.store(storeId, "WriteRequest");
    const writes = ((body.writes as { tuple_keys?: TupleKey[] } | undefined)?.tuple_keys ?? []) as TupleKey[];
    const deletes = ((body.deletes as { tuple_keys?: TupleKey[] } | undefined)?.tuple_keys ??
      []) as TupleKey[];
    const onDuplicate = (body.writes as { on_duplicate?: string } | undefined)?.on_duplicate ?? "error";
    const onMissing = (body.deletes as { on_missing?: string } | undefined)?.on_missing ?? "error";
    // The server's order: each written tuple against the model, then the deleted users, then duplicates
    // within the request, then its size.
    if (writes.length === 0 && deletes.length === 0) {
      throw new FgaServerError(
        400,
        "invalid_write_input",
        "Invalid input. Make sure you provide at least one write, or at least one delete",
      );
    }
    if (writes.length > 0) {
      const model = this.model(store, body.authorization_model_id);
      for (const tuple of writes) this.validateWrittenTuple(model, tuple);
    }
    for (const tuple of deletes) {
      if (!isValidUser(tuple.user)) {
        throw validationError(`Invalid tuple '${tupleString(tuple)}'. Reason: the 'user' field is malformed`);
      }
    }
    const seen = new Set<string>();
    for (const tuple of [...deletes, ...writes]) {
      const key = tupleString(tuple);
      if (seen.has(key)) {
        throw new FgaServerError(
          400,
          "cannot_allow_duplicate_tuples_in_one_request",
          `duplicate tuple in write: user: '${tuple.user}', relation: '${tuple.relation}', object: '${tuple.object}'`,
        );
      }
      seen.add(key);
    }
    if (seen.size > LIMITS.writesPerRequest) {
      throw new FgaServerError(
        400,
        "exceeded_entity_limit",
        `The number of write operations exceeds the allowed limit of ${LIMITS.writesPerRequest}`,
      );
    }
    const missingReason = "tuple to be written already existed or the tuple to be deleted did not exist";
    const toWrite = writes.filter((tuple) => {
      if (!store.stored.has(tupleString(tuple))) return true;
      if (onDuplicate === "ignore") return false;
      throw new FgaServerError(
        400,
        "write_failed_due_to_invalid_input",
        `cannot write a tuple which already exists: user: '${tuple.user}', relation: '${tuple.relation}', object: '${tuple.object}': ${missingReason}`,
      );
    });
    const toDelete = deletes.filter((tuple) => {
      if (store.stored.has(tupleString(tuple))) return true;
      if (onMissing === "ignore") return false;
      throw new FgaServerError(
        400,
        "write_failed_due_to_invalid_input",
        `cannot delete a tuple which does not exist: user: '${tuple.user}', relation: '${tuple.relation}', object: '${tuple.object}': ${missingReason}`,
      );
    });
    const timestamp = new Date().toISOString();
    for (const tuple of toDelete) {
      const key = tupleString(tuple);
      store.stored.delete(key);
      store.tuples.delete(tuple);
      // The server logs a delete with the key as deleted, without the tuple's condition (found by the drift
      // harness: OpenFGA v1.18.1 answers condition null for the delete of a conditional tuple).
      store.changes.push({
        tuple_key: { user: tuple.user, relation: tuple.relation, object: tuple.object },
        operation: "TUPLE_OPERATION_DELETE",
        timestamp,
      });
    }
    for (const tuple of toWrite) {
      const key: TupleKey = {
        user: tuple.user,
        relation: tuple.relation,
        object: tuple.object,
        ...(tuple.condition?.name
          ? {
              condition: {
                name: tuple.condition.name,
                ...(tuple.condition.context ? { context: tuple.condition.context } : {}),
              },
            }
          : {}),
      };
      store.stored.set(tupleString(key), { key, timestamp });
      store.tuples.add(key);
      store.changes.push({ tuple_key: key, operation: "TUPLE_OPERATION_WRITE", timestamp });
    }
    return { status: 200, body: {} };
  }

  private validateTupleKeyShape(tuple: TupleKey, request: string): void {
    if (typeof tuple?.user !== "string" || !USER_PATTERN.test(tuple.user)) {
      throw validationError(
        `invalid ${request}.User: value does not match regex pattern "^[^\\\\s]{2,512}$"`,
      );
    }
    if (typeof tuple.relation !== "string" || !RELATION_PATTERN.test(tuple.relation)) {
      throw validationError(
        `invalid ${request}.Relation: value does not match regex pattern "^[^:#@\\\\s]{1,50}$"`,
      );
    }
    if (typeof tuple.object !== "string" || !OBJECT_PATTERN.test(tuple.object)) {
      throw validationError(
        `invalid ${request}.Object: value does not match regex pattern "^[^\\\\s]{2,256}$"`,
      );
    }
  }

  /** A written tuple, checked as the server's write checks it: the model's rules, then implicitness. */
  private validateWrittenTuple(model: CompiledModel, tuple: TupleKey): void {
    this.validateTupleKeyShape(tuple, "TupleKey");
    const problem = model.tupleProblemForWrite(tuple);
    if (problem) throw validationError(tupleProblemText(tuple, problem));
    const [userObject, userRelation] = splitObjectRelation(tuple.user);
    // A userset holding itself is implied; the server refuses to store it (but takes it as a contextual tuple).
    if (userObject === tuple.object && userRelation === tuple.relation) {
      throw validationError(
        `Invalid tuple '${tupleString(tuple)}'. Reason: cannot write a tuple that is implicit`,
      );
    }
  }

  /**
   * Validates a request's contextual tuples as the server does (the rules of a write, without the
   * implicitness rule), and reports the first problem the way `endpoint` reports it: check and batch-check
   * wrap every problem as invalid_tuple; list-objects and list-users answer invalid_tuple for a tuple the
   * model does not allow and validation_error for a condition problem.
   */
  private validateContextualTuples(
    model: CompiledModel,
    tuples: TupleKey[],
    endpoint: "check" | "list",
  ): void {
    if (tuples.length > LIMITS.contextualTuples) {
      throw validationError(
        `invalid ContextualTupleKeys.TupleKeys: value must contain between 0 and ${LIMITS.contextualTuples} items, inclusive`,
      );
    }
    for (const tuple of tuples) {
      this.validateTupleKeyShape(tuple, "TupleKey");
      const problem = model.tupleProblemForWrite(tuple);
      if (!problem) continue;
      if (endpoint === "check") {
        throw invalidTuple(
          `Invalid tuple '%!s(<nil>)'. Reason: invalid tuple: ${tupleProblemText(tuple, problem)}`,
        );
      }
      if (problem.kind === "conditional") throw validationError(tupleProblemText(tuple, problem));
      throw invalidTuple(`Invalid tuple '${protoText(tuple)}'. Reason: ${problem.cause}`);
    }
  }

  private read(storeId: string, body: Record<string, unknown>): FgaResponse {
    const store = this.store(storeId, "ReadRequest");
    const filter = body.tuple_key as Partial<TupleKey> | undefined;
    const size = pageSize(body.page_size, 50, 100);
    let matches = [...store.stored.values()];
    if (filter && (filter.object || filter.user || filter.relation)) {
      const object = filter.object ?? "";
      const colon = object.indexOf(":");
      const type = colon === -1 ? object : object.slice(0, colon);
      const id = colon === -1 ? "" : object.slice(colon + 1);
      if (!type || (!id && !filter.user)) {
        throw validationError(
          "the 'tuple_key' field was provided but the object type field is required and both the object id and user cannot be empty",
        );
      }
      matches = matches.filter((t) => {
        const parsed = parseObject(t.key.object);
        return (
          parsed?.type === type &&
          (!id || parsed.id === id) &&
          (!filter.relation || t.key.relation === filter.relation) &&
          (!filter.user || t.key.user === filter.user)
        );
      });
    }
    const start = decodeToken(body.continuation_token as string | undefined);
    const page = matches.slice(start, start + size);
    const next = start + size < matches.length ? encodeToken(start + size) : "";
    return {
      status: 200,
      body: {
        tuples: page.map((t) => ({
          key: { ...t.key, condition: t.key.condition ?? null },
          timestamp: t.timestamp,
        })),
        continuation_token: next,
      },
    };
  }

  private readChanges(storeId: string, query: URLSearchParams): FgaResponse {
    const store = this.store(storeId, "ReadChangesRequest");
    const size = pageSize(query.get("page_size"), 50, 100);
    const type = query.get("type");
    const startTime = query.get("start_time");
    const from = decodeToken(query.get("continuation_token") ?? undefined);
    const eligible = store.changes
      .map((change, index) => ({ change, index }))
      .filter(({ index }) => index >= from)
      .filter(({ change }) => !type || parseObject(change.tuple_key.object)?.type === type)
      .filter(({ change }) => !startTime || change.timestamp >= new Date(startTime).toISOString());
    const page = eligible.slice(0, size);
    const last = page.at(-1);
    const next = encodeToken(last ? last.index + 1 : from);
    return {
      status: 200,
      body: {
        changes: page.map(({ change }) => ({
          tuple_key: { ...change.tuple_key, condition: change.tuple_key.condition ?? null },
          operation: change.operation,
          timestamp: change.timestamp,
        })),
        continuation_token: next,
      },
    };
  }

  /** The evaluator for one query: stored tuples plus the (already validated) contextual tuples, and the request context. */
  private evaluatorFor(
    store: Store,
    model: CompiledModel,
    contextual: TupleKey[],
    context: unknown,
  ): Evaluator {
    if (
      context !== undefined &&
      context !== null &&
      (typeof context !== "object" || Array.isArray(context))
    ) {
      throw validationError("invalid context: must be an object");
    }
    return new Evaluator(
      model,
      new LayeredTuples(store.tuples, contextual),
      (context ?? undefined) as Record<string, unknown> | undefined,
      this.options,
    );
  }

  /** Validates the object, relation and user of a check the way the server does, then its contextual tuples. */
  private validateCheck(model: CompiledModel, tuple: TupleKey, contextual: TupleKey[]): void {
    this.validateTupleKeyShape(tuple, "CheckRequestTupleKey");
    const problem = model.userObjectRelationProblem(tuple);
    if (problem) throw validationError(`invalid relation: ${problem}`);
    this.validateContextualTuples(model, contextual, "check");
  }

  private check(storeId: string, body: Record<string, unknown>): FgaResponse {
    const { store, model } = this.storeAndModel(storeId, "CheckRequest", body.authorization_model_id);
    const tuple = (body.tuple_key ?? {}) as TupleKey;
    const contextual = ((body.contextual_tuples as { tuple_keys?: TupleKey[] } | undefined)?.tuple_keys ??
      []) as TupleKey[];
    this.validateCheck(model, tuple, contextual);
    const evaluator = this.evaluatorFor(store, model, contextual, body.context);
    return {
      status: 200,
      body: { allowed: evaluator.check(tuple.object, tuple.relation, tuple.user), resolution: "" },
    };
  }

  private batchCheck(storeId: string, body: Record<string, unknown>): FgaResponse {
    const { store, model } = this.storeAndModel(storeId, "BatchCheckRequest", body.authorization_model_id);
    const checks = (body.checks ?? []) as {
      tuple_key: TupleKey;
      contextual_tuples?: { tuple_keys?: TupleKey[] };
      context?: unknown;
      correlation_id: string;
    }[];
    if (checks.length === 0)
      throw validationError("invalid BatchCheckRequest.Checks: value must contain at least 1 item(s)");
    if (checks.length > LIMITS.checksPerBatch) {
      throw validationError(
        `batchCheck received ${checks.length} checks, the maximum allowed is ${LIMITS.checksPerBatch}`,
      );
    }
    const ids = new Set<string>();
    for (const item of checks) {
      if (ids.has(item.correlation_id))
        throw validationError(`received duplicate correlation id: ${item.correlation_id}`);
      ids.add(item.correlation_id);
    }
    const result: Record<string, unknown> = {};
    for (const item of checks) {
      try {
        const tuple = item.tuple_key ?? ({} as TupleKey);
        const contextual = item.contextual_tuples?.tuple_keys ?? [];
        this.validateCheck(model, tuple, contextual);
        const evaluator = this.evaluatorFor(store, model, contextual, item.context);
        result[item.correlation_id] = { allowed: evaluator.check(tuple.object, tuple.relation, tuple.user) };
      } catch (error) {
        if (!(error instanceof FgaServerError)) throw error;
        result[item.correlation_id] = { error: { input_error: error.code, message: error.message } };
      }
    }
    return { status: 200, body: { result } };
  }

  private listObjectsResult(storeId: string, body: Record<string, unknown>, request: string): string[] {
    const { store, model } = this.storeAndModel(storeId, request, body.authorization_model_id);
    const type = String(body.type ?? "");
    const relation = String(body.relation ?? "");
    const user = String(body.user ?? "");
    if (!USER_PATTERN.test(user))
      throw validationError(
        `invalid ${request}.User: value does not match regex pattern "^[^\\\\s]{2,512}$"`,
      );
    const contextual = ((body.contextual_tuples as { tuple_keys?: TupleKey[] } | undefined)?.tuple_keys ??
      []) as TupleKey[];
    // The server's order: contextual tuples, then the type and relation, then the user.
    this.validateContextualTuples(model, contextual, "list");
    if (!model.hasType(type)) throw typeNotFound(type);
    if (!model.rewrite(type, relation)) throw relationNotFound(type, relation);
    const userProblem = model.userProblem(user);
    if (userProblem) throw validationError(`invalid 'user' value: ${userProblem}`);
    const objects = this.evaluatorFor(store, model, contextual, body.context).listObjects(
      type,
      relation,
      user,
    );
    return objects.slice(0, LIMITS.listObjectsResults);
  }

  private listObjects(storeId: string, body: Record<string, unknown>): FgaResponse {
    return { status: 200, body: { objects: this.listObjectsResult(storeId, body, "ListObjectsRequest") } };
  }

  private streamedListObjects(storeId: string, body: Record<string, unknown>): FgaResponse {
    const objects = this.listObjectsResult(storeId, body, "StreamedListObjectsRequest");
    return { status: 200, lines: objects.map((object) => ({ result: { object } })) };
  }

  private listUsers(storeId: string, body: Record<string, unknown>): FgaResponse {
    const { store, model } = this.storeAndModel(storeId, "ListUsersRequest", body.authorization_model_id);
    const object = (body.object ?? {}) as { type?: string; id?: string };
    const relation = String(body.relation ?? "");
    const filters = (body.user_filters ?? []) as UserFilter[];
    if (!Array.isArray(filters) || filters.length !== 1) {
      throw validationError("invalid ListUsersRequest.UserFilters: value must contain exactly 1 item(s)");
    }
    const filter = filters[0] as UserFilter;
    const given = body.contextual_tuples ?? [];
    const contextual = (Array.isArray(given) ? given : []) as TupleKey[];
    // The server's order: contextual tuples, then the filter, then the object's type and relation.
    this.validateContextualTuples(model, contextual, "list");
    if (!model.hasType(filter.type)) throw typeNotFound(filter.type);
    if (filter.relation && !model.rewrite(filter.type, filter.relation))
      throw relationNotFound(filter.type, filter.relation);
    if (!model.hasType(object.type ?? "")) throw typeNotFound(object.type ?? "");
    if (!model.rewrite(object.type ?? "", relation)) throw relationNotFound(object.type ?? "", relation);
    const evaluator = this.evaluatorFor(store, model, contextual, body.context);
    const users = evaluator.listUsers(`${object.type}:${object.id}`, relation, filter);
    return {
      status: 200,
      body: {
        users: users.map((u) => {
          const parsed = parseUser(u);
          if (parsed?.kind === "wildcard") return { wildcard: { type: parsed.type } };
          if (parsed?.kind === "userset")
            return { userset: { type: parsed.type, id: parsed.id, relation: parsed.relation } };
          return { object: { type: parsed?.type, id: parsed?.kind === "object" ? parsed.id : "" } };
        }),
      },
    };
  }

  private expand(storeId: string, body: Record<string, unknown>): FgaResponse {
    const { store, model } = this.storeAndModel(storeId, "ExpandRequest", body.authorization_model_id);
    const tuple = (body.tuple_key ?? {}) as { relation?: string; object?: string };
    const contextual = ((body.contextual_tuples as { tuple_keys?: TupleKey[] } | undefined)?.tuple_keys ??
      []) as TupleKey[];
    // The server's order: contextual tuples, then the object, then the relation.
    this.validateContextualTuples(model, contextual, "list");
    const problem = model.objectRelationProblem(tuple.object ?? "", tuple.relation ?? "");
    if (problem) throw validationError(problem);
    const evaluator = this.evaluatorFor(store, model, contextual, undefined);
    return {
      status: 200,
      body: { tree: { root: evaluator.expand(tuple.object ?? "", tuple.relation ?? "") } },
    };
  }
}

/** How the server words a tuple problem: with the condition's name for a condition problem. */
function tupleProblemText(tuple: TupleKey, problem: TupleProblem): string {
  const shown =
    problem.kind === "conditional" && tuple.condition
      ? `${tupleString(tuple)} (condition ${tuple.condition.name})`
      : tupleString(tuple);
  return `Invalid tuple '${shown}'. Reason: ${problem.cause}`;
}

/** A tuple key in Go's protobuf text form, as the server prints it in list endpoints' tuple errors. */
function protoText(tuple: TupleKey): string {
  const fields = [
    `user:${JSON.stringify(tuple.user)}`,
    `relation:${JSON.stringify(tuple.relation)}`,
    `object:${JSON.stringify(tuple.object)}`,
  ];
  if (tuple.condition) fields.push(`condition:{name:${JSON.stringify(tuple.condition.name)}}`);
  return fields.join("  ");
}
