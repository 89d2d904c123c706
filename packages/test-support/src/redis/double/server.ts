// The repo-mode double: an in-process Redis that speaks RESP2 to a real ioredis client over an in-memory
// stream (no socket). Every command goes through the fidelity layer: answered exactly as Redis 7.0 does
// (on ioredis-mock's data store), or refused with a message naming the command and the modes that can run it.
import { Duplex } from "node:stream";
import { arityOk, keyPositions, type ResolvedCommand, resolveCommand } from "../commands.js";
import { unsafeReason } from "../scope.js";
import { hashCommands } from "./commands/hashes.js";
import { keyCommands } from "./commands/keys.js";
import { listCommands } from "./commands/lists.js";
import { serverCommands } from "./commands/server.js";
import { setCommands } from "./commands/sets.js";
import { stringCommands } from "./commands/strings.js";
import { zsetCommands } from "./commands/zsets.js";
import {
  Blocked,
  type CallContext,
  type CommandDefinition,
  type Connection,
  type CursorStore,
  type DoubleServices,
  PUSHED,
  Refusal,
  refusalMessage,
  refusalText,
  type ScriptScope,
} from "./context.js";
import { globMatch } from "./glob.js";
import { Keyspace } from "./keyspace.js";
import { LuaEngine } from "./lua.js";
import { encodeReply, QUEUED, type Reply, ReplyError, RequestParser } from "./resp.js";

/** Every command the double answers, by full name ("get", "client|id"). */
export const DEFINITIONS: Readonly<Record<string, CommandDefinition>> = {
  ...stringCommands,
  ...keyCommands,
  ...hashCommands,
  ...listCommands,
  ...setCommands,
  ...zsetCommands,
  ...serverCommands,
  exec: { handler: () => null },
};

// Captured at load so a suite's fake timers do not stall or speed up the double.
const defer: (fn: () => void) => void = process.nextTick.bind(process);
const startTimer = globalThis.setTimeout.bind(globalThis);
const stopTimer = globalThis.clearTimeout.bind(globalThis);

/** Commands a RESP2 connection may send while subscribed. */
const SUBSCRIBED_ALLOWED = new Set([
  "subscribe",
  "psubscribe",
  "unsubscribe",
  "punsubscribe",
  "ssubscribe",
  "sunsubscribe",
  "ping",
  "quit",
  "reset",
]);
/** Commands executed at once inside MULTI rather than queued. */
const NOT_QUEUED = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

/** Why a command the double does not implement is refused, by its group in Redis's command table. */
const GROUP_REASONS: Record<string, string> = {
  stream: "streams and consumer groups are not emulated by the double",
  geo: "geospatial commands are not emulated by the double",
  hyperloglog: "HyperLogLog's probabilistic encoding is not emulated by the double",
  bitmap: "bit-level string commands are not emulated by the double",
  scripting: "Redis functions (FUNCTION/FCALL) are not emulated by the double",
  server: "it reports or manages the server itself, which the double cannot reproduce",
  cluster: "cluster commands need a Redis Cluster",
  connection: "this connection command is not emulated by the double",
  sentinel: "sentinel commands need Redis Sentinel",
};

/** Why `resolved` is refused by the double (it has no definition). */
export function unsupportedReason(resolved: ResolvedCommand): string {
  const special: Record<string, string> = {
    watch:
      "whether a later EXEC aborts depends on exactly which writes Redis counts as touching a key, which the double does not reproduce",
    sort: "SORT's BY/GET patterns and ordering options are not emulated by the double",
    sort_ro: "SORT's BY/GET patterns and ordering options are not emulated by the double",
    dump: "DUMP's serialization format is Redis's RDB encoding, which the double does not produce",
    restore: "RESTORE takes Redis's RDB encoding, which the double does not read",
    object: "object encodings and idle times are internals of the real server",
    lcs: "LCS is not emulated by the double",
    "script|debug": "the Lua debugger needs a real server",
    spublish: "sharded pub/sub is not emulated by the double",
    ssubscribe: "sharded pub/sub is not emulated by the double",
    sunsubscribe: "sharded pub/sub is not emulated by the double",
    "pubsub|shardchannels": "sharded pub/sub is not emulated by the double",
    "pubsub|shardnumsub": "sharded pub/sub is not emulated by the double",
    wait: "replication acknowledgements need a real server",
    info: "INFO reports a real server's state",
    command: "COMMAND reports a real server's command table",
    memory: "memory usage is an internal of the real server",
    "client|list": "it lists a real server's clients",
    "client|info": "it reports a real server's view of the connection",
  };
  const top = resolved.name.split("|")[0] as string;
  return (
    special[resolved.name] ??
    special[top] ??
    GROUP_REASONS[resolved.entry.group] ??
    GROUP_REASONS[resolved.container?.group ?? ""] ??
    "it is not emulated by the double"
  );
}

class InProcessSocket extends Duplex {
  readonly connecting = false;
  constructor(
    private readonly onRequest: (chunk: Buffer) => void,
    private readonly onClose: () => void,
  ) {
    super({ allowHalfOpen: false });
  }
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.onRequest(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    callback();
  }
  override _final(callback: (error?: Error | null) => void): void {
    this.onClose();
    this.push(null);
    callback();
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.onClose();
    callback(error);
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
}

interface Waiter {
  conn: Conn;
  blocked: Blocked;
  timer: ReturnType<typeof setTimeout> | undefined;
}

class Conn implements Connection {
  name: string | null = null;
  multi: string[][] | null = null;
  multiFailed = false;
  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();
  closed = false;
  /** Requests waiting while the connection is blocked. */
  readonly pending: string[][] = [];
  waiting: Waiter | undefined;
  readonly parser = new RequestParser();

  constructor(
    readonly id: number,
    readonly socket: InProcessSocket,
  ) {}

  push(reply: Reply): void {
    if (this.closed) return;
    this.socket.push(Buffer.concat(encodeReply(reply)));
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.push(null);
  }
}

class Cursors implements CursorStore {
  private readonly open_ = new Map<string, { items: string[]; position: number }>();
  private next_ = 1 + Math.floor(Math.random() * 1000);

  open(items: string[]): { cursor: string; page: string[]; done: boolean } {
    const cursor = String(this.next_++);
    this.open_.set(cursor, { items, position: 0 });
    // Iterations a suite abandons are dropped after a while.
    if (this.open_.size > 1000) this.open_.delete(this.open_.keys().next().value as string);
    return { cursor, page: [], done: false };
  }

  next(cursor: string, count: number): { cursor: string; page: string[] } | undefined {
    const state = this.open_.get(cursor);
    if (!state) return undefined;
    const page = state.items.slice(state.position, state.position + count);
    state.position += count;
    if (state.position >= state.items.length) {
      this.open_.delete(cursor);
      return { cursor: "0", page };
    }
    // A new cursor per page, as a real cursor changes between calls.
    this.open_.delete(cursor);
    const nextCursor = String(this.next_++);
    this.open_.set(nextCursor, state);
    return { cursor: nextCursor, page };
  }
}

/** The repo-mode Redis of one environment's dependency. */
export class RedisDouble implements DoubleServices {
  readonly ks = new Keyspace();
  readonly scripts = new Map<string, string>();
  readonly cursors = new Cursors();
  private readonly conns = new Map<number, Conn>();
  private nextId = 1;
  private lua: LuaEngine | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly readyKeys = new Set<string>();

  constructor() {
    this.ks.onWrite = (key) => {
      if (this.waiters.length > 0) this.readyKeys.add(key);
    };
  }

  /** A new client connection: the stream ioredis talks over. */
  connect(): Duplex {
    const id = this.nextId++;
    let conn: Conn;
    const socket = new InProcessSocket(
      (chunk) => {
        const requests = conn.parser.push(chunk);
        if (requests.length > 0) defer(() => this.receive(conn, requests));
      },
      () => this.disconnect(conn),
    );
    conn = new Conn(id, socket);
    this.conns.set(id, conn);
    return socket;
  }

  /** Closes every connection (the environment is closing). */
  shutdown(): void {
    for (const conn of [...this.conns.values()]) {
      conn.end();
      this.disconnect(conn);
    }
  }

  connections(): Iterable<Connection> {
    return this.conns.values();
  }

  private disconnect(conn: Conn): void {
    conn.closed = true;
    this.conns.delete(conn.id);
    if (conn.waiting) this.unblock(conn.waiting);
  }

  private receive(conn: Conn, requests: string[][]): void {
    conn.pending.push(...requests);
    this.drain(conn);
  }

  /** Runs a connection's pending requests until it blocks or has none. */
  private drain(conn: Conn): void {
    while (!conn.closed && !conn.waiting && conn.pending.length > 0) {
      const argv = conn.pending.shift() as string[];
      const result = this.execute(conn, argv);
      if (result instanceof Blocked) {
        this.block(conn, result);
      } else if (result !== PUSHED) {
        conn.push(result);
      }
      this.serveBlocked();
    }
  }

  private block(conn: Conn, blocked: Blocked): void {
    const waiter: Waiter = { conn, blocked, timer: undefined };
    if (blocked.timeoutMs > 0) {
      waiter.timer = startTimer(() => {
        this.unblock(waiter);
        conn.push(blocked.onTimeout);
        this.drain(conn);
      }, blocked.timeoutMs);
    }
    conn.waiting = waiter;
    this.waiters.push(waiter);
  }

  private unblock(waiter: Waiter): void {
    if (waiter.timer) stopTimer(waiter.timer);
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    waiter.conn.waiting = undefined;
  }

  /** Serves clients blocked on keys that were written, in the order they blocked, like Redis 7. */
  private serveBlocked(): void {
    while (this.readyKeys.size > 0 && this.waiters.length > 0) {
      const key = this.readyKeys.values().next().value as string;
      this.readyKeys.delete(key);
      for (const waiter of [...this.waiters]) {
        if (!waiter.blocked.keys.includes(key) || !this.waiters.includes(waiter)) continue;
        let reply: Reply | undefined;
        try {
          reply = waiter.blocked.retry();
        } catch (error) {
          reply = this.errorReply(error);
        }
        if (reply === undefined) continue;
        this.unblock(waiter);
        waiter.conn.push(reply);
        defer(() => this.drain(waiter.conn));
      }
    }
    this.readyKeys.clear();
  }

  publish(channel: string, message: string): number {
    let receivers = 0;
    for (const conn of this.conns.values()) {
      if (conn.channels.has(channel)) {
        conn.push(["message", channel, message]);
        receivers++;
      }
    }
    for (const conn of this.conns.values()) {
      for (const pattern of conn.patterns) {
        if (globMatch(pattern, channel)) {
          conn.push(["pmessage", pattern, channel, message]);
          receivers++;
        }
      }
    }
    return receivers;
  }

  private errorReply(error: unknown): ReplyError {
    if (error instanceof ReplyError) return error;
    if (error instanceof Refusal) return new ReplyError(refusalText(error.code, refusalMessage(error)));
    const refusal = new Refusal(
      "(an internal error of the double)",
      `the double failed unexpectedly (${(error as Error)?.message ?? String(error)}); please report it`,
    );
    return new ReplyError(refusalText("UNSUPPORTED_BY_DOUBLE", refusalMessage(refusal)));
  }

  /** One command line from a connection: errors and refusals come back as error replies. */
  execute(conn: Conn, argv: string[]): Reply | Blocked | typeof PUSHED {
    const resolved = resolveCommand(argv);
    const flagTransaction = () => {
      if (conn.multi) conn.multiFailed = true;
    };
    if (!resolved) {
      flagTransaction();
      const args = argv
        .slice(1)
        .map((a) => `'${a}' `)
        .join("");
      return new ReplyError(`ERR unknown command '${argv[0]}', with args beginning with: ${args}`);
    }
    if (resolved.entry.subcommands && !resolved.container) {
      flagTransaction();
      if (argv.length === 1)
        return new ReplyError(`ERR wrong number of arguments for '${resolved.name}' command`);
      return new ReplyError(`ERR unknown subcommand '${argv[1]}'. Try ${resolved.name.toUpperCase()} HELP.`);
    }
    if (!arityOk(resolved.entry, argv.length)) {
      flagTransaction();
      return new ReplyError(`ERR wrong number of arguments for '${resolved.name}' command`);
    }
    const name = resolved.name.split("|")[0] as string;
    if (conn.channels.size + conn.patterns.size > 0 && !SUBSCRIBED_ALLOWED.has(name)) {
      flagTransaction();
      return new ReplyError(
        `ERR Can't execute '${resolved.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
      );
    }
    if (conn.multi && !NOT_QUEUED.has(name)) {
      if (!DEFINITIONS[resolved.name]) {
        flagTransaction();
        return this.errorReply(this.refusalFor(resolved));
      }
      conn.multi.push(argv);
      return QUEUED;
    }
    if (resolved.name === "exec") return this.exec(conn);
    return this.run(conn, resolved, argv, false);
  }

  private refusalFor(resolved: ResolvedCommand): Refusal {
    const unsafe = unsafeReason(resolved.name);
    if (unsafe) return new Refusal(resolved.display, `it ${unsafe}`, "UNSAFE_COMMAND");
    return new Refusal(resolved.display, unsupportedReason(resolved));
  }

  private context(conn: Conn, inExec: boolean, script: ScriptScope | undefined): CallContext {
    return { ks: this.ks, conn, script, inExec, mayBlock: !inExec && !script, server: this };
  }

  private run(
    conn: Conn,
    resolved: ResolvedCommand,
    argv: string[],
    inExec: boolean,
  ): Reply | Blocked | typeof PUSHED {
    const definition = DEFINITIONS[resolved.name];
    if (!definition) return this.errorReply(this.refusalFor(resolved));
    try {
      return definition.handler(
        this.context(conn, inExec, undefined),
        argv.slice(resolved.container ? 2 : 1),
      );
    } catch (error) {
      return this.errorReply(error);
    }
  }

  private exec(conn: Conn): Reply {
    if (!conn.multi) return new ReplyError("ERR EXEC without MULTI");
    const queued = conn.multi;
    const failed = conn.multiFailed;
    conn.multi = null;
    conn.multiFailed = false;
    if (failed) return new ReplyError("EXECABORT Transaction discarded because of previous errors.");
    const results: Reply[] = [];
    for (const argv of queued) {
      const resolved = resolveCommand(argv) as ResolvedCommand;
      const result = this.run(conn, resolved, argv, true);
      if (result === PUSHED || result instanceof Blocked) {
        return this.errorReply(
          new Refusal(`${resolved.display} inside MULTI`, "it is not reproduced inside a transaction"),
        );
      }
      // A refusal inside the transaction refuses the whole EXEC: its other replies cannot stand alone.
      if (result instanceof ReplyError && result.message.startsWith("TESTSUPPORT:")) return result;
      results.push(result);
    }
    return results;
  }

  /** A command run by a script's redis.call: the reply, or throws ReplyError / Refusal. */
  private scriptCall(ctx: CallContext, argv: string[]): Reply {
    const resolved = resolveCommand(argv);
    if (!resolved) throw new ReplyError("ERR Unknown Redis command called from script");
    if ((resolved.entry.subcommands && !resolved.container) || !arityOk(resolved.entry, argv.length)) {
      throw new ReplyError("ERR Wrong number of args calling Redis command from script");
    }
    if (resolved.entry.flags.includes("noscript")) {
      throw new ReplyError("ERR This Redis command is not allowed from script");
    }
    if (ctx.script?.readOnly && resolved.entry.flags.includes("write")) {
      throw new ReplyError("ERR Write commands are not allowed from read-only scripts.");
    }
    const unsafe = unsafeReason(resolved.name);
    const unscoped = ["keys", "scan", "randomkey", "dbsize"].includes(resolved.name);
    if (unsafe || unscoped) {
      throw new Refusal(
        `${resolved.display} inside a Lua script`,
        unsafe
          ? `it ${unsafe}`
          : "a script's key scans are not scoped to the environment's prefix (in cluster mode they would see every key of the shared database)",
        "UNSAFE_COMMAND",
      );
    }
    const { keys } = keyPositions(resolved, argv);
    for (const { index } of keys) {
      const key = argv[index] as string;
      if (!ctx.script?.keys.has(key)) {
        throw new Refusal(
          `${resolved.display} of key ${JSON.stringify(key)} inside a Lua script`,
          "the key is not among the script's KEYS, so the environment's prefix was not applied to it (in cluster mode the script would touch an unprefixed key of the shared server, outside reset's reach); pass every key a script touches in KEYS, as Redis requires",
          "UNSAFE_COMMAND",
        );
      }
    }
    const definition = DEFINITIONS[resolved.name];
    if (!definition || resolved.name === "exec") throw this.refusalFor(resolved);
    const result = definition.handler(ctx, argv.slice(resolved.container ? 2 : 1));
    if (result === PUSHED || result instanceof Blocked) {
      throw new Refusal(`${resolved.display} inside a Lua script`, "it is not reproduced inside scripts");
    }
    if (result instanceof ReplyError) throw result;
    return result;
  }

  runScript(ctx: CallContext, body: string, keys: string[], args: string[], readOnly: boolean): Reply {
    this.lua ??= new LuaEngine((scriptCtx, argv) => this.scriptCall(scriptCtx, argv));
    const scope: ScriptScope = { keys: new Set(keys), readOnly };
    return this.lua.eval(this.context(ctx.conn as Conn, ctx.inExec, scope), body, keys, args);
  }

  compileScript(body: string): void {
    this.lua ??= new LuaEngine((scriptCtx, argv) => this.scriptCall(scriptCtx, argv));
    this.lua.compile(body);
  }

  /** Deletes every key (reset: the double holds only this environment's keys). */
  flush(): void {
    this.ks.flush();
  }
}
