// How each kind's client is traced: hooks on the clients the suites already use (pg Pool, ioredis, the
// OpenFGA SDK, Connect clients, the Temporal workflow client, an upstream's fetch), never extra test code.
import { AsyncLocalStorage } from "node:async_hooks";
import { recording, startCall } from "./recorder.js";

type AnyFunction = (...args: unknown[]) => unknown;
const TRACED = Symbol.for("@org/test-support/traced");

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof (value as { then?: unknown } | null)?.then === "function";
const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === "function";

/** gRPC status names by number (stable across gRPC implementations). */
const CONNECT_CODES = [
  "Ok",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
];

/** A Connect error as its code's name; anything else as it is. */
function rpcError(error: unknown): unknown {
  const e = error as { name?: string; code?: unknown } | null;
  if (e?.name === "ConnectError" && typeof e.code === "number") {
    return { name: "ConnectError", code: CONNECT_CODES[e.code] ?? e.code };
  }
  return error;
}

/** Records a call whose result is a promise or a stream; synchronous results are not calls to a dependency. */
function recordResult(
  channel: string,
  kind: string,
  call: string,
  request: unknown,
  result: unknown,
): unknown {
  if (isPromise(result)) {
    const pending = startCall(channel, kind, call, request);
    result.then(
      (value) => pending.done(value),
      (error: unknown) => pending.failed(rpcError(error)),
    );
    return result;
  }
  if (isAsyncIterable(result)) {
    const pending = startCall(channel, kind, call, request);
    const messages: unknown[] = [];
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for await (const message of result) {
            messages.push(message);
            yield message;
          }
          pending.done({ messages });
        } catch (error) {
          pending.done({ messages, error: rpcError(error) });
          throw error;
        }
      },
    };
  }
  return result;
}

/** Whether a property holds a client to trace into (an object with methods), not data. */
function isClientLike(value: unknown): value is object {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Date)
    return false;
  if (isPromise(value)) return false;
  for (const key of Object.keys(value)) {
    if (typeof (value as Record<string, unknown>)[key] === "function") return true;
  }
  const proto = Object.getPrototypeOf(value);
  return proto !== null && proto !== Object.prototype;
}

/**
 * Traces any RPC-style client: every method that returns a promise or a stream is one call, named by its
 * property path (e.g. "platform.createTenant"), with its argument as the request. Nested clients are
 * traced too. The methods run on the real object, so what they call internally is not recorded twice.
 */
export function traceRpcClient<T extends object>(client: T, channel: string, kind: string, prefix = ""): T {
  const methods = new Map<string | symbol, AnyFunction>();
  const nested = new Map<string | symbol, object>();
  return new Proxy(client, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof property !== "string" || property === "then" || property === "constructor") return value;
      if (typeof value === "function") {
        let wrapped = methods.get(property);
        if (!wrapped) {
          const fn = value as AnyFunction;
          const name = `${prefix}${property}`;
          wrapped = (...args: unknown[]) => {
            const result = fn.apply(target, args);
            if (!recording()) return result;
            return recordResult(channel, kind, name, args.length === 1 ? args[0] : args, result);
          };
          methods.set(property, wrapped);
        }
        return wrapped;
      }
      if (isClientLike(value)) {
        let inner = nested.get(property);
        if (!inner) {
          inner = traceRpcClient(value, channel, kind, `${prefix}${property}.`);
          nested.set(property, inner);
        }
        return inner;
      }
      return value;
    },
  });
}

/** The client whose traced method is running: the calls it makes on itself are its own, not the test's. */
const inside = new AsyncLocalStorage<object>();

/**
 * Traces a client class instance in place (its identity stays, so maps keyed by it still find it): every
 * method that returns a promise is one call, named by the method, with its arguments as the request.
 * Methods a traced method calls on the same client are not recorded again (writeTuples calls write).
 */
export function traceInstance<T extends object>(client: T, channel: string, kind: string): T {
  const target = client as unknown as { [TRACED]?: true } & Record<string, unknown>;
  if (target[TRACED]) return client;
  target[TRACED] = true;
  const names = new Set<string>();
  for (
    let proto = Object.getPrototypeOf(client);
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (name !== "constructor" && typeof descriptor?.value === "function") names.add(name);
    }
  }
  for (const name of names) {
    const method = target[name] as AnyFunction;
    target[name] = function traced(this: unknown, ...args: unknown[]) {
      if (!recording() || inside.getStore() === client) return method.apply(this, args);
      return inside.run(client, () => {
        const result = method.apply(this, args);
        return recordResult(channel, kind, name, args.length === 1 ? args[0] : args, result);
      });
    };
  }
  return client;
}

/** The first word of a statement, upper-cased (SELECT, INSERT, WITH...), for the call's name. */
const verbOf = (sql: string) => /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? "QUERY";
const typeOfParameter = (value: unknown) =>
  value === null || value === undefined
    ? "null"
    : value instanceof Date
      ? "date"
      : Buffer.isBuffer(value)
        ? "bytes"
        : Array.isArray(value)
          ? "array"
          : typeof value;
/** Passwords in SQL text (CREATE ROLE ... PASSWORD '...'), masked before the text goes anywhere. */
const SQL_SECRET = /(password\s+)'(?:[^']|'')*'/gi;

interface QueryClient {
  query: AnyFunction;
  [TRACED]?: true;
}

/** Wraps one pg client's query: text (or config), parameter types, row count and rows, or the SQLSTATE. */
function traceQuery(client: QueryClient, channel: string): void {
  if (client[TRACED]) return;
  client[TRACED] = true;
  const query = client.query.bind(client) as AnyFunction;
  client.query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string; values?: unknown[]; submit?: unknown } | undefined;
    // Cursors and streams (submittables) are passed through: their rows arrive outside the call.
    if (
      !recording() ||
      first === undefined ||
      (typeof first === "object" && typeof first.submit === "function")
    ) {
      return query(...args);
    }
    const text = typeof first === "string" ? first : (first.text ?? "");
    const values =
      (Array.isArray(args[1]) ? args[1] : typeof first === "object" ? first.values : undefined) ?? [];
    const request = {
      sql: text.replace(/\s+/g, " ").trim().replace(SQL_SECRET, "$1'<redacted>'"),
      parameters: values.map(typeOfParameter),
    };
    const pending = startCall(channel, "postgres", verbOf(text), request);
    type Result = { command?: string; rowCount?: number | null; rows?: unknown[] };
    const one = (r: Result) => ({
      command: r?.command ?? null,
      rowCount: r?.rowCount ?? null,
      rows: r?.rows ?? [],
    });
    // Several statements in one text answer with one result each.
    const shape = (result: unknown) => (Array.isArray(result) ? result.map(one) : one(result as Result));
    const callback =
      typeof args[args.length - 1] === "function" ? (args[args.length - 1] as AnyFunction) : undefined;
    if (callback) {
      const rest = args.slice(0, -1);
      return query(...rest, (error: unknown, result: unknown) => {
        if (error) pending.failed(error);
        else pending.done(shape(result));
        return callback(error, result);
      });
    }
    const result = query(...args) as Promise<unknown>;
    result.then(
      (r) => pending.done(shape(r)),
      (error: unknown) => pending.failed(error),
    );
    return result;
  };
}

interface PoolLike {
  connect: AnyFunction;
  [TRACED]?: true;
}

/** Traces a pg Pool: every client it hands out (to pool.query or to the suite) has its queries recorded. */
export function tracePostgresPool<T>(pool: T, channel: string): T {
  const p = pool as unknown as PoolLike;
  if (p[TRACED]) return pool;
  p[TRACED] = true;
  const connect = p.connect.bind(p) as AnyFunction;
  p.connect = (callback?: unknown) => {
    if (typeof callback === "function") {
      return connect((error: unknown, client: QueryClient | undefined, done: unknown) => {
        if (client) traceQuery(client, channel);
        return (callback as AnyFunction)(error, client, done);
      });
    }
    return (connect() as Promise<QueryClient>).then((client) => {
      traceQuery(client, channel);
      return client;
    });
  };
  return pool;
}

/** Commands whose arguments are credentials. */
const REDIS_SECRET_COMMANDS = new Set(["auth", "hello", "migrate", "config"]);

interface RedisLike {
  sendCommand: AnyFunction;
  [TRACED]?: true;
}

/** Traces an ioredis client: every command as the suite sent it (before key scoping), and its reply. */
export function traceRedisClient<T>(client: T, channel: string): T {
  const c = client as unknown as RedisLike;
  if (c[TRACED]) return client;
  c[TRACED] = true;
  const send = c.sendCommand.bind(c) as AnyFunction;
  c.sendCommand = (...args: unknown[]) => {
    const command = args[0] as { name: string; args: unknown[]; promise: Promise<unknown> };
    if (!recording() || (command as { [TRACED]?: true })[TRACED]) return send(...args);
    (command as { [TRACED]?: true })[TRACED] = true;
    const name = String(command.name).toLowerCase();
    const request = REDIS_SECRET_COMMANDS.has(name)
      ? ["<redacted>"]
      : command.args.map((arg) => (Buffer.isBuffer(arg) ? arg.toString("utf8") : arg));
    const pending = startCall(channel, "redis", name, request);
    const result = send(...args);
    command.promise.then(
      (reply) => pending.done(reply),
      (error: Error) => pending.failed(redisError(error)),
    );
    return result;
  };
  return client;
}

/** A Redis error reply as its prefix (ERR, WRONGTYPE...): the rest is prose that servers word differently. */
function redisError(error: Error & { code?: string }): unknown {
  if (error?.name === "ReplyError")
    return { name: "ReplyError", code: /^[A-Z]+/.exec(error.message)?.[0] ?? "ERR" };
  return error;
}

interface WorkflowHandleLike {
  workflowId: string;
  result: AnyFunction;
  [key: string]: unknown;
}

const workflowTypeOf = (type: unknown) =>
  typeof type === "function" ? (type as { name: string }).name : String(type);

/** Traces the Temporal workflow client: workflow type, outcome and failure type of what a test starts. */
export function traceTemporalClient<T extends { workflow: object }>(client: T, channel: string): T {
  const workflow = client.workflow as {
    start: AnyFunction;
    execute: AnyFunction;
    getHandle: AnyFunction;
  };
  const handleOf = (handle: WorkflowHandleLike, workflowType: string | undefined): WorkflowHandleLike =>
    new Proxy(handle, {
      get(target, property) {
        const value = Reflect.get(target, property, target) as unknown;
        if (typeof value !== "function" || typeof property !== "string") return value;
        return (...args: unknown[]) => {
          const result = (value as AnyFunction).apply(target, args);
          if (!recording() || !isPromise(result)) return result;
          const pending = startCall(channel, "temporal", property, {
            ...(workflowType ? { workflowType } : {}),
            ...(args.length > 0 ? { args } : {}),
          });
          result.then(
            (outcome) =>
              pending.done(
                property === "describe"
                  ? { status: (outcome as { status?: { name?: string } }).status?.name ?? null }
                  : (outcome ?? null),
              ),
            (error: unknown) => pending.failed(error),
          );
          return result;
        };
      },
    });
  const traced = {
    start: async (type: unknown, options: { args?: unknown[] }) => {
      const workflowType = workflowTypeOf(type);
      const pending = recording()
        ? startCall(channel, "temporal", "start", { workflowType, args: options?.args ?? [] })
        : undefined;
      try {
        const handle = (await workflow.start(type, options)) as WorkflowHandleLike;
        pending?.done({ started: true });
        return handleOf(handle, workflowType);
      } catch (error) {
        pending?.failed(error);
        throw error;
      }
    },
    execute: (type: unknown, options: { args?: unknown[] }) => {
      const workflowType = workflowTypeOf(type);
      const result = workflow.execute(type, options);
      if (!recording()) return result;
      return recordResult(
        channel,
        "temporal",
        "execute",
        { workflowType, args: options?.args ?? [] },
        result,
      );
    },
    getHandle: (...args: unknown[]) => handleOf(workflow.getHandle(...args) as WorkflowHandleLike, undefined),
  };
  return new Proxy(client, {
    get(target, property) {
      return property === "workflow" ? traced : Reflect.get(target, property, target);
    },
  });
}

/** A body as JSON when it is JSON, else as text. */
function bodyOf(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Traces an HTTP upstream's fetch: method, path, status and body of every request the code makes. */
export function traceHttpUpstream<T extends { baseUrl: string; fetch: typeof fetch }>(
  upstream: T,
  channel: string,
): T {
  const upstreamFetch = upstream.fetch;
  const traced = (async (input: string | URL | Request, init?: RequestInit) => {
    if (!recording()) return upstreamFetch(input, init);
    const request =
      input instanceof Request
        ? new Request(input, init)
        : new Request(new URL(String(input), upstream.baseUrl), init);
    const url = new URL(request.url);
    const path = `${url.pathname}${url.search}`;
    const sent = request.body ? bodyOf(await request.clone().text()) : undefined;
    const pending = startCall(channel, "http", `${request.method} ${url.pathname}`, {
      path,
      ...(sent === undefined ? {} : { body: sent }),
    });
    let response: Response;
    try {
      // The request read above, not `input`: a Request's body can be read once.
      response = await upstreamFetch(request);
    } catch (error) {
      pending.failed(error);
      throw error;
    }
    const status = response.status;
    if (!response.body) {
      pending.done({ status, body: null });
      return response;
    }
    // The body is recorded as the caller reads it, never ahead of it: a copy read eagerly (clone) would meet
    // a stream's error sooner and discard chunks the caller had not read yet.
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    const text = () => Buffer.concat(chunks).toString("utf8");
    const body: ReadableStream<Uint8Array> = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (error) {
            pending.done({ status, body: bodyOf(text()), bodyFailed: (error as Error)?.name ?? "error" });
            controller.error(error);
            return;
          }
          if (next.done) {
            pending.done({ status, body: bodyOf(text()) });
            controller.close();
            return;
          }
          chunks.push(next.value);
          controller.enqueue(next.value);
        },
        cancel(reason) {
          pending.done({ status, body: bodyOf(text()), cancelled: true });
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    const traced = new Response(body, { status, statusText: response.statusText, headers: response.headers });
    Object.defineProperty(traced, "url", { value: response.url });
    return traced;
  }) as typeof fetch;
  return new Proxy(upstream, {
    get(target, property) {
      return property === "fetch" ? traced : Reflect.get(target, property, target);
    },
  });
}
