import { Blocked, type CallContext, Refusal } from "../context.js";
import { realNow } from "../keyspace.js";
import { int64Arg, parseDouble, parseInt64, UnsupportedNumber } from "../numbers.js";
import { type Reply, ReplyError } from "../resp.js";

export const SYNTAX = "ERR syntax error";

export function syntaxError(): ReplyError {
  return new ReplyError(SYNTAX);
}

export function arityError(name: string): ReplyError {
  return new ReplyError(`ERR wrong number of arguments for '${name}' command`);
}

/** Case-insensitive token comparison, as Redis's strcasecmp. */
export function is(arg: string | undefined, token: string): boolean {
  return arg !== undefined && arg.toLowerCase() === token.toLowerCase();
}

/** getExpireMillisecondsOrReply of SET/GETEX: the absolute expiry in ms, or the reply error. */
export function expireAt(text: string, unit: "s" | "ms", relative: boolean, command: string): number {
  let value = int64Arg(text);
  const invalid = () => new ReplyError(`ERR invalid expire time in '${command}' command`);
  if (value <= 0n || (unit === "s" && value > INT64_MAX / 1000n)) throw invalid();
  if (unit === "s") value *= 1000n;
  if (relative) value += BigInt(realNow());
  if (value > INT64_MAX) throw invalid();
  return safeMs(value, command);
}

/** An expiry in ms as a JS number; beyond 2^53 ms (year 287,000) the double refuses rather than round. */
export function safeMs(value: bigint, command: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Refusal(
      `${command.toUpperCase()} with an expiry beyond 2^53 ms`,
      "the double keeps times as JS numbers",
    );
  }
  return Number(value);
}

export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

/** getDoubleFromObject (ZADD scores, increments): a finite-or-infinite double, never NaN. */
export function doubleArg(text: string, what: string, message = "ERR value is not a valid float"): number {
  try {
    const value = parseDouble(text);
    if (value === undefined) throw new ReplyError(message);
    return value;
  } catch (error) {
    if (error instanceof UnsupportedNumber) {
      throw new Refusal(
        `${what} with the number ${JSON.stringify(text)}`,
        "C hexadecimal floats are not parsed by the double",
      );
    }
    throw error;
  }
}

/** getTimeoutFromObjectOrReply of blocking commands: seconds (fractions allowed), in ms. */
export function timeoutArg(text: string, what: string): number {
  let seconds: number;
  try {
    const parsed = parseDouble(text);
    if (parsed === undefined || !Number.isFinite(parsed))
      throw new ReplyError("ERR timeout is not a float or out of range");
    seconds = parsed;
  } catch (error) {
    if (error instanceof UnsupportedNumber)
      throw new Refusal(`${what} with timeout ${text}`, "hexadecimal timeouts are not parsed");
    throw error;
  }
  // Redis truncates to whole milliseconds: 0.0001 s is 0 ms, which blocks forever.
  const ms = Math.trunc(seconds * 1000);
  if (ms < 0) throw new ReplyError("ERR timeout is negative");
  return ms;
}

/**
 * The end of every blocking command: the reply `attempt` gives now, else a wait on `keys` (0 ms: forever), or
 * nil where the client may not block (inside MULTI, in scripts).
 */
export function serveOrBlock(
  ctx: CallContext,
  keys: string[],
  timeoutMs: number,
  attempt: () => Reply | undefined,
): Reply | Blocked {
  const served = attempt();
  if (served !== undefined) return served;
  if (!ctx.mayBlock) return null;
  return new Blocked(keys, timeoutMs, attempt);
}

/**
 * The arguments of LMPOP/BLMPOP and ZMPOP/BZMPOP, checked in Redis's order: [timeout] numkeys key... where
 * [COUNT count]; `whereArg` reads the direction (LEFT|RIGHT or MIN|MAX). The count defaults to 1.
 */
export function mpopArgs<W>(
  args: string[],
  blocking: boolean,
  what: string,
  whereArg: (text: string | undefined) => W,
): { timeout: number; keys: string[]; where: W; count: number } {
  let index = 0;
  let timeout = 0;
  if (blocking) {
    timeout = timeoutArg(args[0] as string, what);
    index = 1;
  }
  const numkeys = parseInt64(args[index] as string);
  if (numkeys === undefined || numkeys < 1n) throw new ReplyError("ERR numkeys should be greater than 0");
  const whereIndex = index + Number(numkeys) + 1;
  if (whereIndex >= args.length) throw syntaxError();
  const keys = args.slice(index + 1, whereIndex);
  const where = whereArg(args[whereIndex]);
  let count = -1;
  for (let j = whereIndex + 1; j < args.length; j++) {
    if (count === -1 && is(args[j], "count") && j + 1 < args.length) {
      const parsed = parseInt64(args[++j] as string);
      if (parsed === undefined || parsed < 1n) throw new ReplyError("ERR count should be greater than 0");
      count = Number(parsed);
    } else throw syntaxError();
  }
  return { timeout, keys, where, count: count === -1 ? 1 : count };
}

/** getPositiveLongFromObjectOrReply with Redis's message for counts of LPOP and friends. */
export function positiveCount(text: string): number {
  const value = parseInt64(text);
  if (value === undefined || value < 0n) throw new ReplyError("ERR value is out of range, must be positive");
  return Number(value);
}

/** Sorts integer-like members ascending when the set would be an intset in Redis (all integers, at most 512). */
export function intsetOrder(members: string[]): string[] {
  if (members.length > 512) return members;
  const values: bigint[] = [];
  for (const member of members) {
    const value = parseInt64(member);
    if (value === undefined) return members;
    values.push(value);
  }
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}

/** True when the set is stored as an intset in Redis 7.0 (every member an integer, at most 512). */
export function isIntset(members: Iterable<string>): boolean {
  let count = 0;
  for (const member of members) {
    if (++count > 512 || parseInt64(member) === undefined) return false;
  }
  return true;
}

/** Picks `count` distinct random items (Fisher–Yates on a copy). */
export function sample<T>(items: T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}
