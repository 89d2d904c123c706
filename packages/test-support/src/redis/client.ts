// The ioredis client every mode hands out: the real ioredis, with each command scoped to the environment
// (scope.ts) on its way out, its refusals and time-outs turned into TestSupportErrors on the way back.
import { type ChainableCommander, type Command, Redis, type RedisOptions } from "ioredis";
import { errorText, isTestSupportError, TestSupportError, type TestSupportErrorCode } from "../errors.js";
import { REFUSAL_MARK } from "./double/context.js";
import { type Arg, type ScopeSettings, scopeCommand, unscopeChannel } from "./scope.js";

/** What the environment's clients share: the prefix, the keys they wrote, the time bound and the target. */
export interface ClientScope {
  readonly settings: ScopeSettings;
  /** Prefixed names of every key a command may have written; reset deletes them. */
  readonly written: Set<string>;
  readonly operationTimeoutMs: number;
  /** The redacted target, for messages. */
  readonly target: string;
  /** The handed-out client and its duplicates, closed together. */
  readonly clients: Set<ScopedRedis>;
  /** The last connection error any of them saw, for messages while the server is down. */
  lastError: Error | undefined;
}

const SCOPED = Symbol("test-support.scoped");
/**
 * What a refused command is sent as inside a pipeline or transaction: a name no server knows, so the
 * pipeline's replies stay in step and a transaction is discarded (EXECABORT), as Redis does after a
 * command fails to queue; the caller still gets the refusal.
 */
const PLACEHOLDER = "test-support-refused-command";
type ScopedCommand = Command & { [SCOPED]?: true; inTransaction?: boolean };

function displayOf(command: Command): string {
  const name = command.name.toUpperCase();
  const first = command.args[0];
  const sub = typeof first === "string" && /^[a-z-]+$/i.test(first) ? ` ${first.toUpperCase()}` : "";
  return ["XGROUP", "XINFO", "CLIENT", "SCRIPT", "OBJECT", "MEMORY", "PUBSUB", "CONFIG"].includes(name)
    ? `${name}${sub}`
    : name;
}

/** The blocking time-out of a blocking command, in ms (0: waits for ever), or undefined when not blocking. */
function blockingMs(command: Command): number | undefined {
  const name = command.name.toLowerCase();
  const args = command.args.map((a) => (Buffer.isBuffer(a) ? a.toString() : String(a)));
  let seconds: number | undefined;
  if (name === "blmpop" || name === "bzmpop") seconds = Number(args[0]);
  else if (name === "xread" || name === "xreadgroup") {
    const at = args.findIndex((a) => a.toLowerCase() === "block");
    if (at < 0) return undefined;
    const ms = Number(args[at + 1]);
    return Number.isFinite(ms) ? ms : undefined;
  } else if (["blpop", "brpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax"].includes(name)) {
    seconds = Number(args[args.length - 1]);
  } else return undefined;
  return seconds !== undefined && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/** Turns what the double, the time bound or a dead connection produced into a TestSupportError. */
function convertError(error: Error, command: Command, scope: ClientScope): Error {
  if (isTestSupportError(error)) return error;
  const message = error?.message ?? "";
  if (message.startsWith(REFUSAL_MARK)) {
    const rest = message.slice(REFUSAL_MARK.length);
    const space = rest.indexOf(" ");
    const code = rest.slice(0, space) as TestSupportErrorCode;
    return new TestSupportError(code, rest.slice(space + 1), { cause: error });
  }
  if (message === "Command timed out") {
    return new TestSupportError(
      "OPERATION_TIMEOUT",
      `redis ${displayOf(command)} did not answer within ${scope.operationTimeoutMs} ms at ${scope.target}. ` +
        "The server stopped answering or is overloaded; raise the bound with operationTimeoutMs / " +
        "INTEGRATION_OPERATION_TIMEOUT_MS only if the command is legitimately slow.",
      { cause: error },
    );
  }
  if (error?.name === "MaxRetriesPerRequestError" || message === "Connection is closed.") {
    const cause = scope.lastError ? errorText(scope.lastError) : errorText(error);
    return new TestSupportError(
      "CONNECT_FAILED",
      `redis ${displayOf(command)} could not be sent to ${scope.target}: the connection is down (${cause}). ` +
        "The client keeps reconnecting and later commands go through once the server answers again.",
      { cause: error },
    );
  }
  return error;
}

/** Makes a pipeline's or transaction's exec fail loudly when the double refused one of its commands. */
function loudExec(pipeline: ChainableCommander): ChainableCommander {
  const exec = pipeline.exec.bind(pipeline);
  const refusalIn = (errors: unknown[]) => errors.find((e) => isTestSupportError(e));
  pipeline.exec = ((callback?: (error: Error | null, result?: unknown) => void) => {
    const promise = exec().then(
      (results) => {
        const refused = refusalIn((results ?? []).map(([error]) => error));
        if (refused) throw refused;
        return results;
      },
      (error: Error & { previousErrors?: unknown[] }) => {
        throw refusalIn(error?.previousErrors ?? []) ?? error;
      },
    );
    if (callback)
      promise.then(
        (r) => callback(null, r),
        (e: Error) => callback(e),
      );
    return promise;
  }) as ChainableCommander["exec"];
  return pipeline;
}

/** ioredis, scoped to one environment's prefix, with its refusals and time-outs as TestSupportErrors. */
export class ScopedRedis extends Redis {
  readonly scope: ClientScope;
  /** Reply strippers of a non-pipelined MULTI, applied to its EXEC. */
  private transaction: Array<((reply: unknown) => unknown) | undefined> | undefined;

  constructor(options: RedisOptions, scope: ClientScope) {
    // Always lazy: sendCommand below needs `scope`, which is set after super() returns.
    super({ ...options, lazyConnect: true });
    this.scope = scope;
    scope.clients.add(this);
    this.on("error", (error: Error) => {
      scope.lastError = error;
    });
    const pipeline = this.pipeline.bind(this);
    const multi = this.multi.bind(this) as (...args: unknown[]) => unknown;
    Object.assign(this, {
      pipeline: (commands?: unknown[][]) => loudExec(pipeline(commands)),
      multi: (...args: unknown[]) => {
        const result = multi(...args);
        return result instanceof Promise ? result : loudExec(result as ChainableCommander);
      },
    });
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new ScopedRedis({ ...this.options, ...override }, this.scope);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const prefix = this.scope?.settings.prefix;
    if (prefix) {
      if (
        event === "message" ||
        event === "messageBuffer" ||
        event === "smessage" ||
        event === "smessageBuffer"
      ) {
        args[0] = unscopeChannel(args[0], prefix);
      } else if (event === "pmessage" || event === "pmessageBuffer") {
        args[0] = unscopeChannel(args[0], prefix);
        args[1] = unscopeChannel(args[1], prefix);
      }
    }
    return super.emit(event, ...args);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis["sendCommand"]>[1]): unknown {
    const c = command as ScopedCommand;
    if (!c[SCOPED]) {
      c[SCOPED] = true;
      try {
        this.prepare(c);
      } catch (error) {
        const inBatch =
          (stream !== undefined && "isPipeline" in stream) ||
          c.inTransaction ||
          this.transaction !== undefined;
        if (!inBatch) {
          command.reject(error as Error);
          return command.promise;
        }
        if (this.transaction) this.transaction.push(undefined);
        const reject = command.reject.bind(command);
        command.name = PLACEHOLDER;
        command.args = [];
        command.reject = () => reject(error as Error);
        command.resolve = () => reject(error as Error);
      }
    }
    return super.sendCommand(command, stream);
  }

  private prepare(command: ScopedCommand): void {
    const scope = this.scope;
    const scoped = scopeCommand(command.name, command.args as Arg[], scope.settings);
    command.args = scoped.args as typeof command.args;
    for (const key of scoped.written) scope.written.add(key);
    const name = scoped.resolved.name;
    const strip = scoped.strip;
    if (strip) {
      const transform = command.transformReply.bind(command);
      command.transformReply = ((reply: Buffer) => strip(transform(reply))) as Command["transformReply"];
    }
    // A MULTI sent on its own (multi({ pipeline: false })): strip its EXEC's replies command by command.
    if (!command.inTransaction) {
      if (name === "multi") this.transaction = [];
      else if (name === "discard") this.transaction = undefined;
      else if (name === "exec" && this.transaction) {
        const strippers = this.transaction;
        this.transaction = undefined;
        const transform = command.transformReply.bind(command);
        command.transformReply = ((reply: Buffer) => {
          const out = transform(reply) as unknown;
          return Array.isArray(out) ? out.map((item, i) => strippers[i]?.(item) ?? item) : out;
        }) as Command["transformReply"];
      } else if (this.transaction) this.transaction.push(strip);
    }
    const reject = command.reject.bind(command);
    command.reject = (error: Error) => reject(convertError(error, command, scope));
    const blocking = blockingMs(command);
    if (blocking === undefined) command.setTimeout(scope.operationTimeoutMs);
    else if (blocking > 0) command.setTimeout(blocking + scope.operationTimeoutMs);
  }
}
