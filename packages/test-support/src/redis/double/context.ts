import type { Keyspace } from "./keyspace.js";
import type { Reply } from "./resp.js";

/** Modes that run a real Redis, named in every refusal. */
export const REAL_MODES =
  "--mode=local (a redis-server the run starts itself) or --mode=cluster (your Redis)";

/**
 * Thrown by a handler for a command or option the repo double cannot answer exactly as Redis 7 does. The
 * client turns it into a TestSupportError with code UNSUPPORTED_BY_DOUBLE.
 */
export class Refusal extends Error {
  constructor(
    /** What was refused, e.g. "SET with KEEPTTL" or "BLPOP on an empty list". */
    readonly what: string,
    /** Why it cannot be reproduced faithfully. */
    readonly why: string,
    /** UNSAFE_COMMAND when the call would reach outside the environment rather than be unreproducible. */
    readonly code: "UNSUPPORTED_BY_DOUBLE" | "UNSAFE_COMMAND" = "UNSUPPORTED_BY_DOUBLE",
  ) {
    super(`redis ${what} is refused by the repo-mode double: ${why}`);
  }
}

/** The text the double sends for a refusal; the client recognises the first word and rebuilds the error. */
export const REFUSAL_MARK = "TESTSUPPORT:";

export function refusalText(code: "UNSUPPORTED_BY_DOUBLE" | "UNSAFE_COMMAND", message: string): string {
  return `${REFUSAL_MARK}${code} ${message}`;
}

/** The full message of a refusal: the command, that the double cannot reproduce it, and the modes that can. */
export function refusalMessage(refusal: Refusal): string {
  if (refusal.code === "UNSAFE_COMMAND") return `redis ${refusal.what} is refused: ${refusal.why}.`;
  return (
    `redis ${refusal.what} cannot be reproduced faithfully by the repo-mode Redis double (ioredis-mock behind ` +
    `test-support's fidelity layer): ${refusal.why}. Rather than answer differently from Redis 7, it refuses. ` +
    `Run this suite with ${REAL_MODES}, or declare it with describeInModes(["local", "cluster"], ...).`
  );
}

/** One client connection to the double. */
export interface Connection {
  readonly id: number;
  name: string | null;
  /** Queued commands while in MULTI, or null. */
  multi: string[][] | null;
  /** A command failed to queue: EXEC answers EXECABORT. */
  multiFailed: boolean;
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
  /** Sends a reply or a pushed message to this connection. */
  push(reply: Reply): void;
  /** Closes the connection after the replies so far (QUIT). */
  end(): void;
  closed: boolean;
}

/** What a running Lua script adds to a call. */
export interface ScriptScope {
  /** The keys the script declared (KEYS), prefixed. */
  readonly keys: ReadonlySet<string>;
  /** EVAL_RO / EVALSHA_RO. */
  readonly readOnly: boolean;
}

/** Everything a command handler can reach. */
export interface CallContext {
  readonly ks: Keyspace;
  readonly conn: Connection;
  /** Set while a Lua script runs the command. */
  readonly script: ScriptScope | undefined;
  /** Set while EXEC runs queued commands: blocking commands do not block. */
  readonly inExec: boolean;
  /** True when a blocking command may block (not in EXEC or a script). */
  readonly mayBlock: boolean;
  /** The double itself, for pub/sub, scripts and cursors. */
  readonly server: DoubleServices;
}

/** What handlers need from the double beyond the keyspace. */
export interface DoubleServices {
  publish(channel: string, message: string): number;
  connections(): Iterable<Connection>;
  scripts: Map<string, string>;
  /** Runs a Lua script (EVAL and friends): the reply, or throws ReplyError / Refusal. */
  runScript(ctx: CallContext, body: string, keys: string[], args: string[], readOnly: boolean): Reply;
  /** Compiles a script (SCRIPT LOAD), throwing the compile error as Redis words it. */
  compileScript(body: string): void;
  cursors: CursorStore;
}

/** Snapshots behind SCAN-family cursors, so a full iteration returns every element present throughout. */
export interface CursorStore {
  open(items: string[]): { cursor: string; page: string[]; done: boolean };
  next(cursor: string, count: number): { cursor: string; page: string[] } | undefined;
}

/**
 * What a blocking command returns when it has to wait: the keys it waits on, for how long (0: forever), and
 * how to try again (undefined: still nothing to serve).
 */
export class Blocked {
  constructor(
    readonly keys: string[],
    readonly timeoutMs: number,
    readonly retry: () => Reply | undefined,
    /** The reply when the timeout passes. */
    readonly onTimeout: Reply = null,
  ) {}
}

/** Returned by a handler that already pushed its replies itself (SUBSCRIBE sends one per channel). */
export const PUSHED = Symbol("pushed");

/** A command the double answers. */
export type Handler = (ctx: CallContext, args: string[]) => Reply | Blocked | typeof PUSHED;

/** A command the double answers, and what of it is refused (for the generated docs). */
export interface CommandDefinition {
  handler: Handler;
  /** Options or situations it refuses and why, for the docs. */
  refuses?: ReadonlyArray<readonly [string, string]>;
  /** What the docs say about how it answers (a caveat, e.g. paging of SCAN), if anything. */
  note?: string;
}
